// The OTLP/HTTP protobuf span exporter: @opentelemetry/exporter-trace-otlp-proto's
// OTLPTraceExporter, put together from the same public parts (the HTTP export
// delegate with its retries, timeout, compression, headers and its reading of
// every OTEL_EXPORTER_OTLP_* variable), with one part swapped: the batch is
// encoded by ./otlp-trace-serializer.ts, which writes the same bytes in about
// a third of the time. Responses (partial success) are read by the
// transformer's own deserializer.
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { serializeTraceExportRequest } from './otlp-trace-serializer.js';

const serializer: typeof ProtobufTraceSerializer = {
  serializeRequest: serializeTraceExportRequest,
  deserializeResponse: ProtobufTraceSerializer.deserializeResponse,
};

export class OTLPTraceExporter extends OTLPExporterBase<ReadableSpan[]> implements SpanExporter {
  constructor() {
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
        serializer,
        // The exporter's self-observability component type (semantic conventions);
        // its metrics stay off without a meter provider, as in the package's exporter.
        'otlp_http_span_exporter',
        TraceExporterMetricsHelper,
        undefined,
      ),
    );
  }
}
