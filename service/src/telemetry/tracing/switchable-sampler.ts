// A root sampler whose ratio can change at runtime (CONFIG_FILE hot reload).
// It delegates to the SDK's own TraceIdRatioBasedSampler and swaps the
// instance, so the sampling decision stays the SDK's, spec-defined one.
//
// Two shortcuts for the request path (tracing/server-span.ts), both giving
// the decision the SDK sampler gives (a test checks it over random ids):
//   sampledHash  the decision from the trace id's hash, which the id
//                generator already has (no hex parsing, no regex)
//   expectSampled the next call for this trace id answers "sampled" without
//                recomputing: the SDK's startSpan asks again for a span the
//                server-span starter has just decided to record.
import {
  type Attributes,
  type Context,
  type Link,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
  type SpanKind,
} from '@opentelemetry/api';
import { TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';

const SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });

/** The SDK TraceIdRatioBasedSampler's bound: a trace id whose hash is below it is sampled. */
export function ratioUpperBound(ratio: number): number {
  // The SDK's _normalize: NaN → 0, clamped to [0, 1].
  const r = typeof ratio !== 'number' || Number.isNaN(ratio) ? 0 : Math.min(Math.max(ratio, 0), 1);
  return r === 1 ? 0x100000000 : Math.floor(r * 0xffffffff);
}

export class SwitchableRatioSampler implements Sampler {
  #inner: Sampler;
  #ratio: number;
  #upperBound: number;
  #expected: string | undefined;

  constructor(ratio: number) {
    this.#ratio = ratio;
    this.#inner = new TraceIdRatioBasedSampler(ratio);
    this.#upperBound = ratioUpperBound(ratio);
  }

  get ratio(): number {
    return this.#ratio;
  }

  set(ratio: number): void {
    if (ratio === this.#ratio) return;
    this.#ratio = ratio;
    this.#inner = new TraceIdRatioBasedSampler(ratio);
    this.#upperBound = ratioUpperBound(ratio);
  }

  /** The decision for a root trace id, from its hash (PooledIdGenerator.rootTraceHash). */
  sampledHash(hash: number): boolean {
    return hash < this.#upperBound;
  }

  /** The next shouldSample for exactly this trace id returns "sampled" (it was just decided). */
  expectSampled(traceId: string): void {
    this.#expected = traceId;
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    if (this.#expected !== undefined) {
      const expected = this.#expected;
      this.#expected = undefined;
      if (traceId === expected) return SAMPLED;
    }
    return this.#inner.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `Switchable{${this.#inner.toString()}}`;
  }
}
