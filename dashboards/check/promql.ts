// What a PromQL expression reads: metric names and the labels it matches or
// groups by, from Prometheus' own grammar (@prometheus-io/lezer-promql, the
// parser behind the Prometheus UI), not from regular expressions.
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';

export interface Selector {
  /** Metric name, from the identifier or an exact __name__ matcher. */
  name: string;
  /** Label names in the selector's matchers (except __name__). */
  labels: string[];
}

export interface Grouping {
  /** Labels in `by (...)` of an aggregation. */
  labels: string[];
  /** Metric names selected inside that aggregation. */
  names: string[];
}

export interface ParsedExpr {
  selectors: Selector[];
  groupings: Grouping[];
}

export class PromqlError extends Error {}

/**
 * Grafana variables become PromQL-valid placeholders: built-in intervals
 * ($__rate_interval, $__interval, $__range, ...) turn into a duration; other
 * variables only ever appear inside label-value strings, where they parse.
 */
export function withGrafanaPlaceholders(expr: string): string {
  return expr.replace(/\$\{__\w+\}|\$__\w+/g, '5m');
}

const text = (src: string, n: SyntaxNode) => src.slice(n.from, n.to);
const unquote = (s: string) => s.replace(/^["'`]|["'`]$/g, '');

function selectorOf(src: string, node: SyntaxNode): Selector {
  let name = '';
  const labels: string[] = [];
  const identifier = node.getChild('Identifier');
  if (identifier) name = text(src, identifier);
  const matchers = node.getChild('LabelMatchers');
  for (const m of matchers
    ? [...matchers.getChildren('UnquotedLabelMatcher'), ...matchers.getChildren('QuotedLabelMatcher')]
    : []) {
    const labelNode = m.getChild('LabelName') ?? m.getChild('QuotedLabelName');
    const label = labelNode ? unquote(text(src, labelNode)) : '';
    if (label !== '__name__') {
      labels.push(label);
      continue;
    }
    const op = m.getChild('MatchOp');
    const value = m.getChild('StringLiteral');
    if (op && text(src, op) === '=' && value) name = unquote(text(src, value));
    else throw new PromqlError(`a regex __name__ matcher cannot be checked against the catalog: ${text(src, m)}`);
  }
  // A bare metric name inside {"name"} (Prometheus 3 quoted-name syntax).
  for (const q of matchers?.getChildren('QuotedLabelName') ?? []) name = unquote(text(src, q));
  if (!name) throw new PromqlError(`selector without a metric name: ${text(src, node)}`);
  return { name, labels };
}

function namesWithin(src: string, node: SyntaxNode): string[] {
  const names: string[] = [];
  const cursor = node.cursor();
  do {
    if (cursor.type.name === 'VectorSelector') names.push(selectorOf(src, cursor.node).name);
  } while (cursor.next() && cursor.from < node.to);
  return names;
}

/** Parses an expression (Grafana variables allowed) and lists what it reads. */
export function parsePromql(expr: string): ParsedExpr {
  const src = withGrafanaPlaceholders(expr);
  const tree = parser.parse(src);
  const selectors: Selector[] = [];
  const groupings: Grouping[] = [];
  const errors: string[] = [];
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) {
        errors.push(`at ${ref.from}: "${src.slice(Math.max(0, ref.from - 15), ref.from + 15)}"`);
        return false;
      }
      if (ref.name === 'VectorSelector') selectors.push(selectorOf(src, ref.node));
      if (ref.name === 'AggregateExpr') {
        const modifier = ref.node.getChild('AggregateModifier');
        if (modifier?.getChild('By')) {
          const grouping = modifier.getChild('GroupingLabels');
          const labels = grouping ? grouping.getChildren('LabelName').map((l) => text(src, l)) : [];
          const body = ref.node.getChild('FunctionCallBody');
          groupings.push({ labels, names: body ? namesWithin(src, body) : [] });
        }
      }
      return undefined;
    },
  });
  if (errors.length) throw new PromqlError(`does not parse as PromQL (${errors.join('; ')})`);
  return { selectors, groupings };
}
