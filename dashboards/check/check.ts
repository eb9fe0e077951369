// The dashboards and rules checks `npm run dashboards:check` runs (after the
// drift check), as a library so tests can feed it bad input:
//
//  - every PromQL expression (panel targets, variable queries, alert and
//    recording rules) parses, and names only metrics that are in the
//    service's catalog, recorded by a rule, or declared external;
//  - every label it matches or groups by exists on the metrics it reads;
//  - every alert's runbook_url points at an existing section of
//    docs/runbooks/alerts.md, one section per alert;
//  - every panel on the server latency histogram asks for exemplars.
import { readFileSync } from 'node:fs';
import { CATALOG, type MetricSpec, seriesIndex } from '../../service/src/telemetry/metrics/catalog.js';
import { EXTERNAL_METRICS, TARGET_LABELS } from './external-metrics.js';
import { PromqlError, parsePromql } from './promql.js';
import { type PanelQuery, parseLabelValues, ROOT, type Rule, type TemplateVariable } from './sources.js';

export const RUNBOOK_DOC = 'docs/runbooks/alerts.md';

export interface CheckInput {
  panels: readonly PanelQuery[];
  variables: readonly TemplateVariable[];
  rules: readonly Rule[];
  /** Markdown of the runbook document. */
  runbook: string;
  catalog?: readonly MetricSpec[];
}

/** Known metric name → the labels its series can carry (undefined: not checked). */
function knownMetrics(catalog: readonly MetricSpec[], rules: readonly Rule[]): Map<string, Set<string> | undefined> {
  const known = new Map<string, Set<string> | undefined>();
  for (const [series, spec] of seriesIndex(catalog)) {
    const labels = new Set([...spec.labels, ...TARGET_LABELS]);
    if (series.endsWith('_bucket')) labels.add('le');
    known.set(series, labels);
  }
  for (const m of EXTERNAL_METRICS) known.set(m.name, new Set([...m.labels, 'job', 'instance']));
  for (const r of rules) {
    if (!r.record) continue;
    // A recorded series keeps the labels its expression groups by.
    let labels: Set<string> | undefined;
    try {
      const parsed = parsePromql(r.expr);
      labels = parsed.groupings.length ? new Set(parsed.groupings.flatMap((g) => g.labels)) : undefined;
    } catch {
      labels = undefined; // reported when the rule's own expression is checked
    }
    for (const [k, v] of Object.entries(r.labels)) if (v) labels?.add(k);
    known.set(r.record, labels);
  }
  return known;
}

function checkExpr(where: string, expr: string, known: Map<string, Set<string> | undefined>): string[] {
  let parsed: ReturnType<typeof parsePromql>;
  try {
    parsed = parsePromql(expr);
  } catch (err) {
    if (err instanceof PromqlError) return [`${where}: ${err.message}\n    ${expr}`];
    throw err;
  }
  const problems: string[] = [];
  for (const s of parsed.selectors) {
    if (!known.has(s.name)) {
      problems.push(
        `${where}: metric "${s.name}" is not in the service's metric catalog (npm run catalog), ` +
          'not recorded by a rule in infra/prometheus/rules, and not declared in dashboards/check/external-metrics.ts',
      );
      continue;
    }
    const labels = known.get(s.name);
    for (const l of s.labels) {
      if (labels && !labels.has(l))
        problems.push(`${where}: "${s.name}" has no label "${l}" (it has: ${[...labels].sort().join(', ')})`);
    }
  }
  for (const g of parsed.groupings) {
    const sets = g.names.map((n) => known.get(n));
    if (!sets.length || sets.some((s) => s === undefined)) continue;
    const available = new Set(sets.flatMap((s) => [...(s ?? [])]));
    for (const l of g.labels) {
      if (!available.has(l)) problems.push(`${where}: groups by "${l}", which none of ${g.names.join(', ')} carries`);
    }
  }
  return problems;
}

