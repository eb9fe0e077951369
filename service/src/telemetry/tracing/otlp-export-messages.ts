// What the span exporter (./otlp-proto-exporter.ts) and its export worker
// (./otlp-export-worker.ts) say to each other.

/** A batch of spans, encoded. */
export interface EncodedBatch {
  /** An ExportTraceServiceRequest; its buffer is transferred, not copied. */
  bytes: Uint8Array;
  /** How many spans it holds (the exporter's self-observability counts them). */
  spans: number;
}

/** Main thread → worker. */
export type ToExportWorker =
  | { type: 'export'; id: number; batch: EncodedBatch }
  /** Finish what is in flight, then say 'closed'. */
  | { type: 'shutdown' };

/** An export error as plain data (an Error loses its own fields in a postMessage). */
export interface ExportErrorData {
  name: string;
  message: string;
  /** OTLPExporterError: the HTTP status and response body, when there was one. */
  code?: number | undefined;
  data?: string | undefined;
}

/** Worker → main thread. */
export type FromExportWorker =
  | { type: 'result'; id: number; code: number; error?: ExportErrorData | undefined }
  | { type: 'diag'; level: 'error' | 'warn'; message: string }
  | { type: 'closed' };
