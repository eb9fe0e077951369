// A root sampler whose ratio can change at runtime (CONFIG_FILE hot reload).
// It delegates to the SDK's own TraceIdRatioBasedSampler and swaps the
// instance, so the sampling decision stays the SDK's, spec-defined one.
import type { Attributes, Context, Link, Sampler, SamplingResult, SpanKind } from '@opentelemetry/api';

export class SwitchableRatioSampler implements Sampler {
  #inner: Sampler;
  #ratio: number;

  constructor(
    ratio: number,
    private readonly make: (ratio: number) => Sampler,
  ) {
    this.#ratio = ratio;
    this.#inner = make(ratio);
  }

  get ratio(): number {
    return this.#ratio;
  }

  set(ratio: number): void {
    if (ratio === this.#ratio) return;
    this.#ratio = ratio;
    this.#inner = this.make(ratio);
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    return this.#inner.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `Switchable{${this.#inner.toString()}}`;
  }
}
