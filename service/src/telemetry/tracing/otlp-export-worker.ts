// The span exporter's HTTP side, on a worker thread: receives encoded batches
// from ./otlp-proto-exporter.ts and POSTs them with @opentelemetry/otlp-exporter-base's
// HTTP export delegate — its retries, timeout, compression, headers, bounded
// concurrency and its reading of every OTEL_EXPORTER_OTLP_* variable (the
// worker starts with the process's environment) — exactly as the package's
// exporter does on the main thread.
//
// Why a thread: an HTTP client in the same isolate as the server costs the
// server's every request. Three 100 KB POSTs a second (about the export rate
// at 10 % sampling under load) took the service from 0.79-0.81 of bare
// Fastify's throughput to 0.73-0.75, loaded together with the same build
// without them; from a worker, 0.77 (docs/telemetry.md). The client runs
// Node's stream, socket and HTTP code with objects of other shapes, and the
// server's hot paths through that shared code lose their single-shape form.
import { parentPort } from 'node:worker_threads';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import type { EncodedBatch, ExportErrorData, FromExportWorker, ToExportWorker } from './otlp-export-messages.js';

const port = parentPort;
if (!port) throw new Error('otlp-export-worker.ts runs as a worker thread (see otlp-proto-exporter.ts)');
const send = (m: FromExportWorker) => port.postMessage(m);

// The delegate reports a partial success or a bad response through diag: to
// the main thread's diag logger, where the service's telemetry log listens.
const forward =
  (level: 'error' | 'warn') =>
  (message: string, ...args: unknown[]) =>
    send({
      type: 'diag',
      level,
      message: [message, ...args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a)))].join(' '),
    });
const ignore = () => {};
diag.setLogger(
  { error: forward('error'), warn: forward('warn'), info: ignore, debug: ignore, verbose: ignore },
  DiagLogLevel.WARN,
);

const delegate = createOtlpHttpExportDelegate<
  EncodedBatch,
  ReturnType<typeof ProtobufTraceSerializer.deserializeResponse>
>(
  convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
  // Batches arrive encoded; responses (partial success) are read by the transformer's own deserializer.
  { serializeRequest: (batch) => batch.bytes, deserializeResponse: ProtobufTraceSerializer.deserializeResponse },
  // The exporter's self-observability component type (semantic conventions);
  // its metrics stay off without a meter provider, as in the package's exporter.
  'otlp_http_span_exporter',
  { name: TraceExporterMetricsHelper.name, countItems: (batch) => batch.spans },
  undefined,
);

function errorData(error: Error | undefined): ExportErrorData | undefined {
  if (!error) return undefined;
  const { code, data } = error as Error & { code?: unknown; data?: unknown };
  return {
    name: error.name,
    message: error.message,
    code: typeof code === 'number' ? code : undefined,
    data: typeof data === 'string' ? data : undefined,
  };
}

port.on('message', (m: ToExportWorker) => {
  if (m.type === 'export') {
    delegate.export(m.batch, (result) =>
      send({ type: 'result', id: m.id, code: result.code, error: errorData(result.error) }),
    );
  } else {
    void delegate.shutdown().then(() => send({ type: 'closed' }));
  }
});
