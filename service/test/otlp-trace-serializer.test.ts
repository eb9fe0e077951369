// The service's OTLP/protobuf batch encoder (telemetry/tracing/otlp-trace-serializer.ts)
// writes exactly the bytes @opentelemetry/otlp-transformer writes, for every
// part of a span, and its exporter sends them where the OTLP variables say.
// (What a real backend makes of them: infra/test/telemetry-jaeger.test.ts.)
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Attributes,
  context,
  type Link,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { OTLPTraceExporter } from '../src/telemetry/tracing/otlp-proto-exporter.js';
import { serializeTraceExportRequest } from '../src/telemetry/tracing/otlp-trace-serializer.js';
import { PooledIdGenerator } from '../src/telemetry/tracing/pooled-id-generator.js';

const reference = (spans: ReadableSpan[]) => Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) ?? []);
const ours = (spans: ReadableSpan[]) => Buffer.from(serializeTraceExportRequest(spans));

/** A provider whose finished spans can be read back. */
function recorder(resource: Attributes, schemaUrl?: string) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource, schemaUrl ? { schemaUrl } : undefined),
    idGenerator: new PooledIdGenerator(),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { provider, spans: () => exporter.getFinishedSpans() };
}

const REMOTE_PARENT = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
  traceState: new TraceState('vendor=a,other=b'),
});

/** A server span as the service makes one (telemetry/http-server.ts). */
function serverSpan(tracer: ReturnType<BasicTracerProvider['getTracer']>, status: number, parent = ROOT_CONTEXT) {
  const span = tracer.startSpan('GET /api/items/:id', { kind: SpanKind.SERVER }, parent);
  span.setAttribute('http.request.method', 'GET');
  span.setAttribute('url.path', '/api/items/42');
  span.setAttribute('url.scheme', 'http');
  span.setAttribute('server.address', 'localhost');
  span.setAttribute('server.port', 3000);
  span.setAttribute('network.protocol.version', '1.1');
  span.setAttribute('client.address', '127.0.0.1');
  span.setAttribute('user_agent.original', 'curl/8.5.0');
  span.setAttribute('http.route', '/api/items/:id');
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) {
    span.setAttribute('error.type', String(status));
    span.recordException(new Error('boom'));
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  }
  span.end();
}

