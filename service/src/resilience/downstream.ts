// The downstream client: one undici Pool per upstream origin (keep-alive,
// bounded connections, explicit timeouts) behind an opossum circuit breaker.
//
// A call fails the breaker when the upstream cannot be reached, times out,
// or answers 5xx. A call cut short by *our* caller (client gone, route
// deadline) does not: that says nothing about the upstream's health. While the
// breaker is open, calls fail fast into the fallback: the last good response,
// marked stale, or a 503 with Retry-After when there is none.
//
// Every transition is logged, added as an event on the active span (the
// request that observed it), and shown in circuit_breaker_state.
// Client spans and http_client_request_duration_seconds come from the
// telemetry's undici instrumentation.
import { trace } from '@opentelemetry/api';
import CircuitBreaker from 'opossum';
import type { Counter, Gauge } from 'prom-client';
import type { Pool } from 'undici';
import type { HealthRegistry } from '../health/registry.js';
import type { Logger } from '../logging/logger.js';

export interface DownstreamOptions {
  /** Full URL to call, e.g. http://inventory:8080/api/items. */
  url: string;
  name?: string;
  logger: Logger;
  breakerState: Gauge<'breaker'>;
  breakerCalls: Counter<'breaker' | 'result'>;
  health?: HealthRegistry;
  /** Per-call budget; the route deadline may cut it shorter. */
  callTimeoutMs?: number;
  /** Connections kept to the upstream (undici Pool). */
  connections?: number;
  /** Breaker: share of failed calls (%) in the rolling window that opens it. */
  errorThresholdPercentage?: number;
  /** Breaker: calls in the window before it may open at all. */
  volumeThreshold?: number;
  /** Breaker: how long it stays open before letting one trial call through. */
  resetTimeoutMs?: number;
  rollingWindowMs?: number;
}

export interface DownstreamResult {
  status: number;
  body: unknown;
  /** `upstream` for a live answer, `stale` for the fallback's last good one. */
  source: 'upstream' | 'stale';
  fetchedAt: string;
}

/** The upstream answered 5xx or could not be reached: a breaker failure, a 502 for our caller. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  readonly statusCode = 502;
  readonly code = 'UPSTREAM_ERROR';
  readonly expose = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The upstream did not answer within the per-call budget: a breaker failure, a 504 for our caller. */
export class UpstreamTimeoutError extends Error {
  override name = 'UpstreamTimeoutError';
  readonly statusCode = 504;
  readonly code = 'UPSTREAM_TIMEOUT';
  readonly expose = true;
  constructor(ms: number) {
    super(`upstream did not answer within ${ms} ms`);
  }
}

/** The breaker is open and no earlier response can stand in. */
export class CircuitOpenError extends Error {
  readonly statusCode = 503;
  readonly code = 'CIRCUIT_OPEN';
  readonly expose = true;
  readonly quiet = true;
  constructor(
    readonly breaker: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`upstream "${breaker}" is unavailable (circuit open); retry in ${retryAfterSeconds} s`);
  }
}

const STATE_VALUE = { closed: 0, halfOpen: 1, open: 2 } as const;
const MAX_BODY_BYTES = 1_048_576;

export class Downstream {
  readonly name: string;
  readonly #url: URL;
  readonly #pool: Pool;
  readonly #breaker: CircuitBreaker<[signal?: AbortSignal], DownstreamResult>;
  readonly #o: DownstreamOptions;
  #lastGood: DownstreamResult | undefined;
  #openedAt = 0;

  /**
   * undici is loaded here, not at start-up: a service without DOWNSTREAM_URL
   * never pays for it (~60 ms of module loading, measured).
   */
  static async create(o: DownstreamOptions): Promise<Downstream> {
    const { Pool } = await import('undici');
    return new Downstream(o, Pool);
  }

