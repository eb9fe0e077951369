// Server-side request telemetry: the span, the RED metrics and the access log
// for every request, in one pass, without adding a Fastify hook.
//
// Fastify already calls two things once per request; each gets a job:
//
//   LogController.incomingRequest   request start, right after Fastify made the
//       request and reply, before any hook: extract the W3C context, start the
//       server span (or the unsampled stand-in), give the request its logger
//       (trace_id/span_id/trace_flags bound), enter the span's context
//       (tracing/request-context.ts, Node 24), echo x-request-id, count the
//       request in flight, watch the response for its end
//   route handler (wrapped in onRoute)  runs inside the span's context, so
//       outgoing calls and user spans find their parent (in context.with()
//       when the context was not entered, or no longer is)
//
// The route a request matched comes from what onRoute left in the route's
// config, read off Fastify's route context (see routeContextOf). Fastify's own
// per-request logger path stays on its fast branch: no logger and no child-logger
// factory means no child is made and no per-request check that one has the logger
// methods (validateLogger: seven megamorphic property reads a request; with the
// child, 3-5 % of the service's instructions a request under callgrind and
// ~1.5 % of its CPU loaded together, README Performance).
//
// and the response's `close` event (fired after the last byte is written, or
// when the client goes away) finishes all three signals. The optional request
// observer (the app's admission control) hears of each end from here, after
// the in-flight count drops, so it needs no listeners or count of its own.
// Unsampled requests allocate no span attributes and record nothing beyond the
// histogram bucket. Why this shape rather than onRequest/onResponse hooks is
// measured in the README (Performance).
// The types of fastify/lib/symbols.js, for every tsconfig that reaches this file.
/// <reference path="./fastify-symbols.d.ts" />
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Context,
  defaultTextMapGetter,
  INVALID_TRACEID,
  context as otelContext,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  type TextMapPropagator,
} from '@opentelemetry/api';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyServerOptions,
  RouteOptions,
} from 'fastify';
import { LogController } from 'fastify';
import fastifySymbols from 'fastify/lib/symbols.js';
import type { ChildLoggerOptions } from 'pino';
import type { Env } from '../config/env.js';
import { REQUEST_ID_HEADER } from '../http/request-id.js';
import { LazyRequestLogger } from '../logging/lazy-request-logger.js';
import type { Logger } from '../logging/logger.js';
import type { Series } from './metrics/histogram.js';
import type { ServiceMetrics } from './metrics/registry.js';
import type { RequestContextEntry } from './tracing/request-context.js';
import type { ServerSpanStarter } from './tracing/server-span.js';
import { contextWithSpan } from './tracing/span-context.js';

/** http_route value for requests that matched no route (never the raw URL). */
export const UNMATCHED_ROUTE = 'unmatched';
/** Status label for a request whose client went away before the response was complete (nginx's 499). */
export const CLIENT_CLOSED_STATUS = 499;

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
/** OpenTelemetry semantic conventions: methods outside the known set are reported as _OTHER. */
export const normalizeMethod = (m: string | undefined): string => (m && KNOWN_METHODS.has(m) ? m : '_OTHER');

const kTelemetry = Symbol('periscope.telemetry');
const kHasTraceBindings = Symbol('periscope.traceBindings');
/** Left in a route's config by onRoute (see RouteEntry). */
const kRouteEntry = Symbol('periscope.routeEntry');

type RouteTelemetryOf = (method: string) => RouteTelemetry;

/** What onRoute resolved for a route, once: its telemetry (false when it opted out) and its request loggers' options. */
interface RouteEntry {
  routeOf: RouteTelemetryOf | false;
  loggerOptions: ChildLoggerOptions;
}

/** What this module reads of Fastify's per-route context (lib/context.js). */
interface FastifyRouteContext {
  config?: { [kRouteEntry]?: RouteEntry };
  logLevel?: string | undefined;
  logSerializers?: ChildLoggerOptions['serializers'] | undefined;
}

// Fastify keeps the route context a request matched under this symbol (its
// lib/symbols.js; `request.routeOptions` builds a new object on every read).
// Imported from the same module Fastify uses, so the bundle holds one symbol.
const { kRouteContext } = fastifySymbols as { kRouteContext?: symbol };
if (typeof kRouteContext !== 'symbol') {
  throw new Error(
    'fastify/lib/symbols.js has no kRouteContext: this Fastify version is not supported by telemetry/http-server.ts',
  );
}

function routeContextOf(request: FastifyRequest): FastifyRouteContext | undefined {
  return (request as unknown as Record<symbol, FastifyRouteContext | undefined>)[kRouteContext as symbol];
}

const NO_LOGGER_OPTIONS: ChildLoggerOptions = Object.freeze({});

