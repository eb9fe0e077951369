// The OTLP/HTTP protobuf span exporter: what @opentelemetry/exporter-trace-otlp-proto's
// OTLPTraceExporter does, in two parts.
//
// - Here, on the main thread: each batch is encoded by ./otlp-trace-serializer.ts
//   (the transformer's bytes in about a third of the time) and handed to
//   - a worker thread (./otlp-export-worker.ts), which POSTs it with the
//   package's own HTTP export delegate: retries, timeout, compression,
//   headers, bounded concurrency, every OTEL_EXPORTER_OTLP_* variable.
//
// Why the thread: the HTTP client is kept out of the server's isolate
// (measured in the worker's header and README, Performance). Encoding stays
// here: a batch crosses as bytes (its buffer transferred), where spans would
// have to be copied field by field.
//
// The worker starts with the first batch (none while the service is idle), is
// restarted by the next batch if it ever dies (the batches it held fail, and
// the failure is reported like a dead collector), and does not keep the
// process alive. shutdown() waits for the batches in flight, as the package's
// exporter does.
import { Worker } from 'node:worker_threads';
import { diag } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPExporterError } from '@opentelemetry/otlp-exporter-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { workerFile } from '../../workers/worker-file.js';
import type { ExportErrorData, FromExportWorker, ToExportWorker } from './otlp-export-messages.js';
import { serializeTraceExportRequest } from './otlp-trace-serializer.js';

const SHUTDOWN_WAIT_MS = 30_000;
const WORKER_HEAP = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 };

export class OTLPTraceExporter implements SpanExporter {
  #worker: Worker | undefined;
  #closed: (() => void) | undefined;
  readonly #pending = new Map<number, (result: ExportResult) => void>();
  #flushWaiters: Array<() => void> = [];
  #nextId = 0;
  #shutDown = false;

  /** `workerFile`: another worker module (tests); by default ./otlp-export-worker's built file. */
  constructor(private readonly options: { workerFile?: string } = {}) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.#shutDown) {
      done({ code: ExportResultCode.FAILED, error: new Error('span exporter is shut down') });
      return;
    }
    let encoded: Uint8Array | undefined;
    try {
      encoded = serializeTraceExportRequest(spans);
    } catch (err) {
      done({ code: ExportResultCode.FAILED, error: err as Error });
      return;
    }
    if (!encoded) {
      done({ code: ExportResultCode.FAILED, error: new Error('spans could not be encoded') });
      return;
    }
    // A copy of its own to transfer: the encoder's buffer may be a slice of
    // Node's shared pool. (A few hundred KB a second at most: ~µs.)
    const bytes = new Uint8Array(encoded);
    let worker: Worker;
    try {
      worker = this.#start();
    } catch (err) {
      // No worker file (an incomplete build): the batch fails with the reason; nothing waits for it.
      done({ code: ExportResultCode.FAILED, error: err as Error });
      return;
    }
    const id = ++this.#nextId;
    this.#pending.set(id, done);
    const message: ToExportWorker = { type: 'export', id, batch: { bytes, spans: spans.length } };
    worker.postMessage(message, [bytes.buffer]);
  }

  forceFlush(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#flushWaiters.push(resolve));
  }

  async shutdown(): Promise<void> {
    this.#shutDown = true;
    await this.forceFlush();
    const worker = this.#worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, SHUTDOWN_WAIT_MS);
      timer.unref();
      this.#closed = () => {
        clearTimeout(timer);
        resolve();
      };
      const message: ToExportWorker = { type: 'shutdown' };
      worker.postMessage(message);
    });
    await worker.terminate();
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    // A small heap: it holds a few encoded batches (outside the heap) and an
    // HTTP client. Uncapped, RSS after load was ~45 MB higher than exporting
    // on the main thread, capped ~18 (docs/telemetry.md); at the limit the
    // worker stops and the next batch starts a new one (above).
    // The bundle's .cjs next to the bundled exporter, else tsc's .js (workers/worker-file.ts).
    const file =
      this.options.workerFile ?? workerFile(['./otlp-export-worker.cjs', './otlp-export-worker.js'], import.meta.url);
    const worker = new Worker(file, { resourceLimits: WORKER_HEAP });
    // Batches in flight do not hold the process open; shutdown() waits for them.
    worker.unref();
    worker.on('message', (m: FromExportWorker) => this.#onMessage(m));
    worker.on('error', (err) => diag.error('span export worker failed', err));
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#worker = undefined;
      this.#closed?.();
      if (this.#pending.size > 0) this.#failAll(new Error(`span export worker exited (code ${code})`));
    });
    this.#worker = worker;
    return worker;
  }

  #onMessage(m: FromExportWorker): void {
    if (m.type === 'result') {
      this.#settle(m.id, { code: m.code, error: m.error && toError(m.error) });
    } else if (m.type === 'diag') {
      diag[m.level](m.message);
    } else {
      this.#closed?.();
    }
  }

  #settle(id: number, result: ExportResult): void {
    const done = this.#pending.get(id);
    if (!done) return;
    this.#pending.delete(id);
    done(result);
    if (this.#pending.size === 0) {
      const waiters = this.#flushWaiters;
      this.#flushWaiters = [];
      for (const w of waiters) w();
    }
  }

  #failAll(error: Error): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id, { code: ExportResultCode.FAILED, error });
  }
}

function toError(e: ExportErrorData): Error {
  if (e.name === 'OTLPExporterError') return new OTLPExporterError(e.message, e.code, e.data);
  const error = new Error(e.message);
  error.name = e.name;
  return error;
}
