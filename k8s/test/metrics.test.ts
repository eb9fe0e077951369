// Every metric the chart names, in the HPA, the prometheus-adapter rules, the
// PrometheusRule and the ServiceMonitor, exists in the service's metric
// catalog (`npm run catalog`), so a renamed metric fails here instead of
// silently emptying an alert or stalling the autoscaler.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ADAPTER_PATH } from '../tools/generate.js';
import { CHART } from '../tools/toolchain.js';
import { catalogSeries } from './helpers/catalog.js';
import { metricNames } from './helpers/promql.js';
import { all, find, type K8sObject, objects } from './helpers/render.js';

/**
 * Series the shipped rules may read although the service does not export
 * them, each with where it comes from. Keep this list short and explained.
 */
const EXTERNAL = new Map([
  // A crash-looping pod may never export a metric: restarts come from the cluster.
  ['kube_pod_container_status_restarts_total', 'kube-state-metrics'],
]);

const series = catalogSeries();
const everything = objects('everything-on');

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
}
interface Group {
  name: string;
  rules: Rule[];
}

/** The rule files the chart renders (files/rules → infra/prometheus/rules), without promtool test files. */
function ruleFiles(): { file: string; groups: Group[] }[] {
  const dir = join(CHART, 'files', 'rules');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((file) => ({ file, doc: parse(readFileSync(join(dir, file), 'utf8')) }))
    .filter(({ doc }) => !('tests' in doc))
    .map(({ file, doc }) => ({ file, groups: doc.groups as Group[] }));
}

describe('PrometheusRule', () => {
  const rule = find(everything, 'PrometheusRule');
  const groups = rule.spec.groups as Group[];
  const recorded = new Set(groups.flatMap((g) => g.rules.map((r) => r.record).filter((r): r is string => !!r)));

  it('renders every group of infra/prometheus/rules/*.yaml, unchanged', () => {
    const files = ruleFiles();
    expect(files.length).toBeGreaterThan(0);
    expect(groups).toEqual(files.flatMap((f) => f.groups));
  });

  it('reads only catalog metrics, its own recording rules, or declared external series', () => {
    const unknown: string[] = [];
    for (const g of groups) {
      for (const r of g.rules) {
        for (const name of metricNames(r.expr)) {
          if (!series.has(name) && !recorded.has(name) && !EXTERNAL.has(name)) {
            unknown.push(`${g.name}/${r.record ?? r.alert}: ${name}`);
          }
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  it("names the chart's container where it matches on container", () => {
    const d = find(everything, 'Deployment', 'periscope');
    const name = d.spec.template.spec.containers[0].name;
    const matched = groups.flatMap((g) =>
      g.rules.flatMap((r) => [...r.expr.matchAll(/\bcontainer="([^"]*)"/g)].map((m) => m[1])),
    );
    for (const c of matched) expect(c).toBe(name);
  });
});

describe('HPA and prometheus-adapter', () => {
  const adapter = parse(readFileSync(ADAPTER_PATH, 'utf8')) as {
    rules: {
      default: boolean;
      custom: { seriesQuery: string; name: { matches: string; as: string }; metricsQuery: string }[];
    };
  };
  const hpa = find(everything, 'HorizontalPodAutoscaler');
  const podMetrics = hpa.spec.metrics.filter((m: { type: string }) => m.type === 'Pods');

  it('asks only for custom metrics the shipped adapter rules serve', () => {
    const served = new Set(adapter.rules.custom.map((r) => r.name.as));
    expect(podMetrics.length).toBeGreaterThan(0);
    for (const m of podMetrics) expect(served).toContain(m.pods.metric.name);
    // The chart's default metric name is the adapter's.
    const defaults = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
    expect(served).toContain(defaults.autoscaling.eventLoopUtilization.metricName);
  });

  it('builds each adapter rule on a catalog series, with a query Prometheus can parse', () => {
    for (const r of adapter.rules.custom) {
      const [seriesName] = metricNames(r.seriesQuery);
      expect(seriesName && series.has(seriesName), `${r.seriesQuery}: not in the catalog`).toBe(true);
      expect(new RegExp(r.name.matches).test(seriesName ?? '')).toBe(true);
      // The adapter fills these in per request; substitute what it would.
      const query = r.metricsQuery
        .replaceAll('<<.Series>>', seriesName ?? '')
        .replaceAll('<<.LabelMatchers>>', 'namespace="periscope",pod=~"periscope-abc|periscope-def"')
        .replaceAll('<<.GroupBy>>', 'pod');
      expect(metricNames(query)).toEqual([seriesName]);
    }
  });

  it('computes ELU as the rate of the event-loop busy-time counter', () => {
    const rule = adapter.rules.custom.find((r) => r.name.as === 'nodejs_eventloop_utilization');
    const family = series.get(metricNames(rule?.seriesQuery ?? '')[0] ?? '');
    expect(family).toMatchObject({ name: 'nodejs_eventloop_active_seconds_total', type: 'counter', unit: 's' });
    expect(rule?.metricsQuery).toMatch(/\brate\(<<\.Series>>\{<<\.LabelMatchers>>\}\[\d+[ms]\]\)/);
    expect(adapter.rules.default).toBe(false);
  });
});

describe('ServiceMonitor', () => {
  const monitors = all(everything, 'ServiceMonitor');
  const rules = find(everything, 'PrometheusRule').spec.groups as Group[];
  const used = new Set(rules.flatMap((g) => g.rules.flatMap((r) => metricNames(r.expr))));

  it('scrapes /metrics on the admin port', () => {
    expect(monitors).toHaveLength(1);
    expect(monitors[0]?.spec.endpoints[0]).toMatchObject({ port: 'admin', path: '/metrics' });
  });

  it('relabels __name__ only with patterns that match catalog metrics, and drops nothing the rules read', () => {
    const nameRules = monitors.flatMap((m: K8sObject) =>
      m.spec.endpoints.flatMap(
        (e: { metricRelabelings?: { sourceLabels?: string[]; regex?: string; action?: string }[] }) =>
          (e.metricRelabelings ?? []).filter((r) => r.sourceLabels?.length === 1 && r.sourceLabels[0] === '__name__'),
      ),
    );
    expect(nameRules.length, 'everything-on shows a metricRelabelings example').toBeGreaterThan(0);
    for (const r of nameRules) {
      const re = new RegExp(`^(?:${r.regex ?? '(.*)'})$`);
      const matched = [...series.keys()].filter((s) => re.test(s));
      expect(matched.length, `${r.regex} matches no catalog metric`).toBeGreaterThan(0);
      if (r.action === 'drop')
        expect(
          [...used].filter((u) => re.test(u)),
          `${r.regex} drops series the rules read`,
        ).toEqual([]);
    }
  });
});
