// Admission control: at most `maxInFlight` app requests in the process at
// once. Over the limit, a keep-alive connection whose response just finished
// is not read again until there is room, so its next request waits in the
// kernel's socket buffer instead of in the heap. Nothing is refused and
// nothing is lost: the request is read, in arrival order, a moment later.
//
// Why: the event loop reads every socket that has data in one poll phase. With
// 10,000 busy connections that is up to 10,000 requests parsed and parked at
// once, and the garbage collector then copies every parked request's objects
// while they wait: at 10,000 connections it took ~40% of the service's CPU,
// which served 0.56–0.82 of its 1,000-connection throughput. Holding the reads
// keeps each batch at the limit: 0.73 -> 0.90 in interleaved runs with it off
// and on (docs/load-testing.md).
//
// Below the limit it costs one call per response and no state of its own: it
// reads the in-flight count the app's request telemetry keeps anyway, which
// also tells it when a response closes (app.ts). While it holds connections,
// the limit adapts: lowered as long as the event loop queues work anyway
// (adaptive-limit.ts).
// Load shedding (load-shedding.ts) still answers 503 when the event loop
// itself falls behind; this only decides when a connection is read next.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import fp from 'fastify-plugin';
import type { RuntimeConfigStore } from '../config/runtime-config.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import type { ServiceMetrics } from '../telemetry/metrics/registry.js';
import { AdaptiveLimit } from './adaptive-limit.js';

const kHeld = Symbol('periscope.admission.held');
const kGuarded = Symbol('periscope.admission.guarded');

type Conn = Socket & { [kHeld]?: boolean; [kGuarded]?: boolean };

/**
 * A held socket stays held. Node's HTTP server resumes a socket's reads from
 * places of its own (draining a request body the handler never read, say), on
 * the socket's `resume` event; this listener runs after Node's and stops the
 * reads again. Node stops reading on the `pause` event, which `pause()` only
 * emits when the stream was flowing — and a resume scheduled before the hold
 * arrives when it is not — so then the event is announced directly.
 */
function keepHeld(this: Conn): void {
  if (!this[kHeld]) return;
  if (this.isPaused()) this.emit('pause');
  else this.pause();
}

/** The response's connection if it stays open for another request (not `Connection: close`, not draining). */
function keptAlive(res: ServerResponse): Conn | undefined {
  return res.shouldKeepAlive ? (res.req.socket as Conn) : undefined;
}

export interface AdmissionControlOptions {
  /** The limit in force; read at every decision, so it can be hot-reloaded. 0 turns admission control off. */
  maxInFlight: () => number;
  /** Requests in the server now, counted by whoever calls requestFinished (already decremented for that response). */
  inFlight: () => number;
  /** Called once per connection held (a counter, say). */
  onHold?: () => void;
  /** Called with the number of held connections whenever it changes (a gauge). */
  onHeldChange?: (held: number) => void;
  /** How often held connections are re-checked when no response finishes to release them (ms). */
  sweepMs?: number;
}

export class AdmissionControl {
  // A FIFO of held sockets: an array and a head index (shift() is O(n)).
  #held: Conn[] = [];
  #head = 0;
  // Released in this turn of the event loop: their requests are read in its
  // poll phase, and until then the in-flight count does not show them. Reset
  // after the poll phase (setImmediate), not at the sweep: between two sweeps
  // hundreds of one-out-one-in releases are read and answered, and counting
  // them kept the sweep from ever filling a raised limit.
  #released = 0;
  #readSoon: NodeJS.Immediate | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #o: Required<Pick<AdmissionControlOptions, 'sweepMs'>> & AdmissionControlOptions;

  constructor(options: AdmissionControlOptions) {
    this.#o = { sweepMs: 50, ...options };
  }

  /** Requests in the server now. */
  get inFlight(): number {
    return this.#o.inFlight();
  }

  /** Connections whose next request is waiting to be read. */
  get held(): number {
    return this.#held.length - this.#head;
  }

  /** A response closed (sent, or the client went away): hold its connection, or let a held one go. */
  requestFinished(res: ServerResponse): void {
    const inFlight = this.#o.inFlight();
    const limit = this.#limit();
    if (limit <= 0) {
      // Off (or lowered to 0 by a reload): everyone goes.
      this.#resume(Number.POSITIVE_INFINITY);
    } else if (inFlight >= limit || this.held > 0) {
      // First come, first served: while others wait, this connection queues
      // behind them, and the longest-waiting one goes if there is room (one
      // out, one in). Letting the connection that just finished go on instead
      // would serve the lucky ones again and again and leave the rest the tail.
      this.#hold(keptAlive(res));
      if (inFlight < limit) this.#resume(1);
    }
  }

