// Spans, trace-correlated logs and the access-log policy, in-process.
// (Export to a real OTLP backend and scraping by a real Prometheus: infra/test/.)
import { request as httpRequest } from 'node:http';
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SamplingDecision,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createTelemetry } from '../src/telemetry/telemetry.js';
import { type Built, build } from './helpers/build.js';
import { useGlobalContextManager } from './helpers/context-manager.js';
import { memoryLogger } from './helpers/memory-logger.js';

const contextManager = useGlobalContextManager();

let built: Built | undefined;
afterEach(async () => {
  await built?.close();
  built = undefined;
});

async function traced(env: Record<string, string> = {}) {
  const exporter = new InMemorySpanExporter();
  const telemetry = await createTelemetry(
    { OTEL_TRACES_SAMPLER: 'always_on', ...env },
    { global: false, contextManager, spanProcessors: [new SimpleSpanProcessor(exporter)] },
  );
  const mem = memoryLogger(telemetry.logMixin);
  built = await build({ env: { ACCESS_LOG: 'all', ...env }, logger: mem.logger, telemetry }, false);
  return { b: built, exporter, lines: mem.lines, telemetry };
}

const PARENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';

describe('server spans', () => {
  it('creates one SERVER span per request with semantic-convention attributes', async () => {
    const { b, exporter } = await traced();
    await b.app.inject({ url: '/api/sleep?ms=1', headers: { host: 'example.test:8080', 'user-agent': 'vitest' } });
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    const span = spans[0];
    expect(span?.name).toBe('GET /api/sleep');
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/api/sleep',
      'url.path': '/api/sleep',
      'url.scheme': 'http',
      'server.address': 'example.test',
      'server.port': 8080,
      'http.response.status_code': 200,
      'user_agent.original': 'vitest',
      'network.protocol.version': '1.1',
    });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('continues the caller trace from a W3C traceparent (and keeps tracestate)', async () => {
    const { b, exporter, lines } = await traced();
    const res = await b.app.inject({
      url: '/',
      headers: { traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-01`, tracestate: 'vendor=abc' },
    });
    const span = exporter.getFinishedSpans()[0];
    expect(span?.spanContext().traceId).toBe(PARENT_TRACE);
    expect(span?.parentSpanContext?.spanId).toBe(PARENT_SPAN);
    expect(span?.spanContext().traceState?.get('vendor')).toBe('abc');
    const line = lines.find((l) => l.req_id === res.headers['x-request-id']);
    expect(line).toMatchObject({ trace_id: PARENT_TRACE, span_id: span?.spanContext().spanId, trace_flags: '01' });
  });

  it('starts a new trace when traceparent is malformed', async () => {
    const { b, exporter } = await traced();
    for (const bad of [
      '00-zz-00-01',
      `ff-${PARENT_TRACE}-${PARENT_SPAN}-01`,
      `00-${'0'.repeat(32)}-${PARENT_SPAN}-01`,
    ]) {
      const res = await b.app.inject({ url: '/', headers: { traceparent: bad } });
      expect(res.statusCode).toBe(200);
    }
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(3);
    for (const s of spans) {
      expect(s.parentSpanContext).toBeUndefined();
      expect(s.spanContext().traceId).not.toBe(PARENT_TRACE);
    }
  });

  it('marks 5xx as errors with an exception event, and leaves 4xx unset', async () => {
    const { b, exporter } = await traced();
    b.app.get('/boom', async () => {
      throw new TypeError('kaboom');
    });
    await b.app.inject({ url: '/boom' });
    await b.app.inject({ url: '/api/sleep?ms=-1' });
    const [boom, invalid] = exporter.getFinishedSpans();
    expect(boom?.status.code).toBe(SpanStatusCode.ERROR);
    expect(boom?.attributes['error.type']).toBe('TypeError');
    expect(boom?.attributes['http.response.status_code']).toBe(500);
    const exception = boom?.events.find((e) => e.name === 'exception');
    expect(exception?.attributes?.['exception.message']).toBe('kaboom');
    expect(invalid?.attributes['http.response.status_code']).toBe(400);
    expect(invalid?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('names unmatched requests by method only, never by raw URL', async () => {
    const { b, exporter } = await traced();
    await b.app.inject({ url: '/no/such/path' });
    const span = exporter.getFinishedSpans()[0];
    expect(span?.name).toBe('GET');
    expect(span?.attributes['http.route']).toBeUndefined();
    expect(span?.attributes['url.path']).toBe('/no/such/path');
  });

  it('makes the server span active in the handler, for child spans and the root logger', async () => {
    const { b, exporter, lines, telemetry } = await traced();
    b.app.get('/child', async () => {
      const child = telemetry.tracing.tracer.startSpan('work');
      child.end();
      b.ctx.logger.info('from the root logger');
      return { ok: true };
    });
    await b.app.inject({ url: '/child' });
    const [work, server] = exporter.getFinishedSpans();
    expect(work?.name).toBe('work');
    expect(work?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
    const rootLine = lines.find((l) => l.msg === 'from the root logger');
    expect(rootLine).toMatchObject({ trace_id: server?.spanContext().traceId, span_id: server?.spanContext().spanId });
  });
});

describe('sampling', () => {
  it('decides per trace id, as the configured sampler does, and logs exactly the sampled ones as 01', async () => {
    const { b, exporter, lines } = await traced({
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.5',
    });
    for (let i = 0; i < 200; i++) await b.app.inject({ url: '/' });
    const logged = lines.filter((l) => l.msg === 'request completed');
    const sampledInLogs = new Set(logged.filter((l) => l.trace_flags === '01').map((l) => l.trace_id));
    const exported = new Set(exporter.getFinishedSpans().map((s) => s.spanContext().traceId));
    expect(exported).toEqual(sampledInLogs);
    // the SDK's own sampler agrees with every decision
    const sdk = new TraceIdRatioBasedSampler(0.5);
    for (const l of logged) {
      const decision = sdk.shouldSample(context.active(), l.trace_id as string).decision;
      expect(decision === SamplingDecision.RECORD_AND_SAMPLED).toBe(l.trace_flags === '01');
    }
    expect(exported.size).toBeGreaterThan(40);
    expect(exported.size).toBeLessThan(160);
  });

  it('follows the caller: an unsampled parent stays unsampled, a sampled one is recorded', async () => {
    const { b, exporter, lines } = await traced({
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
    });
    const off = await b.app.inject({ url: '/', headers: { traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-00` } });
    const on = await b.app.inject({ url: '/', headers: { traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-01` } });
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(lines.find((l) => l.req_id === off.headers['x-request-id'])).toMatchObject({
      trace_id: PARENT_TRACE,
      trace_flags: '00',
    });
    expect(lines.find((l) => l.req_id === on.headers['x-request-id'])).toMatchObject({
      trace_id: PARENT_TRACE,
      trace_flags: '01',
    });
  });
});

describe('trace-correlated logs', () => {
  it('puts trace_id, span_id and trace_flags on every line of a request, sampled or not', async () => {
    const { b, lines, exporter } = await traced({ OTEL_TRACES_SAMPLER: 'always_off' });
    b.app.get('/chatty', async (request) => {
      request.log.info('one');
      request.log.warn('two');
      return {};
    });
    const res = await b.app.inject({ url: '/chatty' });
    const mine = lines.filter((l) => l.req_id === res.headers['x-request-id']);
    expect(mine.map((l) => l.msg)).toEqual(['one', 'two', 'request completed']);
    for (const l of mine) {
      expect(l.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(l.span_id).toMatch(/^[0-9a-f]{16}$/);
      expect(l.trace_flags).toBe('00');
      expect(Object.keys(l).filter((k) => k === 'trace_id')).toHaveLength(1);
    }
    expect(new Set(mine.map((l) => l.trace_id)).size).toBe(1);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});

describe('Fastify without a logger of its own', () => {
  // Given one, Fastify adds 'finish' and 'error' listeners to every response
  // (docs/telemetry.md, Logs): the service gives it none and sets app.log.
  it('adds no response listeners beyond what bare Fastify adds', async () => {
    const counts = (res: { listenerCount(e: string): number }) => [
      res.listenerCount('finish'),
      res.listenerCount('error'),
    ];
    const { b } = await traced();
    let ours: number[] = [];
    b.app.get('/listeners', async (_request, reply) => {
      ours = counts(reply.raw);
      return {};
    });
    await b.app.inject({ url: '/listeners' });
    const bare = Fastify();
    let theirs: number[] = [];
    bare.get('/listeners', async (_request, reply) => {
      theirs = counts(reply.raw);
      return {};
    });
    await bare.inject({ url: '/listeners' });
    await bare.close();
    expect(ours).toEqual(theirs);
  });

  it('logs through app.log with the process logger, and keeps the req/res serializers Fastify would add', async () => {
    const { b, lines } = await traced();
    b.app.get('/shapes', async (request, reply) => {
      request.log.info({ req: request, res: reply }, 'shapes');
      b.app.log.info('from app.log');
      return {};
    });
    await b.app.inject({ url: '/shapes?x=1', headers: { host: 'example.test' } });
    expect(lines.find((l) => l.msg === 'shapes')).toMatchObject({
      req: { method: 'GET', url: '/shapes?x=1', host: 'example.test', remoteAddress: '127.0.0.1' },
      res: { statusCode: 200 },
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(Object.keys(lines.find((l) => l.msg === 'shapes')?.res as object)).toEqual(['statusCode']);
    expect(lines.find((l) => l.msg === 'from app.log')).toMatchObject({ level: 'info' });
  });
});

describe('routes, as Fastify matched them', () => {
  // The telemetry reads the matched route off Fastify's route context (an
  // internal symbol, telemetry/http-server.ts): these fail if that stops working.
  it("tells routes apart, and honours a route's own log level as Fastify would", async () => {
    const { b, lines, exporter } = await traced();
    b.app.get('/verbose', { logLevel: 'debug' }, async (request) => {
      request.log.debug('detail');
      return {};
    });
    b.app.get('/terse', { logLevel: 'warn' }, async (request) => {
      request.log.info('dropped');
      request.log.warn('kept');
      return {};
    });
    await b.app.inject({ url: '/verbose' });
    await b.app.inject({ url: '/terse' });
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['GET /verbose', 'GET /terse']);
    const msgs = lines.map((l) => l.msg);
    expect(msgs).toContain('detail');
    expect(msgs).toContain('kept');
    expect(msgs).not.toContain('dropped');
    expect(lines.find((l) => l.msg === 'detail')).toMatchObject({ trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('gives a route with config.telemetry false a logger, an id and the in-flight count, but no span or series', async () => {
    const { b, lines, exporter, telemetry } = await traced();
    let inFlight = -1;
    b.app.get('/quiet', { config: { telemetry: false } }, async (request) => {
      inFlight = telemetry.metrics.active.requests;
      request.log.info('quiet line');
      return {};
    });
    const res = await b.app.inject({ url: '/quiet' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(inFlight).toBe(1);
    expect(telemetry.metrics.active.requests).toBe(0);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    const line = lines.find((l) => l.msg === 'quiet line');
    expect(line).toMatchObject({ req_id: res.headers['x-request-id'] });
    expect(lines.filter((l) => l.msg === 'request completed')).toHaveLength(0);
    const snapshot = await telemetry.metrics.httpServerDuration.get();
    expect(snapshot.values.filter((v) => v.metricName?.endsWith('_count'))).toHaveLength(0);
  });
});

describe('access log policy', () => {
  async function linesFor(policy: string) {
    const { b, lines } = await traced({ ACCESS_LOG: policy, SLOW_REQUEST_MS: '100' });
    b.app.get('/fail', async (_req, reply) => reply.code(503).send({ down: true }));
    await b.app.inject({ url: '/' });
    await b.app.inject({ url: '/api/sleep?ms=150' });
    await b.app.inject({ url: '/fail' });
    await b.app.close();
    return lines.filter((l) => typeof l.http_response_status_code === 'number');
  }

  it('all: one line per request', async () => {
    expect((await linesFor('all')).map((l) => l.msg)).toEqual(['request completed', 'slow request', 'request failed']);
  });

  it('errors: only slow requests and 5xx not already logged', async () => {
    const lines = await linesFor('errors');
    expect(lines.map((l) => [l.msg, l.level])).toEqual([
      ['slow request', 'warn'],
      ['request failed', 'error'],
    ]);
    expect(lines[0]).toMatchObject({
      http_route: '/api/sleep',
      url_path: '/api/sleep',
      http_response_status_code: 200,
    });
  });

  it('errors: at most 50 lines a second, then one line saying how many were left out', async () => {
    const { b, lines } = await traced({ ACCESS_LOG: 'errors', SLOW_REQUEST_MS: '0' });
    await Promise.all(Array.from({ length: 200 }, () => b.app.inject({ url: '/' })));
    await new Promise((r) => setTimeout(r, 1_200));
    const slow = lines.filter((l) => l.msg === 'slow request').length;
    const summary = lines.filter((l) => l.msg === 'access log lines suppressed');
    expect(slow).toBeLessThanOrEqual(100); // 200 requests may straddle two seconds
    expect(summary.length).toBeGreaterThanOrEqual(1);
    expect(slow + summary.reduce((n, l) => n + (l.suppressed_lines as number), 0)).toBe(200);
  });

  it('off: none', async () => {
    expect(await linesFor('off')).toEqual([]);
  });
});

describe('client disconnects', () => {
  it('ends the span, counts the request as 499 and returns the active gauge to 0', async () => {
    const { b, exporter, telemetry } = await traced();
    await b.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = b.app.server.address() as { port: number };
    await new Promise<void>((resolve) => {
      const req = httpRequest({ port, host: '127.0.0.1', path: '/api/sleep?ms=2000' });
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => {
        expect(telemetry.metrics.active.requests).toBe(1);
        req.destroy();
      }, 200);
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(telemetry.metrics.active.requests).toBe(0);
    const span = exporter.getFinishedSpans()[0];
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe('client_closed');
    const snapshot = await telemetry.metrics.httpServerDuration.get();
    const count = snapshot.values.find(
      (v) => v.metricName?.endsWith('_count') && v.labels.http_response_status_code === '499',
    );
    expect(count?.value).toBe(1);
  });
});