/**
 * A route's own log level and serializers, as Fastify would have passed them
 * to a child-logger factory. onRoute sees the same values Fastify later puts
 * in the route's context (plugin defaults already applied).
 */
function loggerOptionsOf(
  ctx: Pick<FastifyRouteContext, 'logLevel' | 'logSerializers'> | undefined,
): ChildLoggerOptions {
  if (!ctx || (!ctx.logLevel && !ctx.logSerializers)) return NO_LOGGER_OPTIONS;
  const opts: ChildLoggerOptions = {};
  if (ctx.logLevel) opts.level = ctx.logLevel;
  if (ctx.logSerializers) opts.serializers = ctx.logSerializers;
  return opts;
}

type RawRequest = IncomingMessage & { [kTelemetry]?: RequestTelemetry };

/** Per route and method: the span name, and status codes resolved to histogram series once. */
class RouteTelemetry {
  readonly #byStatus: Array<Series | undefined> = [];
  readonly spanName: string;
  /** The route template (http.route), undefined when no route matched. */
  readonly template: string | undefined;
  constructor(
    readonly method: string,
    readonly route: string,
    private readonly metrics: ServiceMetrics,
    matched: boolean,
  ) {
    // OpenTelemetry: "{method} {route}", or just the method when no route matched.
    this.spanName = matched ? `${method} ${route}` : method;
    this.template = matched ? route : undefined;
  }

  series(status: number): Series {
    let s = this.#byStatus[status];
    if (!s) {
      s = this.metrics.httpServerDuration.series(this.method, this.route, String(status));
      this.#byStatus[status] = s;
    }
    return s;
  }
}

/** The state of one request, kept on the raw request object. */
class RequestTelemetry {
  error: Error | undefined = undefined;
  errorLogged = false;
  constructor(
    readonly routeTelemetry: RouteTelemetry,
    readonly span: Span,
    readonly ctx: Context,
    readonly sampled: boolean,
    readonly start: number,
    public log: FastifyBaseLogger | undefined,
  ) {}
}

/** Told of every response that closes, once the in-flight count no longer includes it (resilience/admission-control.ts). */
export interface RequestObserver {
  requestFinished(res: ServerResponse): void;
}

export interface HttpServerTelemetryOptions {
  /** The process logger: request loggers are its children (Fastify itself is given none, see fastifyOptions). */
  logger: Logger;
  observer?: RequestObserver | undefined;
  serverSpans: ServerSpanStarter;
  /** Enters the request's context at its start (tracing/request-context.ts); else only the handler runs in it. */
  requestContext?: RequestContextEntry | undefined;
  propagator: TextMapPropagator;
  metrics: ServiceMetrics;
  accessLog: Env['ACCESS_LOG'];
  slowRequestMs: number;
}

/** Record the error a request failed with (the error handler calls this); the span gets it as an exception event. */
export function recordRequestError(raw: IncomingMessage, err: Error, logged: boolean): void {
  const t = (raw as RawRequest)[kTelemetry];
  if (t) {
    t.error = err;
    t.errorLogged = logged;
  }
}

function callHandler(
  handler: RouteOptions['handler'],
  self: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  return handler.call(self, request, reply);
}

function markTraceBound(child: Logger): void {
  (child as unknown as Record<symbol, boolean>)[kHasTraceBindings] = true;
}

/** True for loggers carrying trace bindings already (the log mixin then adds nothing). */
export function hasTraceBindings(logger: unknown): boolean {
  return (logger as { [kHasTraceBindings]?: boolean })?.[kHasTraceBindings] === true;
}

/** The `errors` access-log policy's budget (see #accessLog). */
export const ERROR_LINES_PER_SECOND = 50;

export class HttpServerTelemetry {
  readonly #o: HttpServerTelemetryOptions;
  #budgetSecond = -1;
  #budgetLeft = ERROR_LINES_PER_SECOND;
  #suppressed = 0;
  readonly #unmatched = new Map<string, RouteTelemetry>();

  constructor(options: HttpServerTelemetryOptions) {
    this.#o = options;
  }

  /**
   * Options for the Fastify factory: the log controller, which starts each
   * request's telemetry. No `logger`/`loggerInstance`: given one, Fastify adds
   * a 'finish' and an 'error' listener and two timestamps to every response,
   * only to log "request completed" (off here) and fill `reply.elapsedTime`
   * (the telemetry times requests itself). No `childLoggerFactory` either:
   * request loggers are made here (begin); set `app.log` to the process logger
   * after creating the app.
   */
  fastifyOptions(): Pick<FastifyServerOptions, 'logController'> {
    return { logController: new ObservingLogController(this) };
  }

