// The process's telemetry: metrics registry, tracer, and the glue the servers
// and the logger need. Created once per process by register.ts (the --import
// preload), so tracing exists before any application module loads.
import { readFileSync } from 'node:fs';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import type { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Env } from '../config/env.js';
import type { Logger } from '../logging/logger.js';
import { HttpClientTelemetry } from './http-client.js';
import { HttpServerTelemetry, hasTraceBindings, type RequestObserver } from './http-server.js';
import { createMetrics, type ServiceMetrics } from './metrics/registry.js';
import { type OtelSettings, readOtelEnv } from './tracing/otel-env.js';
import { startTracing, type TelemetryLog, type Tracing } from './tracing/provider.js';

export interface Telemetry {
  settings: OtelSettings;
  tracing: Tracing;
  metrics: ServiceMetrics;
  /** Server-side request instrumentation for one Fastify app; `observer` hears of every response that closes. */
  httpServer(
    env: Pick<Env, 'ACCESS_LOG' | 'SLOW_REQUEST_MS'>,
    logger: Logger,
    observer?: RequestObserver,
  ): HttpServerTelemetry;
  /** pino mixin: trace ids on lines logged inside a span by a logger without trace bindings. */
  logMixin(mergeObject: object, level: number, logger: unknown): object;
  /** Send telemetry's own messages to the process logger (they are buffered until then). */
  attachLogger(logger: Logger): void;
  shutdown(): Promise<void>;
}

function packageInfo(): { name: string; version: string } {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return { name: String(pkg.name ?? 'periscope'), version: String(pkg.version ?? '0.0.0') };
  } catch {
    return { name: 'periscope', version: '0.0.0' };
  }
}

/** Collects messages until the logger exists, then forwards them. */
class BufferedLog implements TelemetryLog {
  #logger: Logger | undefined;
  #queue: Array<['info' | 'warn', string, Record<string, unknown> | undefined]> = [];
  info(msg: string, fields?: Record<string, unknown>) {
    this.#emit('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>) {
    this.#emit('warn', msg, fields);
  }
  #emit(level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) {
    if (this.#logger) this.#logger[level]({ component: 'telemetry', ...fields }, msg);
    else this.#queue.push([level, msg, fields]);
  }
  attach(logger: Logger) {
    this.#logger = logger;
    for (const [level, msg, fields] of this.#queue.splice(0)) this.#emit(level, msg, fields);
  }
}

export interface TelemetryOptions {
  /** Install tracing as the process-wide OpenTelemetry globals (default true). */
  global?: boolean;
  /** Extra span processors, e.g. a SimpleSpanProcessor over an InMemorySpanExporter in tests. */
  spanProcessors?: SpanProcessor[];
  /** With `global: false`, the context manager installed in the API instead (tests install their own). */
  contextManager?: AsyncLocalStorageContextManager;
}

export async function createTelemetry(
  env: NodeJS.ProcessEnv = process.env,
  options: TelemetryOptions = {},
): Promise<Telemetry> {
  const settings = readOtelEnv(env);
  const log = new BufferedLog();
  for (const w of settings.warnings) log.warn(w);
  const tracing = await startTracing(
    settings,
    log,
    packageInfo(),
    options.global ?? true,
    options.spanProcessors,
    options.contextManager,
  );
  const metrics = createMetrics();
  // Client spans, traceparent injection and client metrics for undici and fetch.
  const client = new HttpClientTelemetry(metrics.httpClientDuration, tracing.tracer, tracing.propagator);
  client.enable();
  log.info('tracing configured', tracing.describe);

  return {
    settings,
    tracing,
    metrics,
    httpServer: (e, logger, observer) =>
      new HttpServerTelemetry({
        logger,
        observer,
        serverSpans: tracing.serverSpans,
        requestContext: tracing.requestContext,
        propagator: tracing.propagator,
        metrics,
        accessLog: e.ACCESS_LOG,
        slowRequestMs: e.SLOW_REQUEST_MS,
      }),
    logMixin(_merge, _level, logger) {
      if (hasTraceBindings(logger)) return {};
      const span = trace.getSpan(context.active());
      if (!span) return {};
      const sc = span.spanContext();
      if (!isSpanContextValid(sc)) return {};
      return { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: sc.traceFlags & 1 ? '01' : '00' };
    },
    attachLogger: (logger) => log.attach(logger),
    async shutdown() {
      client.disable();
      metrics.stop();
      await tracing.shutdown();
    },
  };
}

let processTelemetry: Promise<Telemetry> | undefined;

/** The process-wide instance (created by the preload, reused by main). */
export function processTelemetryInstance(): Promise<Telemetry> {
  processTelemetry ??= createTelemetry(process.env, { global: true });
  return processTelemetry;
}
