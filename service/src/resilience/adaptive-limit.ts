// The in-flight limit admission control enforces: `admission.maxInFlight`,
// lowered while connections are already waiting and the event loop is
// queueing work anyway, raised back as soon as either stops.
//
// Why: once connections are held, every response pays for a hold and a
// release whatever the limit is, and the requests in the process beyond what
// keeps the event loop busy only wait in the heap. There they outlive the
// young-generation scavenges, get promoted and marked, and the garbage
// collector's share grows: at 10,000 connections on /api/sleep?ms=10 the
// process held ~1,000 requests where ~200 keep its core busy, and GC took
// 14–16 % of its CPU (7–11 % adapted). Lowering the limit while the loop's own
// queueing delay is above the target keeps about what the loop needs in the
// process: throughput at 10,000 connections rose 8–18 % in the interleaved
// runs the host let through (docs/load-testing.md, "The adaptive limit").
//
// Why only then: below the limit nothing is held and a lower limit would
// start holding (a pause and a resume per response, which cost more than the
// GC they save: measured at 1,000 connections). And when the loop is not
// queueing — requests waiting on I/O, not on the CPU — fewer in flight would
// only cap throughput, so the limit climbs back to maxInFlight.
//
// It costs nothing until the first connection is held: the delay histogram
// and the control timer run only while connections are held or the limit is
// below maxInFlight.
import { type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';

/** The lowest the adapted limit goes (or maxInFlight, if lower): never starve the process. */
export const MIN_ADAPTED_LIMIT = 50;
/** Each control step lowers the limit by this factor when the loop is queueing... */
export const DECREASE = 0.9;
/** ...and raises it by this one when it is not (or nothing is held). */
export const INCREASE = 1.05;
/**
 * The loop "is not queueing" below this share of the target: on time to a
 * millisecond or so, as when it has idle time. Between this and the target
 * the limit stays; a narrow band (half the target was tried) made it swing
 * between its floor and maxInFlight every few seconds at 10,000 connections.
 */
export const RAISE_BELOW = 0.25;

export interface AdaptiveLimitOptions {
  /** admission.maxInFlight: the most the limit can be; 0 turns admission control off. Read at every step. */
  cap: () => number;
  /** admission.targetEventLoopDelayMs: the loop's queueing delay tolerated while holding; 0 keeps the limit at cap. */
  targetDelayMs: () => number;
  /** Whether connections are held right now. */
  holding: () => boolean;
  /** Called with the limit whenever it changes (a gauge). */
  onChange?: (limit: number) => void;
  /** How often the limit is adjusted while it adapts (ms). */
  stepMs?: number;
}

export class AdaptiveLimit {
  // The adapted limit; the one in force is never above the cap.
  #adapted = Number.POSITIVE_INFINITY;
  #heldSinceStep = false;
  #histogram: IntervalHistogram | undefined;
  #timer: NodeJS.Timeout | undefined;
  // The histogram's running totals at the last step.
  #last = { count: 0, sum: 0, at: 0 };
  readonly #o: AdaptiveLimitOptions & { stepMs: number };
  // The histogram's timer granularity: its mean is the loop's period, this plus the delay.
  static readonly RESOLUTION_MS = 5;

  constructor(options: AdaptiveLimitOptions) {
    this.#o = { stepMs: 200, ...options };
  }

  /** The limit in force: 0 when admission control is off. */
  get limit(): number {
    const cap = this.#o.cap();
    return cap > 0 && this.#adapted < cap ? this.#adapted : cap;
  }

  /** Is the limit adapting (its timer running)? */
  get adapting(): boolean {
    return this.#timer !== undefined;
  }

  /** A connection was just held: the limit is binding, so start adapting if not already. */
  held(): void {
    this.#heldSinceStep = true;
    if (this.#timer || this.#o.targetDelayMs() <= 0 || this.#o.cap() <= 0) return;
    this.#histogram = monitorEventLoopDelay({ resolution: AdaptiveLimit.RESOLUTION_MS });
    this.#histogram.enable();
    this.#last = { count: 0, sum: 0, at: performance.now() };
    this.#timer = setInterval(this.#onStep, this.#o.stepMs).unref();
  }

  /** Stop adapting: back to the cap. */
  stop(): void {
    this.#histogram?.disable();
    this.#histogram = undefined;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#set(Number.POSITIVE_INFINITY);
  }

  readonly #onStep = (): void => {
    this.step(this.#delaySinceStep());
    // Back at the cap with nothing held, or adapting switched off by a reload
    // (the limit is then the cap, held or not): nothing left to adapt.
    if (this.#adapted >= this.#o.cap() && (!this.#o.holding() || this.#o.targetDelayMs() <= 0)) this.stop();
  };

  /**
   * How late the loop got back to the histogram's timer, on average, since
   * the last step: the mean period between its callbacks less the period
   * asked for. From the running totals, not by resetting the histogram each
   * step (after a reset it drops the next period, which is most of them when
   * the loop is blocked for long). No callback at all since the last step:
   * the loop was blocked for all of it.
   */
  #delaySinceStep(): number {
    const h = this.#histogram;
    if (!h) return 0;
    const now = performance.now();
    const count = h.count;
    const sum = count > 0 ? h.mean * count : 0;
    const periods = count - this.#last.count;
    const delay =
      periods > 0
        ? (sum - this.#last.sum) / periods / 1e6 - AdaptiveLimit.RESOLUTION_MS
        : now - this.#last.at - AdaptiveLimit.RESOLUTION_MS;
    this.#last = { count, sum, at: now };
    return Math.max(0, delay);
  }

  /**
   * One control step (public for tests): the loop's queueing delay over the
   * last interval. Lower the limit while connections wait and the loop
   * queues past the target; raise it when the loop keeps up (below a quarter
   * of the target) or nothing was held; otherwise keep it.
   */
  step(delayMs: number): void {
    const cap = this.#o.cap();
    const target = this.#o.targetDelayMs();
    const binding = this.#heldSinceStep || this.#o.holding();
    this.#heldSinceStep = false;
    if (cap <= 0 || target <= 0) {
      this.#set(Number.POSITIVE_INFINITY);
      return;
    }
    const current = Math.min(this.#adapted, cap);
    if (binding && delayMs > target) {
      this.#set(Math.max(Math.min(MIN_ADAPTED_LIMIT, cap), Math.round(current * DECREASE)));
    } else if (!binding || delayMs < target * RAISE_BELOW) {
      // At least one more, so a small limit climbs too.
      const raised = Math.max(current + 1, Math.round(current * INCREASE));
      this.#set(raised >= cap ? Number.POSITIVE_INFINITY : raised);
    }
  }

  #set(adapted: number): void {
    const before = this.limit;
    this.#adapted = adapted;
    if (this.limit !== before) this.#o.onChange?.(this.limit);
  }
}
