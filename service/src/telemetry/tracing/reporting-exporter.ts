// Wraps a span exporter so a dead collector is reported once, not once per
// batch: the first failure is logged with the target and the reason, the
// following ones are only counted, and the recovery is logged with that count.
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TelemetryLog } from './provider.js';

export class ReportingExporter implements SpanExporter {
  #failing = false;
  #failedBatches = 0;
  #droppedSpans = 0;

  constructor(
    private readonly inner: SpanExporter,
    private readonly target: string,
    private readonly log: TelemetryLog,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        if (this.#failing) {
          this.log.info('span export recovered', {
            target: this.target,
            failed_batches: this.#failedBatches,
            dropped_spans: this.#droppedSpans,
          });
        }
        this.#failing = false;
        this.#failedBatches = 0;
        this.#droppedSpans = 0;
      } else {
        if (!this.#failing) {
          this.log.warn('span export failing; further failures are counted, not logged, until it recovers', {
            target: this.target,
            reason: result.error?.message ?? 'unknown',
          });
        }
        this.#failing = true;
        this.#failedBatches++;
        this.#droppedSpans += spans.length;
      }
      // Report success upwards either way: the failure is handled (logged),
      // and the SDK's global error handler would log it again per batch.
      done({ code: ExportResultCode.SUCCESS });
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
