// PromQL building blocks for panels: label selectors made of template
// variables, and the few expression shapes every dashboard repeats.
//
// Metric names stay literal in the dashboards (a reader should see the PromQL
// as Prometheus runs it); `npm run dashboards:check` parses every expression
// and fails unless each name is in the service's catalog, a recording rule,
// or a declared external metric (dashboards/check/external-metrics.ts).

/** One deployed service: its Prometheus job in one namespace. */
export const SERVICE = 'job="$job", namespace="$namespace"';
/** The selected pods of that service (multi-select, "All" = every pod). */
export const PODS = `${SERVICE}, pod=~"$pod"`;
/** The selected pods and routes (HTTP server series). */
export const ROUTES = `${PODS}, http_route=~"$route"`;

/** Grafana's rate window: at least four scrapes, grows with the step. */
export const RATE_WINDOW = '$__rate_interval';

/** `{matchers, extra}` */
export function sel(matchers: string, extra?: string): string {
  return `{${extra ? `${matchers}, ${extra}` : matchers}}`;
}

/** sum by (labels) (rate(metric{matchers}[$__rate_interval])) */
export function sumRate(metric: string, matchers: string, by: readonly string[] = []): string {
  const grouping = by.length ? ` by (${by.join(', ')})` : '';
  return `sum${grouping} (rate(${metric}${sel(matchers)}[${RATE_WINDOW}]))`;
}

/**
 * histogram_quantile over a classic histogram, grouped by `by` (le is added).
 * `histogram` is the family name, without _bucket.
 */
export function quantile(q: number, histogram: string, matchers: string, by: readonly string[] = []): string {
  return `histogram_quantile(${q}, ${sumRate(`${histogram}_bucket`, matchers, ['le', ...by])})`;
}

/**
 * Share of a counter's rate matching `subset`, by `by`, kept at 0 (rather
 * than absent) where the whole has traffic and the subset has none, so a
 * healthy route draws a flat line instead of "No data".
 */
export function ratioOrZero(metric: string, matchers: string, subset: string, by: readonly string[]): string {
  const whole = sumRate(metric, matchers, by);
  return `(${sumRate(metric, `${matchers}, ${subset}`, by)} or 0 * ${whole}) / ${whole}`;
}