/** GitHub's heading anchors: lower case, punctuation but - and _ dropped, spaces to hyphens. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\-_ ]/gu, '')
    .replace(/ /g, '-');
}

function checkRunbooks(rules: readonly Rule[], runbook: string): string[] {
  const problems: string[] = [];
  const anchors = new Set([...runbook.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchorOf(m[1] ?? '')));
  const bases = new Set<string>();
  for (const r of rules.filter((r) => r.alert)) {
    const where = `alert ${r.alert} (${r.file.replace(ROOT, '')})`;
    const url = r.annotations.runbook_url;
    if (!url) {
      problems.push(`${where}: no runbook_url annotation`);
      continue;
    }
    const m = /^(.*)\/docs\/runbooks\/alerts\.md#(.+)$/.exec(url);
    if (!m?.[1] || !m[2]) {
      problems.push(`${where}: runbook_url must end in /${RUNBOOK_DOC}#<section>, got ${url}`);
      continue;
    }
    bases.add(m[1]);
    if (!anchors.has(m[2])) problems.push(`${where}: ${RUNBOOK_DOC} has no section #${m[2]}`);
    const own = anchorOf(r.alert ?? '');
    if (m[2] !== own) problems.push(`${where}: runbook_url should point at its own section #${own}, not #${m[2]}`);
  }
  if (bases.size > 1) problems.push(`alerts disagree on the runbook base URL: ${[...bases].join(' vs ')}`);
  return problems;
}

function checkExemplars(panels: readonly PanelQuery[]): string[] {
  const byPanel = new Map<string, PanelQuery[]>();
  for (const q of panels) {
    const key = `${q.dashboard} / ${q.panel}`;
    byPanel.set(key, [...(byPanel.get(key) ?? []), q]);
  }
  const problems: string[] = [];
  for (const [key, qs] of byPanel) {
    const readsLatency = qs.some((q) => q.expr.includes('http_server_request_duration_seconds_bucket'));
    if (readsLatency && !qs.some((q) => q.exemplar)) {
      problems.push(`${key}: a latency panel must fetch exemplars (exemplar: true) so its dots link to traces`);
    }
  }
  return problems;
}

export function runChecks(input: CheckInput): string[] {
  const catalog = input.catalog ?? CATALOG;
  const known = knownMetrics(catalog, input.rules);
  const problems: string[] = [];

  const catalogNames = new Set([...seriesIndex(catalog).keys()]);
  for (const m of EXTERNAL_METRICS) {
    if (catalogNames.has(m.name)) problems.push(`external metric ${m.name} is also in the service's catalog`);
  }
  for (const q of input.panels) {
    problems.push(...checkExpr(`${q.dashboard} / "${q.panel}" / ${q.refId}`, q.expr, known));
  }
  for (const v of input.variables.filter((v) => v.type === 'query')) {
    const where = `${v.dashboard} / variable $${v.name}`;
    const lv = parseLabelValues(v.query);
    if (!lv) {
      problems.push(`${where}: only label_values(selector, label) queries are supported, got ${v.query}`);
      continue;
    }
    problems.push(...checkExpr(where, lv.selector, known));
    try {
      for (const s of parsePromql(lv.selector).selectors) {
        const labels = known.get(s.name);
        if (labels && !labels.has(lv.label)) problems.push(`${where}: "${s.name}" has no label "${lv.label}"`);
      }
    } catch {
      // already reported by checkExpr
    }
  }
  for (const r of input.rules) {
    problems.push(...checkExpr(`rule ${r.record ?? r.alert} (${r.file.replace(ROOT, '')})`, r.expr, known));
  }
  problems.push(...checkRunbooks(input.rules, input.runbook));
  problems.push(...checkExemplars(input.panels));
  return problems;
}

export function readRunbook(): string {
  return readFileSync(ROOT + RUNBOOK_DOC, 'utf8');
}
