// The dashboards/rules check must pass on the committed files and fail, with
// a message naming the place, on each kind of mistake it exists to catch.
import { describe, expect, it } from 'vitest';
import { anchorOf, readRunbook, runChecks } from './check.js';
import { loadDashboards, loadRules, type PanelQuery, panelQueries, type Rule, templateVariables } from './sources.js';

const dashboards = loadDashboards();
const base = {
  panels: panelQueries(dashboards),
  variables: templateVariables(dashboards),
  rules: loadRules(),
  runbook: readRunbook(),
};
const panel = (expr: string, extra: Partial<PanelQuery> = {}): PanelQuery => ({
  dashboard: 'test.json',
  panel: 'Test panel',
  panelType: 'timeseries',
  refId: 'A',
  expr,
  instant: false,
  exemplar: false,
  ...extra,
});
const withPanel = (q: PanelQuery) => runChecks({ ...base, panels: [...base.panels, q] });
const alert = (): Rule => {
  const a = base.rules.find((r) => r.alert);
  if (!a) throw new Error('no alert in the rule files');
  return { ...a, annotations: { ...a.annotations } };
};

describe('dashboards/rules check', () => {
  it('passes on the committed dashboards, rules and runbook', () => {
    expect(runChecks(base)).toEqual([]);
  });

  it('fails on a metric that is not in the catalog', () => {
    const problems = withPanel(panel('sum(rate(http_requests_total{job="$job"}[$__rate_interval]))'));
    expect(problems).toEqual([
      expect.stringContaining('test.json / "Test panel" / A: metric "http_requests_total" is not in'),
    ]);
  });

  it('fails on a metric named through __name__ and on a regex name it cannot check', () => {
    expect(withPanel(panel('{__name__="nodejs_heap_bytes"}'))).toHaveLength(1);
    expect(withPanel(panel('{__name__=~"nodejs_.*"}'))).toEqual([expect.stringContaining('regex __name__')]);
  });

  it('fails on a label the metric does not have, matched or grouped by', () => {
    expect(withPanel(panel('rate(http_server_request_duration_seconds_count{http_status_code="500"}[5m])'))).toEqual([
      expect.stringContaining('has no label "http_status_code"'),
    ]);
    expect(withPanel(panel('sum by (route) (rate(http_server_request_duration_seconds_count[5m]))'))).toEqual([
      expect.stringContaining('groups by "route"'),
    ]);
  });

  it('accepts recording rules and declared external metrics, and fails on unparsable PromQL', () => {
    expect(withPanel(panel('namespace_job:http_server_request_errors:ratio_rate1h{job="$job"}'))).toEqual([]);
    expect(withPanel(panel('kube_deployment_spec_replicas{deployment="$deployment"}'))).toEqual([]);
    expect(withPanel(panel('sum(rate(nodejs_gc_duration_seconds_count[5m])'))).toEqual([
      expect.stringContaining('does not parse as PromQL'),
    ]);
  });

  it('fails on a latency panel without exemplars', () => {
    const q = panel('histogram_quantile(0.9, sum by (le) (rate(http_server_request_duration_seconds_bucket[5m])))');
    expect(withPanel(q)).toEqual([expect.stringContaining('must fetch exemplars')]);
    expect(withPanel({ ...q, exemplar: true })).toEqual([]);
  });

  it('fails on a template variable reading an unknown metric or label', () => {
    const v = { ...base.variables.find((x) => x.name === 'pod'), name: 'x' } as (typeof base.variables)[number];
    const bad = [
      { ...v, query: 'label_values(nodejs_eventloop_active_seconds_total, podname)' },
      { ...v, query: 'label_values(no_such_metric, pod)' },
    ];
    const problems = runChecks({ ...base, variables: [...base.variables, ...bad] });
    expect(problems).toEqual([
      expect.stringContaining('has no label "podname"'),
      expect.stringContaining('metric "no_such_metric"'),
    ]);
  });

  it('fails on an alert without a runbook link, or one pointing at a missing section', () => {
    const missing = alert();
    delete missing.annotations.runbook_url;
    expect(runChecks({ ...base, rules: [...base.rules, missing] })).toEqual([
      expect.stringContaining('no runbook_url annotation'),
    ]);

    const wrong = alert();
    wrong.alert = 'PeriscopeSomethingNew';
    expect(runChecks({ ...base, rules: [...base.rules, wrong] })).toEqual([
      expect.stringContaining('should point at its own section #periscopesomethingnew'),
    ]);
    const runbook = base.runbook.replace(/^## PeriscopePodRestarting$/m, '## Restarts');
    expect(runChecks({ ...base, runbook })).toEqual([
      expect.stringContaining('has no section #periscopepodrestarting'),
    ]);
  });

  it('fails on an alert or recording rule reading an unknown metric', () => {
    const r = { ...alert(), expr: 'rate(http_request_errors_total[5m]) > 0' };
    expect(runChecks({ ...base, rules: [...base.rules, r] })).toEqual([
      expect.stringContaining('metric "http_request_errors_total"'),
    ]);
  });

  it('makes GitHub-style anchors', () => {
    expect(anchorOf('PeriscopeAvailabilityBudgetBurn')).toBe('periscopeavailabilitybudgetburn');
    expect(anchorOf('Logs by trace_id (optional)')).toBe('logs-by-trace_id-optional');
  });
});
