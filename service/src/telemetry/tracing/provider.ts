// Builds the OpenTelemetry tracer provider from the standard OTEL_* variables
// and installs it, with the W3C propagators and an AsyncLocalStorage context
// manager, as the process-wide API globals.
//
// Deliberately not NodeSDK: it loads every exporter (gRPC included) and every
// resource detector at start-up, which alone costs more than this service's
// whole start-up budget (README, Performance). This is the same wiring,
// limited to what the service uses.
import {
  context,
  DiagLogLevel,
  diag,
  propagation,
  type Sampler,
  type TextMapPropagator,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { DeferredExporter } from './deferred-exporter.js';
import type { OtelSettings } from './otel-env.js';
import { PooledIdGenerator } from './pooled-id-generator.js';
import { ReportingExporter } from './reporting-exporter.js';
import { type RequestContextEntry, requestContextEntry } from './request-context.js';
import { ServerSpanStarter } from './server-span.js';
import { SwitchableRatioSampler } from './switchable-sampler.js';

export interface TelemetryLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface Tracing {
  enabled: boolean;
  /** The service's tracer (a no-op tracer when disabled). */
  tracer: Tracer;
  /** Starts request (server) spans, sampling first (tracing/server-span.ts). */
  serverSpans: ServerSpanStarter;
  /** Enters a request's context once at its start, where Node allows it (tracing/request-context.ts). */
  requestContext: RequestContextEntry | undefined;
  propagator: TextMapPropagator;
  /** The root ratio in force for the *traceidratio samplers (hot-reloadable). */
  ratio: SwitchableRatioSampler;
  describe: Record<string, unknown>;
  /** Load what was deferred at start-up (the OTLP exporter); call once the process is ready. */
  warm(): Promise<void>;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

function buildSampler(s: OtelSettings, ratio: SwitchableRatioSampler): Sampler {
  switch (s.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}

async function otlpExporter(s: OtelSettings): Promise<SpanExporter> {
  // Endpoint, headers, timeout and compression come from OTEL_EXPORTER_OTLP_*.
  if (s.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter();
  }
  // The package's exporter with a faster batch encoder (same bytes) that sends from a worker thread (otlp-proto-exporter.ts).
  const { OTLPTraceExporter } = await import('./otlp-proto-exporter.js');
  return new OTLPTraceExporter();
}

export function otlpEndpointForLog(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318';
  return `${base.replace(/\/$/, '')}/v1/traces`;
}

export async function startTracing(
  s: OtelSettings,
  log: TelemetryLog,
  serviceDefaults: { name: string; version: string },
  /** Install as the process-wide API globals (the process does; most tests don't). */
  global = true,
  /** Extra span processors (tests attach an in-memory exporter here). */
  extraProcessors: SpanProcessor[] = [],
  /** Not global: the context manager the API uses (tests install their own). */
  contextManager?: AsyncLocalStorageContextManager,
): Promise<Tracing> {
  const ratio = new SwitchableRatioSampler(s.ratio);
  const propagators = s.propagators.map((p) =>
    p === 'tracecontext' ? new W3CTraceContextPropagator() : new W3CBaggagePropagator(),
  );
  const propagator = new CompositePropagator({ propagators });
  if (s.disabled) {
    const tracer = trace.getTracerProvider().getTracer('periscope');
    return {
      enabled: false,
      tracer,
      serverSpans: new ServerSpanStarter(tracer, undefined, undefined),
      requestContext: undefined,
      propagator,
      ratio,
      describe: { enabled: false, reason: 'OTEL_SDK_DISABLED=true' },
      warm: async () => {},
      forceFlush: async () => {},
      shutdown: async () => {},
    };
  }

  // service.name: OTEL_SERVICE_NAME > OTEL_RESOURCE_ATTRIBUTES > the package's own name.
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: serviceDefaults.name,
        [ATTR_SERVICE_VERSION]: serviceDefaults.version,
      }),
    )
    .merge(detectResources({ detectors: [envDetector] }));

  const spanProcessors: SpanProcessor[] = [...extraProcessors];
  const deferred: DeferredExporter[] = [];
  for (const name of s.exporters) {
    const inner = name === 'otlp' ? new DeferredExporter(() => otlpExporter(s)) : new ConsoleSpanExporter();
    if (inner instanceof DeferredExporter) deferred.push(inner);
    const target = name === 'otlp' ? otlpEndpointForLog() : 'console';
    // Batching keeps export off the request path; OTEL_BSP_* tune it.
    spanProcessors.push(new BatchSpanProcessor(new ReportingExporter(inner, target, log)));
  }

  const sampler = buildSampler(s, ratio);
  const ids = new PooledIdGenerator();
  const provider = new BasicTracerProvider({ resource, sampler, spanProcessors, idGenerator: ids });
  const tracer = provider.getTracer('periscope');
  let manager = contextManager;
  if (global) {
    // SDK components report through `diag`; route warnings and errors to the log.
    diag.setLogger(
      {
        error: (msg, ...args) => log.warn(`opentelemetry: ${msg}`, args.length ? { args: String(args) } : undefined),
        warn: (msg, ...args) => log.warn(`opentelemetry: ${msg}`, args.length ? { args: String(args) } : undefined),
        info: () => {},
        debug: () => {},
        verbose: () => {},
      },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(propagator);
  }

  return {
    enabled: true,
    tracer,
    serverSpans: new ServerSpanStarter(tracer, sampler, ids, s.sampler.endsWith('traceidratio') ? ratio : undefined),
    requestContext: manager && requestContextEntry(manager),
    propagator,
    ratio,
    describe: {
      enabled: true,
      service_name: resource.attributes[ATTR_SERVICE_NAME],
      sampler: s.sampler,
      ratio: s.sampler.endsWith('traceidratio') ? s.ratio : undefined,
      exporters: s.exporters.length ? s.exporters : ['none'],
      exporter_reason: s.exporterReason,
      endpoint: s.exporters.includes('otlp') ? otlpEndpointForLog() : undefined,
      protocol: s.exporters.includes('otlp') ? s.protocol : undefined,
    },
    warm: async () => {
      await Promise.all(deferred.map((d) => d.warm()));
    },
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