describe('serializeTraceExportRequest', () => {
  it('writes what the transformer writes for a batch of server spans, ok and failed, root and remote child', () => {
    const r = recorder({ 'service.name': 'periscope', 'service.version': '1.2.3', 'process.pid': 4242 });
    const tracer = r.provider.getTracer('periscope', '0.1.0');
    for (let i = 0; i < 300; i++) serverSpan(tracer, i % 9 === 0 ? 503 : 200, i % 2 ? REMOTE_PARENT : ROOT_CONTEXT);
    const spans = r.spans();
    expect(spans).toHaveLength(300);
    const bytes = ours(spans);
    expect(bytes.length).toBeGreaterThan(300 * 200);
    expect(bytes.equals(reference(spans))).toBe(true);
  });

  it('every attribute type, non-ASCII and long strings, events, links, trace state, kinds and status messages', () => {
    const r = recorder(
      { 'service.name': 'périscope ✓', 'deployment.environment.name': 'x'.repeat(300) },
      'https://opentelemetry.io/schemas/1.30.0',
    );
    const tracer = r.provider.getTracer('scope-a', undefined, { schemaUrl: 'https://example.com/schema' });
    const link: Link = {
      context: {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: 0,
        isRemote: true,
        traceState: new TraceState('k=v'),
      },
      attributes: { 'link.kind': 'follows', n: 3 },
      droppedAttributesCount: 2,
    };
    for (const kind of [SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER]) {
      const span = tracer.startSpan(`span ${kind} — ünïcode 🚀`, { kind, links: [link, { context: link.context }] });
      span.setAttributes({
        str: 'value',
        empty: '',
        unicode: 'naïve 日本語 🚀',
        long: 'y'.repeat(20_000), // a length that needs three varint bytes
        int: 42,
        zero: 0,
        negative: -7,
        big: 2 ** 40 + 3,
        minSafe: Number.MIN_SAFE_INTEGER,
        double: 3.25,
        negDouble: -0.5,
        tiny: 1e-300,
        yes: true,
        no: false,
        strings: ['a', 'bé', ''],
        numbers: [1, 2.5, -3],
        bools: [true, false],
        holes: ['a', null, undefined, 'b'] as string[],
      });
      span.addEvent('plain');
      span.addEvent('with attributes', { 'event.n': 1, 'event.s': 'ś' }, [1_700_000_000, 123_456_789]);
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'it broke: ✗' });
      span.end();
    }
    // A second scope and an ok span without a message.
    const other = r.provider.getTracer('scope-b', '2.0.0');
    other.startSpan('plain').end();
    context.with(REMOTE_PARENT, () => other.startSpan('child of remote').end());
    const spans = r.spans();
    expect(ours(spans).equals(reference(spans))).toBe(true);
  });

  it('groups spans of two resources and two scopes as the transformer does', () => {
    const a = recorder({ 'service.name': 'a' });
    const b = recorder({ 'service.name': 'b' });
    const mixed: ReadableSpan[] = [];
    for (let i = 0; i < 6; i++) {
      const r = i % 2 ? a : b;
      r.provider
        .getTracer(i % 3 ? 'one' : 'two')
        .startSpan(`s${i}`)
        .end();
    }
    mixed.push(...a.spans(), ...b.spans());
    mixed.sort((x, y) => x.name.localeCompare(y.name));
    expect(ours(mixed).equals(reference(mixed))).toBe(true);
  });

  it('decodes uppercase and malformed ids byte for byte as the transformer does', () => {
    const r = recorder({ 'service.name': 'ids' });
    r.provider.getTracer('t').startSpan('x').end();
    const real = r.spans()[0] as ReadableSpan;
    const withIds = (traceId: string, spanId: string): ReadableSpan =>
      Object.assign(Object.create(real), { spanContext: () => ({ ...real.spanContext(), traceId, spanId }) });
    for (const span of [
      withIds('0AF7651916CD43DD8448EB211C80319C', 'B7AD6B7169203331'),
      withIds('0af7651916cd43dd8448eb21zz80319c', 'b7ad6b71692033g1'),
    ]) {
      expect(ours([span]).equals(reference([span]))).toBe(true);
    }
  });

  it('an empty batch is empty', () => {
    expect(ours([]).length).toBe(0);
    expect(reference([]).length).toBe(0);
  });

  it('batches far larger than the last one (the buffer grows)', () => {
    const r = recorder({ 'service.name': 'grow' });
    const tracer = r.provider.getTracer('t');
    serverSpan(tracer, 200);
    const one = r.spans();
    expect(ours(one).equals(reference(one))).toBe(true);
    for (let i = 0; i < 2_000; i++) serverSpan(tracer, 200);
    const many = r.spans();
    expect(ours(many).equals(reference(many))).toBe(true);
  });
});

