import { describe, expect, it } from 'vitest';
import { PromParseError, parsePrometheusText, sumOf } from '../lib/prometheus.js';
import { toServerSample } from '../lib/scraper.js';

const TEXT = `# HELP http_server_active_requests In flight.
# TYPE http_server_active_requests gauge
http_server_active_requests 7
http_server_request_duration_seconds_count{http_request_method="GET",http_route="/",http_response_status_code="200"} 1200
http_server_request_duration_seconds_count{http_request_method="GET",http_route="/api/sleep",http_response_status_code="200"} 300 1700000000000
weird{path="a \\"quoted\\" \\\\ back\\nslash",empty=""} +Inf
nodejs_eventloop_active_seconds_total 10.5
process_cpu_seconds_total 4
nodejs_eventloop_lag_min_seconds 0.01
nodejs_eventloop_lag_max_seconds 0.05
nodejs_eventloop_lag_p99_seconds 0.04
process_resident_memory_bytes 1.2e8
nodejs_gc_duration_seconds_sum{kind="minor"} 0.5
nodejs_gc_duration_seconds_sum{kind="major"} 0.25
http_server_held_connections 3
http_server_admission_limit 420
`;

describe('parsePrometheusText', () => {
  it('reads names, labels with escapes, special floats and timestamps', () => {
    const s = parsePrometheusText(TEXT);
    expect(s).toHaveLength(14);
    expect(s[0]).toEqual({ name: 'http_server_active_requests', labels: {}, value: 7 });
    expect(s[2]?.labels.http_route).toBe('/api/sleep');
    expect(s[2]?.value).toBe(300);
    expect(s[3]).toEqual({
      name: 'weird',
      labels: { path: 'a "quoted" \\ back\nslash', empty: '' },
      value: Number.POSITIVE_INFINITY,
    });
    expect(s[9]?.value).toBe(1.2e8);
  });

  it('sums series by name and label match', () => {
    const s = parsePrometheusText(TEXT);
    expect(sumOf(s, 'http_server_request_duration_seconds_count')).toBe(1500);
    expect(sumOf(s, 'http_server_request_duration_seconds_count', { http_route: '/' })).toBe(1200);
    expect(sumOf(s, 'absent')).toBeNull();
  });

  it('rejects malformed lines with their line number', () => {
    expect(() => parsePrometheusText('ok 1\nbad{x="1" 2')).toThrow(PromParseError);
    expect(() => parsePrometheusText('ok 1\nbad{x="1" 2')).toThrow(/line 2/);
    expect(() => parsePrometheusText('metric abc')).toThrow(/not a number/);
    expect(() => parsePrometheusText('{x="1"} 2')).toThrow(/metric name/);
  });
});

describe('toServerSample', () => {
  it('turns counters into per-interval rates and keeps gauges', () => {
    const first = toServerSample(parsePrometheusText(TEXT), 1000, 0, 5, null);
    expect(first.sample.elu).toBeNull(); // no previous scrape yet
    expect(first.sample.activeRequests).toBe(7);
    expect(first.sample.heldConnections).toBe(3);
    expect(first.sample.admissionLimit).toBe(420);
    expect(first.sample.lagP99Ms).toBe(40);
    const next = TEXT.replace('active_seconds_total 10.5', 'active_seconds_total 11.25')
      .replace('process_cpu_seconds_total 4', 'process_cpu_seconds_total 4.5')
      .replace('} 1200', '} 2200')
      .replace('{kind="major"} 0.25', '{kind="major"} 0.35');
    const second = toServerSample(parsePrometheusText(next), 2000, 0, 5, first.counters);
    expect(second.sample.elu).toBe(0.75);
    expect(second.sample.cpu).toBe(0.5);
    expect(second.sample.rps).toBe(1000);
    expect(second.sample.gcShare).toBe(0.1);
    expect(second.sample.t).toBe(2);
  });

  it('leaves event-loop delay empty for an interval with no delay samples (min > max)', () => {
    const empty = TEXT.replace('lag_min_seconds 0.01', 'lag_min_seconds 9223372036.854776').replace(
      'lag_max_seconds 0.05',
      'lag_max_seconds 0',
    );
    const { sample } = toServerSample(parsePrometheusText(empty), 1000, 0, 5, null);
    expect(sample.lagP99Ms).toBeNull();
    expect(sample.lagMaxMs).toBeNull();
  });
});
