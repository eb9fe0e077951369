/**
 * Grafana's template-variable substitution, enough to run a dashboard's
 * queries the way Grafana would: resolve each variable from Prometheus (a
 * `label_values(selector, label)` query becomes /api/v1/label/<label>/values
 * with match[]=selector, as Grafana's Prometheus data source does), then
 * interpolate `$var` / `${var}` in PromQL.
 *
 * Multi-value variables are formatted like Grafana's Prometheus data source
 * does for regex matchers: each value regex-escaped, joined as (a|b|c).
 */
import { parseLabelValues, type TemplateVariable } from '../../../dashboards/check/sources.js';
import type { RunningPrometheus } from './prometheus.js';

export interface ResolvedVariable {
  name: string;
  /** Every value the variable's query returned (constants: their value). */
  options: string[];
  /** What `$name` is replaced with. */
  value: string;
}

/** Grafana's prometheusRegularEscape: regex metacharacters get a (PromQL-escaped) backslash. */
export function regexEscape(value: string): string {
  return value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');
}

/** Replaces $name and ${name} for the given variables (longest names first). */
export function interpolate(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? '';
    return Object.hasOwn(values, name) ? (values[name] as string) : whole;
  });
}

export interface ResolveOptions {
  /** Values to pick for single-value variables (e.g. { job: 'periscope' }); default: the first option. */
  pick?: Record<string, string>;
  /** Time range for label lookups (seconds). */
  start: number;
  end: number;
}

/**
 * Resolves a dashboard's variables in order (each may use the ones before
 * it). Throws when a query variable finds no values: the dashboard would be
 * empty in Grafana too.
 */
export async function resolveVariables(
  prom: RunningPrometheus,
  variables: readonly TemplateVariable[],
  opts: ResolveOptions,
): Promise<ResolvedVariable[]> {
  const resolved: ResolvedVariable[] = [];
  const values: Record<string, string> = {};
  for (const v of variables) {
    if (v.type === 'datasource') continue;
    let options: string[];
    if (v.type === 'constant') options = [v.query];
    else if (v.type === 'query') {
      const lv = parseLabelValues(v.query);
      if (!lv) throw new Error(`$${v.name}: unsupported variable query ${v.query}`);
      const match = interpolate(lv.selector, values);
      options = await prom.labelValues(lv.label, match, opts.start, opts.end);
      if (!options.length) throw new Error(`$${v.name}: ${v.query} (as ${match}) returned no values`);
    } else throw new Error(`$${v.name}: unsupported variable type ${v.type}`);

    let value: string;
    if (v.multi || v.includeAll)
      value = options.length === 1 ? regexEscape(options[0] as string) : `(${options.map(regexEscape).join('|')})`;
    else {
      const wanted = opts.pick?.[v.name];
      if (wanted !== undefined && !options.includes(wanted)) {
        throw new Error(`$${v.name}: wanted "${wanted}", the query returned ${JSON.stringify(options)}`);
      }
      value = wanted ?? (options[0] as string);
    }
    values[v.name] = value;
    resolved.push({ name: v.name, options, value });
  }
  return resolved;
}
