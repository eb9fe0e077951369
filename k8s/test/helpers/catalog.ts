// The metric catalog as `npm run catalog` prints it (dist/telemetry/metrics/print-catalog.js).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../../tools/toolchain.js';

export interface CatalogMetric {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  unit: string;
}

export function catalog(): CatalogMetric[] {
  const out = execFileSync(process.execPath, [join(REPO, 'dist', 'telemetry', 'metrics', 'print-catalog.js')], {
    encoding: 'utf8',
  });
  return (JSON.parse(out) as { metrics: CatalogMetric[] }).metrics;
}

/** Series name → family. A histogram family exposes _bucket, _sum and _count series. */
export function catalogSeries(metrics = catalog()): Map<string, CatalogMetric> {
  const index = new Map<string, CatalogMetric>();
  for (const m of metrics) {
    const series = m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name];
    for (const s of series) index.set(s, m);
  }
  return index;
}