describe('OTLPTraceExporter (service)', () => {
  const KEYS = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_HEADERS'] as const;
  const saved = KEYS.map((k) => process.env[k]);
  afterEach(() => {
    KEYS.forEach((k, i) => {
      if (saved[i] === undefined) delete process.env[k];
      else process.env[k] = saved[i];
    });
  });

  /** A local OTLP endpoint answering each POST with `answer`; the env points the exporter at it. */
  async function collector(answer: (res: ServerResponse) => void) {
    const received: { url?: string; type?: string; auth?: string; body: Buffer }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          url: req.url,
          type: req.headers['content-type'],
          auth: req.headers.authorization,
          body: Buffer.concat(chunks),
        });
        answer(res);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
    return { received, close: () => server.close() };
  }
  const ok = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  const exportOnce = (exporter: OTLPTraceExporter, spans: ReturnType<ReturnType<typeof recorder>['spans']>) =>
    new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));

  it('POSTs the encoded batch as application/x-protobuf to the configured endpoint, with its headers, from a worker thread', async () => {
    const c = await collector(ok);
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'authorization=Bearer%20t0ken';
    // An HTTP client request made on this thread would show up here.
    const onThisThread: unknown[] = [];
    const seen = (m: unknown) => onThisThread.push(m);
    subscribe('http.client.request.start', seen);
    const exporter = new OTLPTraceExporter();
    try {
      const r = recorder({ 'service.name': 'exported' });
      serverSpan(r.provider.getTracer('t'), 200);
      const spans = r.spans();
      const result = await exportOnce(exporter, spans);
      expect(result.error).toBeUndefined();
      expect(result.code).toBe(0);
      expect(c.received).toHaveLength(1);
      expect(c.received[0]).toMatchObject({ url: '/v1/traces', type: 'application/x-protobuf', auth: 'Bearer t0ken' });
      expect(c.received[0]?.body.equals(reference(spans))).toBe(true);
      expect(onThisThread).toEqual([]);
    } finally {
      unsubscribe('http.client.request.start', seen);
      await exporter.shutdown();
      c.close();
    }
  });

  it('reports a refused batch as failed, with the status and the reason, and keeps exporting', async () => {
    let refuse = true;
    const c = await collector((res) =>
      refuse ? res.writeHead(400, { 'content-type': 'text/plain' }).end('bad batch') : ok(res),
    );
    const exporter = new OTLPTraceExporter();
    try {
      const r = recorder({ 'service.name': 'refused' });
      serverSpan(r.provider.getTracer('t'), 200);
      const refused = await exportOnce(exporter, r.spans());
      expect(refused.code).toBe(1);
      expect(refused.error).toMatchObject({ name: 'OTLPExporterError', code: 400, data: 'bad batch' });
      refuse = false;
      expect((await exportOnce(exporter, r.spans())).code).toBe(0);
      expect(c.received).toHaveLength(2);
    } finally {
      await exporter.shutdown();
      c.close();
    }
  });

  it('fails the batches of a worker that dies, and starts a new one for the next batch', async () => {
    const c = await collector(ok);
    const dir = mkdtempSync(join(tmpdir(), 'periscope-export-worker-'));
    const dying = join(dir, 'dying.cjs');
    writeFileSync(dying, "require('node:worker_threads').parentPort.on('message', () => process.exit(3));\n");
    const exporter = new OTLPTraceExporter({ workerFile: dying });
    try {
      const r = recorder({ 'service.name': 'dying' });
      serverSpan(r.provider.getTracer('t'), 200);
      const first = await exportOnce(exporter, r.spans());
      expect(first.code).toBe(1);
      expect(first.error?.message).toMatch(/exited \(code 3\)/);
      const second = await exportOnce(exporter, r.spans());
      expect(second.error?.message).toMatch(/exited \(code 3\)/);
      await exporter.forceFlush();
      const none = new OTLPTraceExporter({ workerFile: join(dir, 'missing.cjs') });
      expect((await exportOnce(none, r.spans())).code).toBe(1);
      await none.shutdown();
    } finally {
      await exporter.shutdown();
      c.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shutdown waits for the batch in flight, then refuses new ones', async () => {
    const c = await collector((res) => setTimeout(() => ok(res), 300));
    const exporter = new OTLPTraceExporter();
    const r = recorder({ 'service.name': 'slow' });
    serverSpan(r.provider.getTracer('t'), 200);
    const results: number[] = [];
    exporter.export(r.spans(), (result) => results.push(result.code));
    await exporter.shutdown();
    expect(results).toEqual([0]);
    expect((await exportOnce(exporter, r.spans())).code).toBe(1);
    c.close();
  });
});