  /** From now on hold nothing, and read every held connection (shutdown: their requests get answered). */
  stop(): void {
    this.#stopped = true;
    this.#resume(Number.POSITIVE_INFINITY);
  }

  /** The limit in force: none once stopped. */
  #limit(): number {
    return this.#stopped ? 0 : this.#o.maxInFlight();
  }

  #hold(socket: Conn | undefined): void {
    // A connection that is closing or already held has nothing to hold.
    if (!socket || socket.destroyed || !socket.readable || socket[kHeld]) return;
    socket[kHeld] = true;
    if (!socket[kGuarded]) {
      socket[kGuarded] = true;
      socket.on('resume', keepHeld);
    }
    // Node's HTTP server turns this into readStop() on the handle.
    socket.pause();
    this.#held.push(socket);
    this.#o.onHold?.();
    this.#o.onHeldChange?.(this.held);
    this.#sweep ??= setInterval(this.#onSweep, this.#o.sweepMs).unref();
  }

  /**
   * Responses finishing release held connections one by one; this covers the
   * cases where that leaves room: none finish (the connections released last
   * had nothing to send, say), or the limit was raised (adaptive-limit.ts).
   * Whatever room there is goes to the longest-held.
   */
  readonly #onSweep = (): void => {
    const limit = this.#limit();
    const room = limit > 0 ? limit - this.#o.inFlight() - this.#released : Number.POSITIVE_INFINITY;
    this.#resume(room);
  };

  readonly #onRead = (): void => {
    this.#readSoon = undefined;
    this.#released = 0;
  };

  #resume(n: number): void {
    if (n <= 0 || this.#head === this.#held.length) return;
    let left = n;
    while (left > 0 && this.#head < this.#held.length) {
      const socket = this.#held[this.#head] as Conn;
      this.#held[this.#head++] = undefined as unknown as Conn;
      socket[kHeld] = false;
      if (socket.destroyed) continue;
      socket.resume();
      this.#released++;
      left--;
    }
    if (this.#released > 0) this.#readSoon ??= setImmediate(this.#onRead);
    if (this.#head === this.#held.length) {
      this.#held = [];
      this.#head = 0;
      if (this.#sweep) clearInterval(this.#sweep);
      this.#sweep = undefined;
    } else if (this.#head > 1024 && this.#head * 2 > this.#held.length) {
      this.#held = this.#held.slice(this.#head);
      this.#head = 0;
    }
    this.#o.onHeldChange?.(this.held);
  }
}

/** Admission control on the app server: lets held connections go when the process starts draining. */
export default fp<{ admission: AdmissionControl; lifecycle: Lifecycle }>(
  async (app, { admission, lifecycle }) => {
    // Draining: every held connection is read, so its request is answered
    // (with `Connection: close`, plugins/connection-drain.ts) rather than
    // closed as idle with the request unread.
    lifecycle.onChange((phase) => {
      if (phase === 'draining') admission.stop();
    });
    app.addHook('preClose', async () => admission.stop());
  },
  { name: 'admission-control' },
);

/**
 * The app server's admission control: its limit from the runtime config
 * (admission.maxInFlight, adapted while connections are held:
 * adaptive-limit.ts), its in-flight count the request telemetry's
 * (http_server_active_requests), its activity in the metrics. The telemetry
 * calls requestFinished (app.ts).
 */
export function appAdmissionControl(runtimeConfig: RuntimeConfigStore, metrics: ServiceMetrics): AdmissionControl {
  const { active, resilience } = metrics;
  const limit = new AdaptiveLimit({
    cap: () => runtimeConfig.current.admission.maxInFlight,
    targetDelayMs: () => runtimeConfig.current.admission.targetEventLoopDelayMs,
    holding: () => admission.held > 0,
    onChange: (n) => resilience.admissionLimit.set(n),
  });
  const admission: AdmissionControl = new AdmissionControl({
    maxInFlight: () => limit.limit,
    inFlight: () => active.requests,
    onHold: () => {
      limit.held();
      resilience.connectionHolds.inc();
    },
    onHeldChange: (held) => resilience.heldConnections.set(held),
  });
  resilience.admissionLimit.set(limit.limit);
  runtimeConfig.onChange(() => resilience.admissionLimit.set(limit.limit));
  return admission;
}
