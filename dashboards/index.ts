// Every dashboard, the file it is generated into, and how its JSON is
// rendered. Add a dashboard here and `npm run dashboards:build` writes it.
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { nodejsRuntime } from './nodejs-runtime.js';
import { scale } from './scale.js';
import { serviceOverview } from './service-overview.js';

export const DASHBOARDS: ReadonlyArray<{ file: string; build: () => DashboardBuilder }> = [
  { file: 'service-overview.json', build: serviceOverview },
  { file: 'nodejs-runtime.json', build: nodejsRuntime },
  { file: 'scale.json', build: scale },
];

/**
 * Dashboard JSON as committed: panel ids numbered in layout order (Grafana
 * needs them for panel links and "view panel"), two-space indent, final
 * newline, so a regenerated file diffs cleanly.
 */
export function render(builder: DashboardBuilder): string {
  const dashboard = builder.build();
  // The SDK files dashboard links under the controls menu; keep them in the top bar.
  for (const link of dashboard.links ?? []) delete (link as { placement?: unknown }).placement;
  let id = 1;
  for (const panel of dashboard.panels ?? []) {
    panel.id = id++;
    for (const inner of 'panels' in panel && Array.isArray(panel.panels) ? panel.panels : []) inner.id = id++;
  }
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
