// http_client_request_duration_seconds for every undici request, including
// Node's global fetch (which is undici inside): subscribes to undici's
// diagnostics channels, so no module is patched and nothing runs for
// processes that make no outgoing calls. Spans for the same requests come from
// @opentelemetry/instrumentation-undici (telemetry.ts).
import diagnosticsChannel from 'node:diagnostics_channel';
import { TraceFlags, trace } from '@opentelemetry/api';
import { normalizeMethod } from '../http-server.js';
import type { LabeledHistogram, Series } from './histogram.js';

interface UndiciRequest {
  origin?: string | URL;
  method?: string;
}

interface InFlight {
  start: number;
  status: number;
  /** The sampled span the call was made under (the exemplar), if any. */
  traceId: string | undefined;
  spanId: string | undefined;
}

const CHANNELS = [
  'undici:request:create',
  'undici:request:headers',
  'undici:request:trailers',
  'undici:request:error',
] as const;

function hostOf(origin: string | URL | undefined): string {
  if (!origin) return '';
  try {
    return (typeof origin === 'string' ? new URL(origin) : origin).hostname;
  } catch {
    return '';
  }
}

export class HttpClientMetrics {
  readonly #inFlight = new WeakMap<object, InFlight>();
  readonly #series = new Map<string, Series>();
  #enabled = false;

  constructor(private readonly histogram: LabeledHistogram) {}

  #onCreate = (msg: unknown) => {
    const { request } = msg as { request: object };
    // Published synchronously in the caller's context: the active span is the caller's.
    const sc = trace.getActiveSpan()?.spanContext();
    const sampled = sc !== undefined && (sc.traceFlags & TraceFlags.SAMPLED) !== 0;
    this.#inFlight.set(request, {
      start: performance.now(),
      status: 0,
      traceId: sampled ? sc.traceId : undefined,
      spanId: sampled ? sc.spanId : undefined,
    });
  };

  #onHeaders = (msg: unknown) => {
    const { request, response } = msg as { request: object; response: { statusCode: number } };
    const f = this.#inFlight.get(request);
    if (f) f.status = response.statusCode;
  };

  #onTrailers = (msg: unknown) => {
    const { request } = msg as { request: UndiciRequest };
    this.#record(request, undefined);
  };

  #onError = (msg: unknown) => {
    const { request, error } = msg as { request: UndiciRequest; error: Error & { code?: string } };
    this.#record(request, error.code ?? error.name ?? 'Error');
  };

  #record(request: UndiciRequest, errorType: string | undefined): void {
    const f = this.#inFlight.get(request);
    if (!f) return;
    this.#inFlight.delete(request);
    const method = normalizeMethod(request.method);
    const host = hostOf(request.origin);
    const status = f.status ? String(f.status) : '';
    const key = `${method}\u0000${host}\u0000${status}\u0000${errorType ?? ''}`;
    let s = this.#series.get(key);
    if (!s) {
      s = this.histogram.series(method, host, status, errorType ?? '');
      this.#series.set(key, s);
    }
    const seconds = (performance.now() - f.start) / 1000;
    if (f.traceId && f.spanId) s.observeWithExemplar(seconds, f.traceId, f.spanId);
    else s.observe(seconds);
  }

  #handlers(): Array<[string, (m: unknown) => void]> {
    const h = [this.#onCreate, this.#onHeaders, this.#onTrailers, this.#onError];
    return CHANNELS.map((name, i) => [name, h[i] as (m: unknown) => void]);
  }

  enable(): void {
    if (this.#enabled) return;
    this.#enabled = true;
    for (const [name, handler] of this.#handlers()) diagnosticsChannel.subscribe(name, handler);
  }

  disable(): void {
    if (!this.#enabled) return;
    this.#enabled = false;
    for (const [name, handler] of this.#handlers()) diagnosticsChannel.unsubscribe(name, handler);
  }
}