  private constructor(o: DownstreamOptions, PoolClass: typeof Pool) {
    this.#o = o;
    this.name = o.name ?? 'downstream';
    this.#url = new URL(o.url);
    this.#pool = new PoolClass(this.#url.origin, {
      connections: o.connections ?? 64,
      // Shorter than the usual server keep-alive (Node: 5 s, this service: 72 s),
      // so we never reuse a socket the upstream is about to close.
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      connect: { timeout: 1_000 },
      headersTimeout: o.callTimeoutMs ?? 2_000,
      bodyTimeout: o.callTimeoutMs ?? 2_000,
    });

    this.#breaker = new CircuitBreaker((signal?: AbortSignal) => this.#call(signal), {
      name: this.name,
      // Timeouts are enforced per call with an AbortSignal (see #call), so the
      // socket is really released, not just the promise forgotten.
      timeout: false,
      errorThresholdPercentage: o.errorThresholdPercentage ?? 50,
      volumeThreshold: o.volumeThreshold ?? 5,
      resetTimeout: o.resetTimeoutMs ?? 5_000,
      rollingCountTimeout: o.rollingWindowMs ?? 10_000,
      // Aborted by our caller (deadline, client gone): not the upstream's fault.
      errorFilter: (err: Error, signal?: AbortSignal) =>
        signal?.aborted === true && !(err instanceof UpstreamError) && !(err instanceof UpstreamTimeoutError),
    });
    this.#breaker.fallback((_signal: AbortSignal | undefined, err?: Error) => this.#fallback(err));
    this.#observe();
    o.breakerState.set({ breaker: this.name }, STATE_VALUE.closed);
    for (const result of ['success', 'failure', 'timeout', 'rejected', 'fallback']) {
      o.breakerCalls.inc({ breaker: this.name, result }, 0);
    }
    o.health?.register({
      name: `downstream:${this.name}`,
      critical: false,
      timeoutMs: 500,
      check: () => {
        if (this.#breaker.opened) throw new Error(`circuit open since ${new Date(this.#openedAt).toISOString()}`);
        return true;
      },
    });
  }

  get state(): 'closed' | 'open' | 'halfOpen' {
    return this.#breaker.opened ? 'open' : this.#breaker.halfOpen ? 'halfOpen' : 'closed';
  }

  /** GET the configured URL through the breaker. `signal`: the request's (deadline / client abort). */
  get(signal?: AbortSignal): Promise<DownstreamResult> {
    return this.#breaker.fire(signal);
  }

  async #call(signal?: AbortSignal): Promise<DownstreamResult> {
    const budget = this.#o.callTimeoutMs ?? 2_000;
    const timeout = AbortSignal.timeout(budget);
    let statusCode: number;
    let text = '';
    try {
      const res = await this.#pool.request({
        path: `${this.#url.pathname}${this.#url.search}`,
        method: 'GET',
        headers: { accept: 'application/json' },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      statusCode = res.statusCode;
      for await (const chunk of res.body) {
        text += chunk;
        if (text.length > MAX_BODY_BYTES) {
          res.body.destroy();
          throw new UpstreamError(`upstream body larger than ${MAX_BODY_BYTES} bytes`);
        }
      }
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      if (signal?.aborted) throw err; // our caller gave up: not the upstream's doing
      if (timeout.aborted) throw new UpstreamTimeoutError(budget);
      const code = (err as { code?: string }).code;
      throw new UpstreamError(`upstream unreachable (${code ?? (err as Error).message})`, { cause: err });
    }
    if (statusCode >= 500) throw new UpstreamError(`upstream answered ${statusCode}`);
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: pass the text through
    }
    const result: DownstreamResult = {
      status: statusCode,
      body: parsed,
      source: 'upstream',
      fetchedAt: new Date().toISOString(),
    };
    if (statusCode < 400) this.#lastGood = result;
    return result;
  }

  #fallback(err?: Error): DownstreamResult {
    // Only an open (or half-open and busy) breaker falls back; a live failure
    // while closed is the caller's to see (502/504), not hidden behind old data.
    const rejectedByBreaker = (err as { code?: string } | undefined)?.code === 'EOPENBREAKER';
    if (!rejectedByBreaker) throw err;
    if (this.#lastGood) return { ...this.#lastGood, source: 'stale' };
    const remaining = Math.max(1, Math.ceil((this.#openedAt + (this.#o.resetTimeoutMs ?? 5_000) - Date.now()) / 1000));
    throw new CircuitOpenError(this.name, remaining);
  }

  #observe(): void {
    const { logger, breakerState, breakerCalls } = this.#o;
    const b = this.#breaker;
    const breaker = this.name;
    const transition = (state: keyof typeof STATE_VALUE, level: 'warn' | 'info', msg: string) => {
      breakerState.set({ breaker }, STATE_VALUE[state]);
      logger[level]({ breaker, state, upstream: this.#url.origin }, msg);
      trace
        .getActiveSpan()
        ?.addEvent('circuit_breaker.transition', { 'circuit_breaker.name': breaker, 'circuit_breaker.state': state });
    };
    b.on('open', () => {
      this.#openedAt = Date.now();
      transition('open', 'warn', 'circuit breaker opened: failing fast');
    });
    b.on('halfOpen', () => transition('halfOpen', 'info', 'circuit breaker half-open: trying one call'));
    b.on('close', () => transition('closed', 'info', 'circuit breaker closed: upstream healthy again'));
    b.on('success', () => breakerCalls.inc({ breaker, result: 'success' }));
    b.on('failure', (err: Error) =>
      breakerCalls.inc({ breaker, result: err instanceof UpstreamTimeoutError ? 'timeout' : 'failure' }),
    );
    b.on('reject', () => breakerCalls.inc({ breaker, result: 'rejected' }));
    b.on('fallback', () => breakerCalls.inc({ breaker, result: 'fallback' }));
  }

  async close(): Promise<void> {
    this.#breaker.shutdown();
    await this.#pool.close();
  }
}
