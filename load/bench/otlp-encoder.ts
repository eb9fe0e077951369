// Microbenchmark: encoding a batch of server spans as OTLP/protobuf, the
// OpenTelemetry transformer's encoder against the service's
// (service/src/telemetry/tracing/otlp-trace-serializer.ts). Spans are made by
// the real SDK with the service's id generator and the ten attributes of a
// server span, so ids are the sliced strings the service exports.
//
//   npm run bench:otlp-encoder [-- --spans 512 --batches 400 --rounds 5]
//
// Run it on the production Node (24): the figures in docs/telemetry.md are
// from there. Prints µs a span for each encoder, per round, then medians;
// both encoders take turns within a round. It checks the two outputs are the
// same bytes before timing anything.
import { parseArgs } from 'node:util';
import { SpanKind } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { serializeTraceExportRequest } from '../../service/src/telemetry/tracing/otlp-trace-serializer.js';
import { PooledIdGenerator } from '../../service/src/telemetry/tracing/pooled-id-generator.js';

const { values } = parseArgs({
  options: {
    spans: { type: 'string', default: '512' },
    batches: { type: 'string', default: '400' },
    rounds: { type: 'string', default: '5' },
  },
});
const SPANS = Number(values.spans);
const BATCHES = Number(values.batches);
const ROUNDS = Number(values.rounds);

function serverSpans(n: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'periscope', 'service.version': '0.1.0', 'process.pid': 1 }),
    idGenerator: new PooledIdGenerator(),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('periscope', '0.1.0');
  for (let i = 0; i < n; i++) {
    const span = tracer.startSpan('GET /api/sleep', { kind: SpanKind.SERVER });
    span.setAttributes({
      'http.request.method': 'GET',
      'url.path': '/api/sleep',
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'server.port': 3000,
      'network.protocol.version': '1.1',
      'client.address': '127.0.0.1',
      'user_agent.original': 'wrk',
      'http.route': '/api/sleep',
      'http.response.status_code': 200,
    });
    span.end();
  }
  return exporter.getFinishedSpans();
}

const encoders: [string, (spans: ReadableSpan[]) => Uint8Array | undefined][] = [
  ['transformer', (s) => ProtobufTraceSerializer.serializeRequest(s)],
  ['service', serializeTraceExportRequest],
];

const spans = serverSpans(SPANS);
const a = Buffer.from(encoders[0]?.[1](spans) ?? []);
const b = Buffer.from(encoders[1]?.[1](spans) ?? []);
if (!a.equals(b)) throw new Error('the two encoders disagree: fix otlp-trace-serializer.ts before timing it');
console.log(`node ${process.version}, ${SPANS} spans a batch (${a.length} bytes), ${BATCHES} batches a round`);

const perSpan = new Map<string, number[]>(encoders.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 ? [...encoders].reverse() : encoders;
  for (const [name, encode] of order) {
    for (let i = 0; i < BATCHES / 4; i++) encode(spans); // warm
    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCHES; i++) encode(spans);
    const us = Number(process.hrtime.bigint() - start) / 1000 / BATCHES / SPANS;
    perSpan.get(name)?.push(us);
  }
  console.log(`round ${round + 1}: ${[...perSpan].map(([n, v]) => `${n} ${v.at(-1)?.toFixed(2)} µs/span`).join(', ')}`);
}
const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)] ?? Number.NaN;
const [t, s] = [median(perSpan.get('transformer') ?? []), median(perSpan.get('service') ?? [])];
console.log(
  `median: transformer ${t.toFixed(2)} µs/span, service ${s.toFixed(2)} µs/span (${(t / s).toFixed(1)}× faster)`,
);
