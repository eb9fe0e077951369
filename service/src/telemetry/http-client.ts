// Outgoing HTTP telemetry for undici — and for Node's global fetch, which is
// undici inside: a CLIENT span with an injected W3C traceparent, and
// http_client_request_duration_seconds, in one pass over undici's
// diagnostics channels. Nothing is patched, and a process that makes no
// outgoing calls runs none of this.
//
// Why not @opentelemetry/instrumentation-undici: it produces the same span
// (the attributes below follow it and the HTTP semantic conventions), but
// loading it and its instrumentation base took ~110 ms of start-up here —
// a third of the whole start-up budget — and its duration metric goes to the
// OpenTelemetry metrics SDK, which this service does not run.
import diagnosticsChannel from 'node:diagnostics_channel';
import {
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { normalizeMethod } from './http-server.js';
import type { LabeledHistogram, Series } from './metrics/histogram.js';

/** The parts of undici's request object the channels hand us. */
interface UndiciRequest {
  origin?: string | URL;
  method?: string;
  path?: string;
  headers?: string | string[];
  addHeader?: (name: string, value: string) => unknown;
}

interface InFlight {
  start: number;
  status: number;
  span: Span;
  method: string;
  host: string;
}

const SCHEME_PORT: Record<string, number> = { http: 80, https: 443 };

function addHeader(request: UndiciRequest, name: string, value: string): void {
  if (typeof request.addHeader === 'function') request.addHeader(name, value);
  else if (typeof request.headers === 'string') request.headers += `${name}: ${value}\r\n`;
  else if (Array.isArray(request.headers)) request.headers.push(name, value);
}

const headerSetter = {
  set(carrier: UndiciRequest, key: string, value: string) {
    addHeader(carrier, key, value);
  },
};

export class HttpClientTelemetry {
  readonly #inFlight = new WeakMap<object, InFlight>();
  readonly #series = new Map<string, Series>();
  #enabled = false;

  constructor(
    private readonly histogram: LabeledHistogram,
    private readonly tracer: Tracer,
    private readonly propagator: TextMapPropagator,
  ) {}

  #onCreate = (msg: unknown) => {
    const { request } = msg as { request: UndiciRequest };
    if (request.method === 'CONNECT') return;
    let url: URL;
    try {
      url = new URL(request.path ?? '/', request.origin);
    } catch {
      return;
    }
    const method = normalizeMethod(request.method);
    const scheme = url.protocol.slice(0, -1);
    // Published synchronously in the caller's context: the active span is the parent.
    const parent: Context = context.active();
    const span = this.tracer.startSpan(method === '_OTHER' ? 'HTTP' : method, { kind: SpanKind.CLIENT }, parent);
    if (span.isRecording()) {
      span.setAttribute('http.request.method', method);
      if (method === '_OTHER' && request.method) span.setAttribute('http.request.method_original', request.method);
      span.setAttribute('url.full', url.href);
      span.setAttribute('url.path', url.pathname);
      if (url.search) span.setAttribute('url.query', url.search.slice(1));
      span.setAttribute('url.scheme', scheme);
      span.setAttribute('server.address', url.hostname);
      const port = url.port ? Number(url.port) : SCHEME_PORT[scheme];
      if (port) span.setAttribute('server.port', port);
    }
    // Propagate even when not sampled, so the callee follows our decision.
    this.propagator.inject(trace.setSpan(parent, span), request, headerSetter);
    this.#inFlight.set(request, { start: performance.now(), status: 0, span, method, host: url.hostname });
  };

  #onHeaders = (msg: unknown) => {
    const { request, response } = msg as { request: object; response: { statusCode: number } };
    const f = this.#inFlight.get(request);
    if (!f) return;
    f.status = response.statusCode;
    if (f.span.isRecording()) {
      f.span.setAttribute('http.response.status_code', f.status);
      if (f.status >= 400) {
        f.span.setAttribute('error.type', String(f.status));
        f.span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
  };

  #onTrailers = (msg: unknown) => {
    const { request } = msg as { request: object };
    this.#finish(request, undefined);
  };

  #onError = (msg: unknown) => {
    const { request, error } = msg as { request: object; error: Error & { code?: string } };
    this.#finish(request, error);
  };

  #finish(request: object, error: (Error & { code?: string }) | undefined): void {
    const f = this.#inFlight.get(request);
    if (!f) return;
    this.#inFlight.delete(request);
    const aborted = error?.name === 'AbortError';
    const errorType = error && !aborted ? (error.code ?? error.name ?? 'Error') : undefined;
    if (errorType && f.span.isRecording()) {
      f.span.setAttribute('error.type', errorType);
      f.span.recordException(error as Error);
      f.span.setStatus({ code: SpanStatusCode.ERROR, message: error?.message });
    }
    f.span.end();

    const status = f.status ? String(f.status) : '';
    const key = `${f.method}\u0000${f.host}\u0000${status}\u0000${errorType ?? ''}`;
    let s = this.#series.get(key);
    if (!s) {
      s = this.histogram.series(f.method, f.host, status, errorType ?? '');
      this.#series.set(key, s);
    }
    const seconds = (performance.now() - f.start) / 1000;
    const sc = f.span.spanContext();
    if (sc.traceFlags & TraceFlags.SAMPLED) s.observeWithExemplar(seconds, sc.traceId, sc.spanId);
    else s.observe(seconds);
  }

  #handlers(): Array<[string, (m: unknown) => void]> {
    return [
      ['undici:request:create', this.#onCreate],
      ['undici:request:headers', this.#onHeaders],
      ['undici:request:trailers', this.#onTrailers],
      ['undici:request:error', this.#onError],
    ];
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