  /**
   * An onRoute hook: resolves the route's telemetry once (left in its config
   * for begin) and wraps its handler to run in the span's context. A route
   * with `config: { telemetry: false }` gets a request logger, its request id
   * and the in-flight count (admission control reads it), but no span, no
   * histogram series and no access log.
   */
  readonly onRoute = (route: RouteOptions): void => {
    const config = route.config as { telemetry?: boolean } | undefined;
    const loggerOptions = loggerOptionsOf(route as Pick<FastifyRouteContext, 'logLevel' | 'logSerializers'>);
    if (config?.telemetry === false) {
      const entry: RouteEntry = { routeOf: false, loggerOptions };
      route.config = { ...config, [kRouteEntry]: entry } as RouteOptions['config'];
      return;
    }
    const template = route.url;
    // Resolved once per route and method, not per request.
    const byMethod = new Map<string, RouteTelemetry>();
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) {
      const method = normalizeMethod(String(m));
      byMethod.set(method, new RouteTelemetry(method, template, this.#o.metrics, true));
    }
    const only = byMethod.size === 1 ? [...byMethod.values()][0] : undefined;
    const routeOf: RouteTelemetryOf = only
      ? () => only
      : (method) => byMethod.get(method) ?? this.#routeFor(method, template);
    const routeEntry: RouteEntry = { routeOf, loggerOptions };
    route.config = { ...config, [kRouteEntry]: routeEntry } as RouteOptions['config'];
    const handler = route.handler;
    const entry = this.#o.requestContext;
    route.handler = function tracedHandler(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const t = (request.raw as RawRequest)[kTelemetry];
      // Usually the context was entered as the request started; a handler
      // resumed by a callback that does not descend from that start (a hook
      // finishing in a pooled client's callback, say) is not in it.
      // No `thisArg` to context.with: it would bind() a new function per request.
      return t && !entry?.isActive(t.ctx)
        ? otelContext.with(t.ctx, callHandler, undefined, handler, this, request, reply)
        : handler.call(this, request, reply);
    } as typeof handler;
  };

  #routeFor(method: string, route: string | undefined): RouteTelemetry {
    const key = `${method} ${route ?? UNMATCHED_ROUTE}`;
    let r = this.#unmatched.get(key);
    if (!r) {
      r = new RouteTelemetry(method, route ?? UNMATCHED_ROUTE, this.#o.metrics, route !== undefined);
      this.#unmatched.set(key, r);
    }
    return r;
  }

  /**
   * Called by the log controller as the request enters Fastify, before any
   * hook: the request's span, logger and context, and its in-flight count.
   * Requests that matched no route (404s, bad URLs) come here too, with
   * Fastify's 404 context, and are counted as `unmatched`.
   */
  begin(request: FastifyRequest, reply: FastifyReply): void {
    const start = performance.now();
    const { serverSpans, propagator, logger, requestContext } = this.#o;
    const raw = request.raw;
    const res = reply.raw;
    const routeCtx = routeContextOf(request);
    const entry = routeCtx?.config?.[kRouteEntry];
    // No entry: Fastify's 404 context (or a bad URL's), whose options are read here.
    const options = entry ? entry.loggerOptions : loggerOptionsOf(routeCtx);
    const routeOf = entry?.routeOf;
    if (routeOf === false) {
      request.log = reply.log = new LazyRequestLogger(logger, { req_id: request.id }, options);
    } else {
      const method = normalizeMethod(raw.method);
      const rt = routeOf ? routeOf(method) : this.#routeFor(method, undefined);
      const parent = propagator.extract(ROOT_CONTEXT, raw.headers, defaultTextMapGetter);
      const span = serverSpans.start(rt.spanName, parent);
      const sc = span.spanContext();
      const sampled = span.isRecording();
      if (sampled) setStartAttributes(span, raw, method, rt.template);
      // Ids come from our own generator (always valid) or, with tracing off,
      // are the API's all-zero placeholder: a compare, not the regex check.
      const traced = sc.traceId !== INVALID_TRACEID;
      const bindings = traced
        ? { req_id: request.id, trace_id: sc.traceId, span_id: sc.spanId, trace_flags: sc.traceFlags & 1 ? '01' : '00' }
        : { req_id: request.id };
      // Built only if the request logs (logging/lazy-request-logger.ts).
      const child = new LazyRequestLogger(logger, bindings, options, traced ? markTraceBound : undefined);
      request.log = reply.log = child;
      const ctx = contextWithSpan(parent, span);
      (raw as RawRequest)[kTelemetry] = new RequestTelemetry(rt, span, ctx, sampled, start, child);
      // From here on Fastify's hooks and (usually) the handler run in the span's context.
      requestContext?.enter(ctx);
    }
    reply.header(REQUEST_ID_HEADER, request.id);
    this.#o.metrics.active.requests++;
    res.on('close', this.#onClose);
  }

  // One shared listener for every response: `this` is the ServerResponse.
  readonly #onClose = ((telemetry: HttpServerTelemetry) =>
    function onResponseClose(this: ServerResponse) {
      telemetry.#finish(this);
    })(this);

  #finish(res: ServerResponse): void {
    const raw = res.req as RawRequest;
    const t = raw[kTelemetry];
    this.#o.metrics.active.requests--;
    this.#o.observer?.requestFinished(res);
    if (!t) return;
    raw[kTelemetry] = undefined;
    const durationMs = performance.now() - t.start;
    // end() was called: a response was produced (it may still have been cut
    // short by the network, but the status is what the service decided).
    const complete = res.writableEnded;
    const status = complete ? res.statusCode : CLIENT_CLOSED_STATUS;
    const series = t.routeTelemetry.series(status);
    if (t.sampled) {
      const sc = t.span.spanContext();
      series.observeWithExemplar(durationMs / 1000, sc.traceId, sc.spanId);
      endSpan(t, status, complete);
    } else {
      series.observe(durationMs / 1000);
    }
    this.#accessLog(t, res, status, durationMs);
  }

