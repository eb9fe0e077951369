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
//
// With a *traceidratio sampler (the default) and no incoming parent, even the
// sampler call is skipped: the ratio decision comes from the hash the id
// generator read off the random bytes (PooledIdGenerator.rootTraceId), and a
// sampled span's second, SDK-side sampler call is answered from the decision
// (SwitchableRatioSampler). The SDK sampler spends ~0.5 µs per call parsing
// hex and matching a regex (Node 24, this project's CI machine): 2% of a
// whole request's CPU at the default profile, on every request.
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
import type { SwitchableRatioSampler } from './switchable-sampler.js';

const NO_ATTRIBUTES = Object.freeze({});
const NO_LINKS: [] = [];

export class ServerSpanStarter {
  constructor(
    private readonly tracer: Tracer,
    private readonly sampler: Sampler | undefined,
    private readonly ids: PooledIdGenerator | undefined,
    /** The root ratio, when the sampler is (parentbased_)traceidratio. */
    private readonly rootRatio?: SwitchableRatioSampler,
  ) {}

  start(name: string, parent: Context): Span {
    const { sampler, ids } = this;
    if (!sampler || !ids) return this.tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
    const parentSc = trace.getSpanContext(parent);
    const hasParent = parentSc !== undefined && isSpanContextValid(parentSc);
    const rootRatio = hasParent ? undefined : this.rootRatio;
    const traceId = hasParent ? parentSc.traceId : rootRatio ? ids.rootTraceId() : ids.generateTraceId();
    let sampled: boolean;
    let traceState = parentSc?.traceState;
    if (rootRatio && ids.rootTraceHash >= 0) {
      sampled = rootRatio.sampledHash(ids.rootTraceHash);
      if (sampled) rootRatio.expectSampled(traceId);
    } else {
      const result = sampler.shouldSample(parent, traceId, name, SpanKind.SERVER, NO_ATTRIBUTES, NO_LINKS);
      sampled = result.decision !== SamplingDecision.NOT_RECORD;
      traceState = result.traceState ?? traceState;
    }
    if (!sampled) {
      return trace.wrapSpanContext({
        traceId,
        spanId: ids.generateSpanId(),
        traceFlags: TraceFlags.NONE,
        traceState,
      });
    }
    if (!hasParent) ids.presetTraceId(traceId);
    return this.tracer.startSpan(name, { kind: SpanKind.SERVER }, parent);
  }
}
