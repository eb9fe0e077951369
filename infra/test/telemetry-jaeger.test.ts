// Traces received by a real OTLP backend (Jaeger v2): a request with a known
// traceparent to a route that calls a downstream service (a second, also
// instrumented Periscope process) produces the tree
//   caller's span → server span → client span → downstream server span,
// with the semantic-convention attributes, and the request's log line carries
// the same trace id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, startService } from '../../service/test/helpers/service-process.js';
import { type RunningJaeger, spanTree, startJaeger } from './lib/jaeger.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';

let jaeger: RunningJaeger;
let downstream: RunningService;
let frontend: RunningService;

/** A service exporting to Jaeger as `name`, promptly (the default batch delay is 5 s); `env` adds or overrides. */
function startExporting(name: string, env: Record<string, string> = {}): Promise<RunningService> {
  return startService({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpUrl,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_SERVICE_NAME: name,
      ...env,
    },
  });
}

/** Request headers continuing the caller's sampled trace `traceId`. */
const sampledBy = (traceId: string) => ({ traceparent: `00-${traceId}-${CALLER_SPAN}-01` });

beforeAll(async () => {
  jaeger = await startJaeger();
  const resource = { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test' };
  downstream = await startExporting('periscope-downstream', resource);
  frontend = await startExporting('periscope-frontend', {
    ...resource,
    DOWNSTREAM_URL: `${downstream.url}/api/sleep?ms=5`,
    ACCESS_LOG: 'all',
  });
});

afterAll(async () => {
  await frontend?.stop();
  await downstream?.stop();
  await jaeger?.stop();
});

describe('traces in Jaeger', () => {
  it('continues the caller trace through the server span, the client span and the downstream server span', async () => {
    const res = await fetch(`${frontend.url}/api/downstream`, {
      headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`, tracestate: 'caller=1' },
    });
    expect(res.status).toBe(200);

    const trace = await jaeger.waitForTrace(TRACE_ID, (t) => t.spans.length >= 3);
    const spans = spanTree(trace);
    const server = spans.find((s) => s.service === 'periscope-frontend' && s.kind === 'server');
    const client = spans.find((s) => s.service === 'periscope-frontend' && s.kind === 'client');
    const remote = spans.find((s) => s.service === 'periscope-downstream' && s.kind === 'server');
    expect(server, JSON.stringify(spans, null, 1)).toBeDefined();
    expect(client, JSON.stringify(spans, null, 1)).toBeDefined();
    expect(remote, JSON.stringify(spans, null, 1)).toBeDefined();

    // the tree
    expect(server?.parentSpanId).toBe(CALLER_SPAN);
    expect(client?.parentSpanId).toBe(server?.spanId);
    expect(remote?.parentSpanId).toBe(client?.spanId);

    // semantic conventions
    expect(server?.name).toBe('GET /api/downstream');
    expect(server?.tags).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/api/downstream',
      'url.path': '/api/downstream',
      'url.scheme': 'http',
      'http.response.status_code': 200,
      'server.address': '127.0.0.1',
      'server.port': frontend.port,
    });
    expect(client?.name).toBe('GET');
    expect(client?.tags).toMatchObject({
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'server.port': downstream.port,
      'http.response.status_code': 200,
      'url.full': `${downstream.url}/api/sleep?ms=5`,
    });
    expect(remote?.name).toBe('GET /api/sleep');
    expect(remote?.tags).toMatchObject({ 'http.route': '/api/sleep', 'http.response.status_code': 200 });

    // resource attributes from the standard variables
    const frontendProcess = Object.values(trace.processes).find((p) => p.serviceName === 'periscope-frontend');
    expect(frontendProcess?.tags).toEqual(
      expect.arrayContaining([expect.objectContaining({ key: 'deployment.environment.name', value: 'test' })]),
    );

    // the request's log lines, on both sides, carry the trace
    const line = frontend.logs.find((l) => l.msg === 'request completed' && l.http_route === '/api/downstream');
    expect(line).toMatchObject({ trace_id: TRACE_ID, span_id: server?.spanId, trace_flags: '01' });
  });

  it('records a 5xx as an error with an exception event', async () => {
    const traceId = `${'f'.repeat(31)}1`;
    // An upstream that refuses connections: the route answers 502.
    const broken = await startExporting('periscope-broken', { DOWNSTREAM_URL: 'http://127.0.0.1:1/nothing' });
    try {
      const res = await fetch(`${broken.url}/api/downstream`, { headers: sampledBy(traceId) });
      expect(res.status).toBe(502);
      const trace = await jaeger.waitForTrace(traceId, (t) => t.spans.some((s) => s.logs.length > 0));
      const server = trace.spans.find((s) => s.operationName === 'GET /api/downstream');
      const tags = Object.fromEntries(server?.tags.map((t) => [t.key, t.value]) ?? []);
      expect(tags).toMatchObject({
        'otel.status_code': 'ERROR',
        'http.response.status_code': 502,
        'error.type': 'UpstreamError',
      });
      const event = server?.logs.find((l) => l.fields.some((f) => f.key === 'event' && f.value === 'exception'));
      const fields = Object.fromEntries(event?.fields.map((f) => [f.key, f.value]) ?? []);
      expect(fields['exception.message']).toContain('upstream unreachable');
      expect(fields['exception.stacktrace']).toContain('UpstreamError');
    } finally {
      await broken.stop();
    }
  });

  it('flushes pending spans on shutdown', async () => {
    const traceId = `${'a'.repeat(31)}3`;
    // A long batch delay: the span would sit in the buffer, were it not flushed at exit.
    const svc = await startExporting('periscope-flush', { OTEL_BSP_SCHEDULE_DELAY: '60000' });
    expect((await fetch(`${svc.url}/`, { headers: sampledBy(traceId) })).status).toBe(200);
    expect((await svc.stop('SIGTERM')).code).toBe(0);
    const spans = spanTree(await jaeger.waitForTrace(traceId, (t) => t.spans.length >= 1, 5_000));
    expect(spans[0]).toMatchObject({ service: 'periscope-flush', name: 'GET /' });
  });

  it('exports over OTLP/HTTP JSON too (OTEL_EXPORTER_OTLP_PROTOCOL=http/json)', async () => {
    // The other of the two pre-built exporter files (scripts/bundle.mjs).
    const traceId = `${'b'.repeat(31)}4`;
    const svc = await startExporting('periscope-json', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    try {
      const res = await fetch(`${svc.url}/`, { headers: sampledBy(traceId) });
      expect(res.status).toBe(200);
      const spans = spanTree(await jaeger.waitForTrace(traceId, (t) => t.spans.length >= 1, 5_000));
      expect(spans[0]).toMatchObject({ service: 'periscope-json', name: 'GET /', parentSpanId: CALLER_SPAN });
    } finally {
      await svc.stop();
    }
  });
});
