// Starting the server span of a request, with a fast path for the common case.
//
// At the default 10% sampling, nine requests in ten are not recorded. For
// those the SDK's Tracer.startSpan still does work that only matters for a
// recorded span (links, attribute sanitising, tracer metrics, a diag call);
// in the request profile it was the largest telemetry cost. So the sampling
// decision is taken here first, with the configured sampler, exactly as the
// SDK would (same inputs: parent context, trace id, name, kind), and an
// unsampled request gets the same NonRecordingSpan the SDK would return.
// A sampled request goes through Tracer.startSpan as usual; its root trace
// id is preset in the id generator so the SDK's own (deterministic) sampling
// call sees the same id and reaches the same decision.
import {
  type Context,
  isSpanContextValid,
  type Sampler,
  SamplingDecision,
  type Span,
  SpanKind,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { PooledIdGenerator } from './pooled-id-generator.js';

const NO_ATTRIBUTES = Object.freeze({});
const NO_LINKS: [] = [];

export class ServerSpanStarter {
  constructor(
    private readonly tracer: Tracer,
    private readonly sampler: Sampler | undefined,
    private readonly ids: PooledIdGenerator | undefined,
  ) {}

  start(name: string, parent: Context): Span {
    const { sampler, ids } = this;
    if (!sampler || !ids) return this.tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
    const parentSc = trace.getSpanContext(parent);
    const hasParent = parentSc !== undefined && isSpanContextValid(parentSc);
    const traceId = hasParent ? parentSc.traceId : ids.generateTraceId();
    const result = sampler.shouldSample(parent, traceId, name, SpanKind.SERVER, NO_ATTRIBUTES, NO_LINKS);
    if (result.decision === SamplingDecision.NOT_RECORD) {
      return trace.wrapSpanContext({
        traceId,
        spanId: ids.generateSpanId(),
        traceFlags: TraceFlags.NONE,
        traceState: result.traceState ?? parentSc?.traceState,
      });
    }
    if (!hasParent) ids.presetTraceId(traceId);
    return this.tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
  }
}
