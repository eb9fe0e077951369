// Metrics scraped by a real Prometheus (Debian's package, exemplar storage on)
// from the real service: the request rate of a route, the runtime metrics,
// and an exemplar carrying the trace id of a sampled request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, startService } from '../../service/test/helpers/service-process.js';
import { type RunningPrometheus, startPrometheus, staticJob } from './lib/prometheus.js';

let svc: RunningService;
let prom: RunningPrometheus;
const started = Date.now() / 1000;

beforeAll(async () => {
  // Default sampling (10% of new traces); the access log names every request's trace.
  svc = await startService({ env: { ACCESS_LOG: 'all' } });
  prom = await startPrometheus({
    scrapeConfigs: [staticJob('periscope', [`127.0.0.1:${svc.adminPort}`], { namespace: 'test', pod: 'periscope-0' })],
  });
  await prom.waitForTargets();
  // Traffic: 300 requests across routes and outcomes, spread over ~6 s so
  // that scrapes (every second) see the counters grow.
  for (let i = 0; i < 100; i++) {
    await Promise.all([
      fetch(`${svc.url}/api/sleep?ms=2`),
      fetch(`${svc.url}/`),
      fetch(`${svc.url}/no/such/${i}`),
      new Promise((r) => setTimeout(r, 60)),
    ]);
  }
  await prom.waitForScrapes('periscope', 8);
}, 120_000);

afterAll(async () => {
  await prom?.stop();
  await svc?.stop();
});

describe('Prometheus scraping the service', () => {
  it('scrapes OpenMetrics without errors', async () => {
    const [target] = await prom.targets();
    expect(target?.health).toBe('up');
    expect(target?.lastError).toBe('');
  });

  it('sees the request rate per route', async () => {
    const r = await prom.query(
      'sum by (http_route, http_response_status_code) (rate(http_server_request_duration_seconds_count{job="periscope"}[30s]))',
    );
    const sleep = r.samples.find(
      (s) => s.metric.http_route === '/api/sleep' && s.metric.http_response_status_code === '200',
    );
    expect(Number(sleep?.value?.[1])).toBeGreaterThan(0);
    const unmatched = r.samples.find((s) => s.metric.http_route === 'unmatched');
    expect(unmatched?.metric.http_response_status_code).toBe('404');
    // 100 distinct unknown paths, one route series
    expect(r.samples.filter((s) => s.metric.http_route?.startsWith('/no/'))).toEqual([]);
    const p99 = await prom.query(
      'histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket{http_route="/api/sleep"}[30s])))',
    );
    expect(Number(p99.samples[0]?.value?.[1])).toBeGreaterThan(0.001);
  });

  it('has the runtime metrics', async () => {
    for (const expr of [
      'nodejs_eventloop_utilization_ratio',
      'rate(nodejs_eventloop_active_seconds_total[30s])',
      'nodejs_eventloop_lag_p99_seconds',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'sum by (space) (nodejs_heap_space_size_used_bytes)',
      'rate(process_cpu_seconds_total[30s])',
      'http_server_active_requests',
    ]) {
      const r = await prom.query(`${expr}`);
      expect(r.samples.length, expr).toBeGreaterThan(0);
      expect(Number.isFinite(Number(r.samples[0]?.value?.[1])), expr).toBe(true);
    }
  });

  it('stores an exemplar with the trace id of a sampled request', async () => {
    const sampled = new Set(
      svc.logs.filter((l) => l.msg === 'request completed' && l.trace_flags === '01').map((l) => l.trace_id as string),
    );
    const unsampled = new Set(
      svc.logs.filter((l) => l.msg === 'request completed' && l.trace_flags === '00').map((l) => l.trace_id as string),
    );
    // With 300 requests at 10%, sampled ones exist (p of none ≈ 2e-14).
    expect(sampled.size).toBeGreaterThan(0);
    const series = await prom.queryExemplars(
      'http_server_request_duration_seconds_bucket{job="periscope"}',
      started,
      Date.now() / 1000,
    );
    const exemplars = series.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id));
    expect(exemplars.length).toBeGreaterThan(0);
    for (const id of exemplars) {
      expect(sampled.has(id as string), `exemplar ${id} is a sampled request's trace`).toBe(true);
      expect(unsampled.has(id as string)).toBe(false);
    }
  });
});
