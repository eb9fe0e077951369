// Serialises a registry in the Prometheus text format (0.0.4) or in
// OpenMetrics 1.0, chosen by the scraper's Accept header.
//
// Why not prom-client's own `registry.metrics()`: it serves one format per
// registry, and switching a registry to OpenMetrics renames counters in place
// (it strips `_total` from the metric object), so after one OpenMetrics scrape
// the text format loses the suffix. Here both formats are rendered from the
// same snapshot without mutating anything, and exemplars appear only in
// OpenMetrics, where the format defines them.
import type { Registry } from 'prom-client';
import type { MetricSnapshot, MetricValue } from './histogram.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** Pick the format from an Accept header, honouring q-values; text by default. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept?.includes('openmetrics')) return 'prometheus';
  let om = -1;
  let text = -1;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().split(';');
    let q = 1;
    let version: string | undefined;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q') q = Number(v);
      if (k === 'version') version = v;
    }
    if (!Number.isFinite(q)) continue;
    const t = type.trim().toLowerCase();
    // We speak OpenMetrics 1.0.0; an explicitly older version is not ours to claim.
    if (t === 'application/openmetrics-text' && (version === undefined || version === '1.0.0')) om = Math.max(om, q);
    if (t === 'text/plain' || t === '*/*') text = Math.max(text, q);
  }
  return om > 0 && om >= text ? 'openmetrics' : 'prometheus';
}

function formatNumber(v: number | string): string {
  if (typeof v === 'string') return v;
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatLabels(labels: Record<string, string | number>): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const raw = labels[k] as string | number;
    out += `${i ? ',' : ''}${k}="${escapeLabel(typeof raw === 'number' ? formatNumber(raw) : String(raw))}"`;
  }
  return `${out}}`;
}

function sampleLine(sampleName: string, v: MetricValue, withExemplar: boolean): string {
  let line = `${sampleName}${formatLabels(v.labels)} ${formatNumber(v.value)}`;
  if (withExemplar && v.exemplar) {
    const e = v.exemplar;
    line += ` # ${formatLabels(e.labelSet)} ${formatNumber(e.value)} ${e.timestamp.toFixed(3)}`;
  }
  return line;
}

export function render(snapshots: readonly MetricSnapshot[], format: ExpositionFormat): string {
  const om = format === 'openmetrics';
  const lines: string[] = [];
  for (const m of snapshots) {
    let family = m.name;
    const isCounter = m.type === 'counter';
    // OpenMetrics names the counter family without `_total` and its sample with it.
    if (om && isCounter && family.endsWith('_total')) family = family.slice(0, -6);
    const type = m.type === 'summary' || m.type === 'histogram' || isCounter || m.type === 'gauge' ? m.type : 'untyped';
    lines.push(`# HELP ${family} ${escapeHelp(m.help)}`);
    lines.push(`# TYPE ${family} ${om && type === 'untyped' ? 'unknown' : type}`);
    for (const v of m.values) {
      const sample = v.metricName ?? (om && isCounter ? `${family}_total` : m.name);
      // Exemplars are allowed on histogram buckets and counter totals only.
      const exemplarAllowed = om && (sample.endsWith('_bucket') || (isCounter && sample.endsWith('_total')));
      lines.push(sampleLine(sample, v, exemplarAllowed));
    }
  }
  if (om) lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

/** Snapshot every metric in the registry (runs prom-client's collect() callbacks). */
export async function snapshot(registry: Registry): Promise<MetricSnapshot[]> {
  const metrics = registry.getMetricsAsArray() as unknown as Array<{ get(): Promise<MetricSnapshot> | MetricSnapshot }>;
  return Promise.all(metrics.map((m) => m.get()));
}
