// Event-loop utilization: the share of wall time the loop spent running
// JavaScript or callbacks rather than waiting in the poller. It is the
// saturation signal for a Node.js process (CPU% also counts GC threads and
// cannot tell "busy" from "blocked"), and the HPA's custom metric.
//
// Exposed two ways:
//   nodejs_eventloop_active_seconds_total  a counter; rate() over any window is
//                                          the ELU, whoever scrapes and however often
//   nodejs_eventloop_utilization_ratio     a gauge over the last 10 s, for
//                                          humans and for checks that read one value
import { performance } from 'node:perf_hooks';

type Elu = ReturnType<typeof performance.eventLoopUtilization>;

const WINDOW_S = 10;

export class EventLoopUtilization {
  #samples: Elu[] = [];
  #timer: NodeJS.Timeout;

  constructor() {
    this.#samples.push(performance.eventLoopUtilization());
    // One cheap call per second; unref'd so it never keeps the process alive.
    this.#timer = setInterval(() => this.#tick(), 1000).unref();
  }

  #tick(): void {
    this.#samples.push(performance.eventLoopUtilization());
    if (this.#samples.length > WINDOW_S + 1) this.#samples.shift();
  }

  /** ELU between the oldest kept sample (≤ 10 s ago) and now. */
  get utilization(): number {
    const oldest = this.#samples[0] as Elu;
    return performance.eventLoopUtilization(performance.eventLoopUtilization(), oldest).utilization;
  }

  /** Total busy time since the process started, in seconds. */
  get activeSeconds(): number {
    return performance.eventLoopUtilization().active / 1000;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
