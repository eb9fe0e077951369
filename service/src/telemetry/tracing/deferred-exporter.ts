// A span exporter that loads the real one when it is first needed.
//
// The OTLP exporter and its protobuf serialiser took ~140 ms to load at
// start-up, while the first batch of spans is exported seconds later (the
// batch processor's schedule delay). So the process becomes ready without it,
// loads it in the background once ready (`warm()`), and a batch that arrives
// before that simply waits for the load.
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

export class DeferredExporter implements SpanExporter {
  #loading: Promise<SpanExporter> | undefined;

  constructor(private readonly load: () => Promise<SpanExporter>) {}

  /** Start loading now (idempotent). */
  warm(): Promise<SpanExporter> {
    this.#loading ??= this.load();
    return this.#loading;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.warm().then(
      (exporter) => exporter.export(spans, done),
      (error: Error) => done({ code: ExportResultCode.FAILED, error }),
    );
  }

  async shutdown(): Promise<void> {
    if (this.#loading) await (await this.#loading).shutdown();
  }

  async forceFlush(): Promise<void> {
    if (this.#loading) await (await this.#loading).forceFlush?.();
  }
}
