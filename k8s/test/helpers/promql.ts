// Metric names in a PromQL expression, read with Prometheus' own grammar
// (@prometheus-io/lezer-promql, the parser of the Prometheus UI).
import { parser } from '@prometheus-io/lezer-promql';

export interface Selectors {
  /** Names written as the selector's identifier: foo in foo{a="b"}. */
  names: string[];
  /** Names given by a __name__ matcher: {__name__="foo"} (= or =~). */
  nameMatchers: { op: string; value: string }[];
}

export function selectors(expr: string): Selectors {
  const tree = parser.parse(expr);
  const out: Selectors = { names: [], nameMatchers: [] };
  const errors: number[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id) out.names.push(expr.slice(id.from, id.to));
      }
      if (node.name === 'UnquotedLabelMatcher') {
        const name = node.node.getChild('LabelName');
        const op = node.node.getChild('MatchOp');
        const value = node.node.getChild('StringLiteral');
        if (name && op && value && expr.slice(name.from, name.to) === '__name__') {
          out.nameMatchers.push({
            op: expr.slice(op.from, op.to),
            value: JSON.parse(expr.slice(value.from, value.to)),
          });
        }
      }
    },
  });
  if (errors.length) {
    const at = errors[0] ?? 0;
    throw new Error(
      `not valid PromQL at ${at}: ${expr.slice(Math.max(0, at - 20), at)}⟨here⟩${expr.slice(at, at + 20)}`,
    );
  }
  return out;
}

/** Every metric name an expression reads; throws on a syntax error or a name it cannot resolve statically. */
export function metricNames(expr: string): string[] {
  const s = selectors(expr);
  for (const m of s.nameMatchers) {
    if (m.op !== '=') throw new Error(`${expr}: __name__${m.op}"${m.value}" cannot be checked against the catalog`);
  }
  return [...new Set([...s.names, ...s.nameMatchers.map((m) => m.value)])];
}
