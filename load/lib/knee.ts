// Saturation and the knee of a load ramp.
//
// A step is saturated when more offered load stopped buying throughput and
// latency paid for it, or when requests started failing:
//   - errors: more than 1% of requests failed;
//   - closed loop (ramping connections): throughput rose less than 5% over
//     the best earlier step while p99 rose more than 30% over the previous
//     step — the queue is growing instead of the output (Little's law);
//     or throughput fell more than 10% below the best earlier step;
//   - open loop (ramping the rate): the service delivered less than 95% of
//     the offered rate.
// The ramp stops after two saturated steps in a row (one can be noise on a
// shared machine); the knee is the last step before the first of them.
import type { KneeAnalysis, StepStat } from './types.js';

export type { StepStat } from './types.js';

export const ERROR_RATIO_LIMIT = 0.01;
export const MIN_GAIN = 0.05;
export const P99_RISE = 0.3;
export const DROP = 0.1;
export const RATE_SHORTFALL = 0.95;
export const CONFIRM_STEPS = 2;

export function assessStep(
  previous: readonly StepStat[],
  cur: StepStat,
): { saturated: boolean; reason: string | null } {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  if (cur.errorRatio > ERROR_RATIO_LIMIT) {
    return { saturated: true, reason: `${pct(cur.errorRatio)} of requests failed` };
  }
  if (cur.rate !== null) {
    return cur.rps < cur.rate * RATE_SHORTFALL
      ? { saturated: true, reason: `delivered ${Math.round(cur.rps)} of ${cur.rate} req/s offered` }
      : { saturated: false, reason: null };
  }
  const last = previous.at(-1);
  if (!last) return { saturated: false, reason: null };
  const best = Math.max(...previous.map((s) => s.rps));
  const gain = best > 0 ? cur.rps / best - 1 : 1;
  if (gain < -DROP) return { saturated: true, reason: `throughput fell ${pct(-gain)} below the best step` };
  const p99Rise = last.p99Ms > 0 ? cur.p99Ms / last.p99Ms - 1 : 0;
  if (gain < MIN_GAIN && p99Rise > P99_RISE) {
    return { saturated: true, reason: `throughput ${gain >= 0 ? '+' : ''}${pct(gain)} while p99 +${pct(p99Rise)}` };
  }
  return { saturated: false, reason: null };
}

/** True once the ramp has seen enough: CONFIRM_STEPS saturated steps in a row, or heavy failure. */
export function shouldStop(assessed: ReadonlyArray<StepStat & { saturated: boolean }>): boolean {
  const last = assessed.at(-1);
  if (last && last.errorRatio > 5 * ERROR_RATIO_LIMIT) return true;
  const tail = assessed.slice(-CONFIRM_STEPS);
  return tail.length === CONFIRM_STEPS && tail.every((s) => s.saturated);
}

export function kneeOf(stats: readonly StepStat[]): KneeAnalysis {
  const steps: KneeAnalysis['steps'] = [];
  for (const s of stats) {
    const { saturated, reason } = assessStep(stats.slice(0, steps.length), s);
    steps.push({ ...s, saturated, reason });
  }
  // The first saturated step that the next one confirms (or the last step, if it is saturated).
  let first = -1;
  for (let i = 0; i < steps.length; i++) {
    const cur = steps[i];
    const next = steps[i + 1];
    if (cur?.saturated && (next === undefined || next.saturated || cur.errorRatio > 5 * ERROR_RATIO_LIMIT)) {
      first = i;
      break;
    }
  }
  const kneeStep = first > 0 ? steps[first - 1] : undefined;
  const knee = kneeStep
    ? {
        step: kneeStep.step,
        connections: kneeStep.connections,
        rate: kneeStep.rate,
        rps: kneeStep.rps,
        p99Ms: kneeStep.p99Ms,
      }
    : null;
  const saturatedAt = first >= 0 ? (steps[first]?.step ?? null) : null;
  const load = (s: { connections: number; rate: number | null }) =>
    s.rate !== null
      ? `${s.rate.toLocaleString('en-US')} req/s offered`
      : `${s.connections.toLocaleString('en-US')} connections`;
  let verdict: string;
  if (first === -1) {
    const top = steps.at(-1);
    verdict = top
      ? `no saturation up to ${load(top)} (${Math.round(top.rps).toLocaleString('en-US')} req/s): raise --max-steps or start higher`
      : 'no steps ran';
  } else if (!knee) {
    verdict = `saturated from the first step (${steps[first]?.reason}): start lower (--connections / --rate)`;
  } else {
    verdict = `knee at ${load(knee)}: ${Math.round(knee.rps).toLocaleString('en-US')} req/s, p99 ${knee.p99Ms.toFixed(1)} ms; saturated at ${saturatedAt} (${steps[first]?.reason})`;
  }
  return { kind: 'knee', steps, knee, saturatedAt, verdict };
}
