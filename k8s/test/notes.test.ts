// NOTES.txt, as `helm install` prints it: how to reach the app, metrics,
// profiles and dashboards. `helm install --dry-run` wants a cluster, so a copy
// of the chart gets one more template that includes NOTES.txt by its name,
// and `helm template` renders it with the same values and release.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartCopy } from './helpers/chart-copy.js';
import { render, VALUE_SETS } from './helpers/render.js';

const chart = chartCopy();
writeFileSync(
  join(chart, 'templates', 'zz-notes.yaml'),
  'notes: {{ include "periscope/templates/NOTES.txt" . | toJson }}\n',
);

function notes(set: string, extraSet: string[] = []): string {
  const out = render({
    chart,
    valuesFiles: VALUE_SETS[set],
    set: extraSet,
    namespace: 'shop',
    showOnly: 'templates/zz-notes.yaml',
  });
  return parse(out).notes;
}

describe('NOTES.txt', () => {
  it.each(Object.keys(VALUE_SETS))('renders for %s without a missing value', (set) => {
    const text = notes(set);
    expect(text).not.toMatch(/<no value>|%!|\bnil\b/);
    expect(text).toContain('kubectl -n shop port-forward svc/periscope 8080:80');
    expect(text).toContain('kubectl -n shop port-forward deploy/periscope 9464:9464');
  });

  it('warns while the image is the placeholder, and not once it is set', () => {
    expect(notes('defaults')).toContain('WARNING: image.repository is the placeholder');
    expect(notes('defaults', ['image.repository=registry.example.com/team/periscope'])).not.toContain('WARNING');
  });

  it('says how to reach profiles, dashboards, the autoscaler and the canary when they are on', () => {
    const text = notes('everything-on');
    expect(text).toContain('npm run profile:remote -- --url http://127.0.0.1:9464');
    expect(text).toContain('secret periscope-profiling');
    expect(text).toContain('ConfigMaps labelled {"grafana_dashboard":"1"} were created in namespace monitoring');
    expect(text).toContain('event-loop utilization 0.6');
    expect(text).toContain("gets 5% of the HTTPRoute's traffic");
    expect(text).toContain('job="periscope"');
  });
});
