// Service-level objectives per scenario, read from a YAML or JSON file
// (load/slo.yaml by default), and the verdict a run gets against them.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import type { Analysis, PhaseSummary, SloCheck, SloObjectives, SloVerdict } from './types.js';

const Positive = Type.Number({ exclusiveMinimum: 0 });
const Ratio = Type.Number({ minimum: 0, maximum: 1 });

export const ObjectivesSchema = Type.Object(
  {
    p99Ms: Type.Optional(Positive),
    p50Ms: Type.Optional(Positive),
    maxErrorRatio: Type.Optional(Ratio),
    minRps: Type.Optional(Type.Number({ minimum: 0 })),
    minBaselineRatio: Type.Optional(Type.Number({ minimum: 0 })),
    maxRecoveryS: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const SloFileSchema = Type.Object(
  { scenarios: Type.Record(Type.String({ pattern: '^[a-z0-9-]+$' }), ObjectivesSchema) },
  { additionalProperties: false },
);
export type SloFile = Static<typeof SloFileSchema>;

export class SloFileError extends Error {
  override name = 'SloFileError';
}

export function parseSloFile(text: string, path: string): SloFile {
  let raw: unknown;
  try {
    raw = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new SloFileError(`${path}: cannot parse: ${(err as Error).message.split('\n')[0]}`);
  }
  const first = Value.Errors(SloFileSchema, raw).First();
  if (first) {
    throw new SloFileError(
      `${path}: ${first.path || '(root)'}: ${first.message} (got ${JSON.stringify(first.value)}); ` +
        'expected { scenarios: { <name>: { p99Ms, p50Ms, maxErrorRatio, minRps, minBaselineRatio, maxRecoveryS } } }',
    );
  }
  return raw as SloFile;
}

export function loadSloFile(path: string): SloFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SloFileError(`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseSloFile(text, path);
}

const fmt = (v: number, unit: string) =>
  unit === '%' ? `${(v * 100).toFixed(3)}%` : `${Number(v.toFixed(3)).toLocaleString('en-US')}${unit}`;

function check(
  objective: keyof SloObjectives,
  limit: number,
  actual: number | null,
  kind: 'max' | 'min',
  unit: string,
): SloCheck {
  const pass = actual !== null && (kind === 'max' ? actual <= limit : actual >= limit);
  const op = kind === 'max' ? '≤' : '≥';
  return {
    objective,
    limit,
    actual,
    pass,
    detail:
      actual === null
        ? `${objective}: not measured (limit ${op} ${fmt(limit, unit)})`
        : `${objective}: ${fmt(actual, unit)} ${pass ? op : kind === 'max' ? '>' : '<'} ${fmt(limit, unit)}`,
  };
}

/**
 * The verdict: every objective set for the scenario must hold. `subject` is
 * what the objectives apply to (the scenario decides: the whole run, the 10k
 * step, the knee); a subject of null (e.g. no step below saturation) fails.
 */
export function evaluateSlo(
  objectives: SloObjectives | undefined,
  subject: { subject: string; summary: PhaseSummary } | null,
  analysis: Analysis,
  file: string | null,
): SloVerdict {
  if (!objectives || Object.keys(objectives).length === 0) {
    return { file, verdict: 'none', subject: subject?.subject ?? 'n/a', checks: [] };
  }
  if (!subject) {
    return {
      file,
      verdict: 'fail',
      subject: 'nothing to judge',
      checks: [
        {
          objective: 'minRps',
          limit: 0,
          actual: null,
          pass: false,
          detail: 'no measured step to judge (the run was cut short, or saturated from the start)',
        },
      ],
    };
  }
  const m = subject.summary;
  // Nothing measured (a run cut short during warm-up) proves nothing: every objective fails.
  const measured = m.responses + m.failures > 0;
  const v = (x: number) => (measured ? x : null);
  const checks: SloCheck[] = [];
  if (objectives.p99Ms !== undefined) checks.push(check('p99Ms', objectives.p99Ms, v(m.latencyMs.p99), 'max', ' ms'));
  if (objectives.p50Ms !== undefined) checks.push(check('p50Ms', objectives.p50Ms, v(m.latencyMs.p50), 'max', ' ms'));
  if (objectives.maxErrorRatio !== undefined) {
    checks.push(check('maxErrorRatio', objectives.maxErrorRatio, v(m.errorRatio), 'max', '%'));
  }
  if (objectives.minRps !== undefined) checks.push(check('minRps', objectives.minRps, v(m.rps), 'min', ' req/s'));
  if (objectives.minBaselineRatio !== undefined) {
    const ratio = analysis.kind === 'baseline-ratio' ? analysis.ratio : null;
    checks.push(check('minBaselineRatio', objectives.minBaselineRatio, ratio, 'min', '×'));
  }
  if (objectives.maxRecoveryS !== undefined) {
    const rec = analysis.kind === 'spike' ? analysis.recoveryS : null;
    checks.push(check('maxRecoveryS', objectives.maxRecoveryS, rec, 'max', ' s'));
  }
  return { file, verdict: checks.every((c) => c.pass) ? 'pass' : 'fail', subject: subject.subject, checks };
}