  #accessLog(t: RequestTelemetry, res: ServerResponse, status: number, durationMs: number): void {
    const policy = this.#o.accessLog;
    if (policy === 'off' || !t.log) return;
    const slow = durationMs >= this.#o.slowRequestMs;
    const failed = status >= 500 && !t.errorLogged;
    if (policy === 'errors' && !slow && !failed) return;
    // Under overload every request is slow: the `errors` policy writes at most
    // ERROR_LINES_PER_SECOND lines a second and says how many it left out, so
    // the log cannot add work exactly when there is least room for it.
    // (`all` means all: no budget.)
    if (policy === 'errors') {
      const now = Math.floor(performance.now() / 1000);
      if (now !== this.#budgetSecond) {
        this.#budgetSecond = now;
        this.#budgetLeft = ERROR_LINES_PER_SECOND;
      }
      if (this.#budgetLeft <= 0) {
        if (this.#suppressed++ === 0) {
          // One summary line a second later, whatever traffic does next.
          const log = t.log;
          setTimeout(() => {
            log.warn(
              { suppressed_lines: this.#suppressed, limit_per_second: ERROR_LINES_PER_SECOND },
              'access log lines suppressed',
            );
            this.#suppressed = 0;
          }, 1000).unref();
        }
        return;
      }
      this.#budgetLeft--;
    }
    const level = failed ? 'error' : slow ? 'warn' : 'info';
    t.log[level](
      {
        http_request_method: res.req.method,
        http_route: t.routeTelemetry.route,
        url_path: pathOf(res.req.url),
        http_response_status_code: status,
        duration_ms: Math.round(durationMs * 1000) / 1000,
      },
      failed ? 'request failed' : slow ? 'slow request' : 'request completed',
    );
  }
}

function pathOf(url: string | undefined): string {
  if (!url) return '';
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)).slice(0, 512);
}

function setStartAttributes(span: Span, raw: IncomingMessage, method: string, template: string | undefined): void {
  const host = raw.headers.host ?? '';
  const colon = host.lastIndexOf(':');
  const hasPort = colon > host.lastIndexOf(']');
  span.setAttribute('http.request.method', method);
  if (method === '_OTHER' && raw.method) span.setAttribute('http.request.method_original', raw.method);
  span.setAttribute('url.path', pathOf(raw.url));
  span.setAttribute('url.scheme', 'http');
  if (host) {
    span.setAttribute('server.address', hasPort ? host.slice(0, colon) : host);
    span.setAttribute('server.port', hasPort ? Number(host.slice(colon + 1)) : 80);
  }
  span.setAttribute('network.protocol.version', raw.httpVersion);
  if (raw.socket?.remoteAddress) span.setAttribute('client.address', raw.socket.remoteAddress);
  const ua = raw.headers['user-agent'];
  if (ua) span.setAttribute('user_agent.original', ua.slice(0, 512));
  if (template) span.setAttribute('http.route', template);
}

function endSpan(t: RequestTelemetry, status: number, complete: boolean): void {
  const span = t.span;
  if (!complete) {
    span.setAttribute('error.type', 'client_closed');
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: 'client closed the connection before the response completed',
    });
  } else {
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) {
      span.setAttribute('error.type', t.error?.name && t.error.name !== 'Error' ? t.error.name : String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
      if (t.error) span.recordException(t.error);
    }
  }
  span.end();
}

/**
 * Fastify's per-request logging seam (see the `logController` server option).
 * Fastify's own "incoming request"/"request completed" lines stay off: the
 * access log above follows ACCESS_LOG instead.
 */
class ObservingLogController extends LogController {
  constructor(private readonly telemetry: HttpServerTelemetry) {
    super({ disableRequestLogging: true, requestIdLogLabel: 'req_id' });
  }

  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    this.telemetry.begin(request, reply);
  }
}
