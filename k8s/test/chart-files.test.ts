// The PrometheusRule and the dashboard ConfigMaps come from folders outside
// the chart (symlinks files/rules → infra/prometheus/rules, files/dashboards →
// dashboards/generated). Turning one on while its folder is empty must fail
// loudly, never render an empty rule set; with files, each one is rendered.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHART } from '../tools/toolchain.js';
import { chartCopy } from './helpers/chart-copy.js';
import { all, parseObjects, render } from './helpers/render.js';

/** A copy of the chart whose `emptied` folders hold nothing the templates' globs (*.yaml, *.json) match. */
function chartWithout(emptied: string[]): string {
  const dir = chartCopy();
  for (const sub of emptied) {
    rmSync(join(dir, 'files', sub), { recursive: true });
    mkdirSync(join(dir, 'files', sub));
    writeFileSync(join(dir, 'files', sub, 'README.md'), 'nothing here yet\n');
  }
  return dir;
}

describe('files outside the chart', () => {
  it('are symlinks into the one place each lives', () => {
    expect(readdirSync(join(CHART, 'files')).sort()).toEqual(['dashboards', 'rules']);
  });

  it('prometheusRule.enabled with no rule file fails with a clear message', () => {
    const chart = chartWithout(['rules']);
    expect(() => render({ chart, set: ['prometheusRule.enabled=true'] })).toThrow(
      'prometheusRule.enabled=true but k8s/periscope/files/rules (→ infra/prometheus/rules) holds no rule files',
    );
  });

  it('dashboards.enabled with no dashboard JSON fails with a clear message', () => {
    const chart = chartWithout(['dashboards']);
    expect(() => render({ chart, set: ['dashboards.enabled=true'] })).toThrow(
      'dashboards.enabled=true but k8s/periscope/files/dashboards (→ dashboards/generated) holds no *.json',
    );
  });

  it('renders one ConfigMap per dashboard, labelled for the Grafana sidecar, holding the JSON as is', () => {
    const dashboards = readdirSync(join(CHART, 'files', 'dashboards')).filter((f) => f.endsWith('.json'));
    expect(dashboards.length).toBeGreaterThan(0);
    const cms = all(parseObjects(render({ set: ['dashboards.enabled=true'] })), 'ConfigMap').filter(
      (c) => c.metadata.labels.grafana_dashboard === '1',
    );
    expect(cms.map((c) => Object.keys(c.data)[0]).sort()).toEqual(dashboards.sort());
    for (const cm of cms) {
      const [, json] = Object.entries(cm.data)[0] as [string, string];
      expect(JSON.parse(json).panels?.length ?? JSON.parse(json).title).toBeTruthy();
    }
  });
});
