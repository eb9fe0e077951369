// Where the PromQL lives: the generated dashboards (panel targets and
// template-variable queries) and the rule files. Shared by the catalog check
// and the real-Prometheus test, so both see exactly the same queries.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const GENERATED_DIR = `${ROOT}dashboards/generated/`;
export const RULES_DIR = `${ROOT}infra/prometheus/rules/`;

export interface PanelQuery {
  dashboard: string;
  panel: string;
  panelType: string;
  refId: string;
  expr: string;
  instant: boolean;
  exemplar: boolean;
}

export interface TemplateVariable {
  dashboard: string;
  name: string;
  type: string;
  /** The query (query variables) or value (constants). */
  query: string;
  multi: boolean;
  includeAll: boolean;
  allValue?: string;
}

interface DashboardJson {
  title: string;
  panels?: Array<PanelJson & { panels?: PanelJson[] }>;
  templating?: { list?: Array<Record<string, unknown>> };
}
interface PanelJson {
  type: string;
  title: string;
  targets?: Array<{ expr?: string; refId?: string; instant?: boolean; exemplar?: boolean }>;
}

export function loadDashboards(dir = GENERATED_DIR): Map<string, DashboardJson> {
  const out = new Map<string, DashboardJson>();
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    out.set(f, JSON.parse(readFileSync(dir + f, 'utf8')) as DashboardJson);
  }
  return out;
}

export function panelQueries(dashboards = loadDashboards()): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const [file, d] of dashboards) {
    const panels = (d.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        if (!t.expr) continue;
        out.push({
          dashboard: file,
          panel: p.title,
          panelType: p.type,
          refId: t.refId ?? '?',
          expr: t.expr,
          instant: t.instant === true,
          exemplar: t.exemplar === true,
        });
      }
    }
  }
  return out;
}

export function templateVariables(dashboards = loadDashboards()): TemplateVariable[] {
  const out: TemplateVariable[] = [];
  for (const [file, d] of dashboards) {
    for (const v of d.templating?.list ?? []) {
      const q = v.query;
      out.push({
        dashboard: file,
        name: String(v.name),
        type: String(v.type),
        query: typeof q === 'string' ? q : typeof q === 'object' && q && 'query' in q ? String(q.query) : '',
        multi: v.multi === true,
        includeAll: v.includeAll === true,
        ...(typeof v.allValue === 'string' ? { allValue: v.allValue } : {}),
      });
    }
  }
  return out;
}

/** label_values(selector, label) → its parts; undefined for other variable queries. */
export function parseLabelValues(query: string): { selector: string; label: string } | undefined {
  const m = /^\s*label_values\(\s*(.+?)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/s.exec(query);
  return m?.[1] && m[2] ? { selector: m[1], label: m[2] } : undefined;
}

export interface Rule {
  file: string;
  group: string;
  record?: string;
  alert?: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function ruleFiles(dir = RULES_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => dir + f);
}

export function loadRules(files = ruleFiles()): Rule[] {
  const out: Rule[] = [];
  for (const file of files) {
    const doc = parseYaml(readFileSync(file, 'utf8')) as {
      groups?: Array<{ name: string; rules?: Array<Record<string, unknown>> }>;
    };
    for (const g of doc.groups ?? []) {
      for (const r of g.rules ?? []) {
        out.push({
          file,
          group: g.name,
          ...(typeof r.record === 'string' ? { record: r.record } : {}),
          ...(typeof r.alert === 'string' ? { alert: r.alert } : {}),
          expr: String(r.expr),
          labels: (r.labels ?? {}) as Record<string, string>,
          annotations: (r.annotations ?? {}) as Record<string, string>,
        });
      }
    }
  }
  return out;
}
