// A parser for the Prometheus text exposition format (version 0.0.4), enough
// for reading a scrape: sample lines with labels, escapes, special floats and
// optional timestamps. Comments (# HELP / # TYPE) are skipped. Bad lines throw
// with their line number, so a broken /metrics is reported, not misread.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class PromParseError extends Error {
  override name = 'PromParseError';
}

const NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;

function parseValue(text: string, lineNo: number): number {
  switch (text) {
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    case 'NaN':
      return Number.NaN;
  }
  const v = Number(text);
  if (text === '' || Number.isNaN(v)) throw new PromParseError(`line ${lineNo}: not a number: "${text}"`);
  return v;
}

function parseLine(line: string, lineNo: number): PromSample {
  NAME.lastIndex = 0;
  const name = NAME.exec(line)?.[0];
  if (!name) throw new PromParseError(`line ${lineNo}: expected a metric name: "${line.slice(0, 80)}"`);
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      LABEL_NAME.lastIndex = i;
      const label = LABEL_NAME.exec(line)?.[0];
      if (!label || line[i + label.length] !== '=' || line[i + label.length + 1] !== '"') {
        throw new PromParseError(`line ${lineNo}: bad label at column ${i + 1}: "${line.slice(0, 80)}"`);
      }
      i += label.length + 2;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new PromParseError(`line ${lineNo}: unterminated label value`);
        if (c === '"') break;
        if (c === '\\') {
          const next = line[i + 1];
          value += next === 'n' ? '\n' : (next ?? '');
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
      labels[label] = value;
      i++; // closing quote
      while (line[i] === ' ') i++;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new PromParseError(`line ${lineNo}: expected , or } at column ${i + 1}`);
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === undefined) {
    throw new PromParseError(`line ${lineNo}: expected "value [timestamp]" after the name: "${line.slice(0, 80)}"`);
  }
  return { name, labels, value: parseValue(rest[0], lineNo) };
}

export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    out.push(parseLine(line, n + 1));
  }
  return out;
}

/** Sum of every series of `name` whose labels include `match`; null when there is none. */
export function sumOf(samples: readonly PromSample[], name: string, match: Record<string, string> = {}): number | null {
  let found = false;
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (!Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue;
    found = true;
    sum += s.value;
  }
  return found ? sum : null;
}
