// /metrics: formats, exemplars, the catalog and bounded cardinality.
import { afterEach, describe, expect, it } from 'vitest';
import { CATALOG } from '../src/telemetry/metrics/catalog.js';
import { negotiateFormat } from '../src/telemetry/metrics/exposition.js';
import { catalogDrift } from '../src/telemetry/metrics/registry.js';
import { type Built, build } from './helpers/build.js';

let built: Built | undefined;
afterEach(async () => {
  await built?.close();
  built = undefined;
});

const OPENMETRICS = 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

async function scrape(b: Built, accept?: string) {
  const res = await b.admin.inject({ url: '/metrics', headers: accept ? { accept } : {} });
  expect(res.statusCode).toBe(200);
  return { body: res.body, type: res.headers['content-type'] };
}

/** Metric family names declared by `# TYPE` lines. */
const families = (body: string) => [...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
const seriesLines = (body: string) => body.split('\n').filter((l) => l && !l.startsWith('#'));

describe('RED metrics', () => {
  it('records the route template, method and status, never the raw URL, and skips the admin port', async () => {
    built = await build();
    await built.app.inject({ url: '/api/sleep?ms=1' });
    await built.app.inject({ url: '/api/sleep?ms=2' });
    await built.app.inject({ url: '/api/sleep?ms=-5' });
    await built.app.inject({ url: '/secret/user/42' });
    await built.admin.inject({ url: '/readyz' });
    const { body } = await scrape(built);
    expect(body).toContain(
      'http_server_request_duration_seconds_count{http_request_method="GET",http_route="/api/sleep",http_response_status_code="200"} 2',
    );
    expect(body).toContain(
      'http_server_request_duration_seconds_count{http_request_method="GET",http_route="/api/sleep",http_response_status_code="400"} 1',
    );
    expect(body).toContain(
      'http_server_request_duration_seconds_count{http_request_method="GET",http_route="unmatched",http_response_status_code="404"} 1',
    );
    expect(body).not.toContain('/secret');
    expect(body).not.toContain('readyz');
    expect(body).toMatch(/^http_server_active_requests 0$/m);
    // OpenTelemetry's advised buckets
    expect(body).toContain('le="0.005"');
    expect(body).toContain('le="10"');
    expect(body).toContain('le="+Inf"');
  });

  it('exports runtime metrics and event-loop utilization', async () => {
    built = await build();
    const { body } = await scrape(built);
    for (const name of [
      'nodejs_eventloop_utilization_ratio',
      'nodejs_eventloop_active_seconds_total',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
    ]) {
      expect(body).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? [0-9.e+-]+$`, 'm'));
    }
    const elu = Number(body.match(/^nodejs_eventloop_utilization_ratio (\S+)$/m)?.[1]);
    expect(elu).toBeGreaterThanOrEqual(0);
    expect(elu).toBeLessThanOrEqual(1);
  });
});

describe('exposition formats', () => {
  it('serves Prometheus text by default and OpenMetrics when asked, with exemplars only there', async () => {
    built = await build(); // test contexts sample every request
    await built.app.inject({ url: '/' });
    const text = await scrape(built);
    expect(text.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text.body).not.toContain('# {');
    expect(text.body).not.toContain('# EOF');

    const om = await scrape(built, OPENMETRICS);
    expect(om.type).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    const exemplar = om.body.match(
      /^http_server_request_duration_seconds_bucket\{[^}]*http_route="\/"[^}]*\} 1 # \{trace_id="([0-9a-f]{32})",span_id="([0-9a-f]{16})"\} [0-9.e-]+ [0-9.]+$/m,
    );
    expect(exemplar).not.toBeNull();
  });

  it('keeps counter names stable across formats (prom-client renames them in place; we do not)', async () => {
    built = await build();
    await scrape(built, OPENMETRICS);
    const om = await scrape(built, OPENMETRICS);
    expect(om.body).toContain('# TYPE process_cpu_seconds counter');
    expect(om.body).toMatch(/^process_cpu_seconds_total \S+$/m);
    const text = await scrape(built);
    expect(text.body).toContain('# TYPE process_cpu_seconds_total counter');
    expect(text.body).toMatch(/^process_cpu_seconds_total \S+$/m);
  });

  it.each([
    [undefined, 'prometheus'],
    ['text/plain', 'prometheus'],
    ['application/openmetrics-text', 'openmetrics'],
    [OPENMETRICS, 'openmetrics'],
    ['application/openmetrics-text;version=0.0.1', 'prometheus'],
    ['text/plain;q=1,application/openmetrics-text;q=0.1', 'prometheus'],
  ])('negotiates %s → %s', (accept, expected) => {
    expect(negotiateFormat(accept)).toBe(expected);
  });
});

describe('metric catalog', () => {
  it('declares exactly the metrics the registry exports', async () => {
    built = await build();
    expect(catalogDrift(built.ctx.telemetry.metrics.registry)).toEqual({ undeclared: [], missing: [] });
    const { body } = await scrape(built);
    const exported = new Map(families(body).map(([n, t]) => [n, t]));
    for (const spec of CATALOG) expect(exported.get(spec.name), spec.name).toBe(spec.type);
    expect(exported.size).toBe(CATALOG.length);
  });
});

describe('cardinality', () => {
  it('stays bounded: 10,000 requests to distinct unknown paths add no series', async () => {
    built = await build();
    await built.app.inject({ url: '/warm-up-unknown' });
    const before = seriesLines((await scrape(built)).body).filter((l) => l.startsWith('http_')).length;
    for (let i = 0; i < 10_000; i++) {
      await built.app.inject({ url: `/unknown/${i}/${Math.random().toString(36).slice(2)}` });
    }
    const after = (await scrape(built)).body;
    expect(seriesLines(after).filter((l) => l.startsWith('http_')).length).toBe(before);
    expect(after).toContain(
      'http_server_request_duration_seconds_count{http_request_method="GET",http_route="unmatched",http_response_status_code="404"} 10001',
    );
  });
});
