// stress: ramp the load in steps until the service saturates, and report the
// knee — the most load it took before throughput stopped rising while latency
// climbed (or requests failed). Connections double each step (closed loop);
// with --rate, the offered rate doubles instead (open loop, --connections
// fixed). The route is the I/O-bound /api/sleep?ms=10 so there is headroom to
// ramp through: each connection alone can do at most ~100 req/s, so
// throughput grows with connections until the service's core is busy.
import { assessStep, kneeOf, type StepStat, shouldStop } from '../lib/knee.js';
import { phase, type Scenario, STEP_SLACK_S } from '../lib/scenario.js';
import type { KneeAnalysis, PhaseSummary } from '../lib/types.js';

const WARMUP_S = 2;

function stat(p: PhaseSummary): StepStat {
  return {
    step: p.step,
    connections: p.connections,
    rate: p.rate,
    rps: p.rps,
    p99Ms: p.latencyMs.p99,
    errorRatio: p.errorRatio,
  };
}

export const stress: Scenario = {
  name: 'stress',
  description:
    'Doubles connections (or, with --rate, the offered rate) every step on GET /api/sleep?ms=10 until throughput stops rising while p99 climbs, or errors appear; reports the knee.',
  defaults: { requests: [{ method: 'GET', path: '/api/sleep?ms=10' }], connections: 25, durationS: 8 },
  *plan(o) {
    const stats: Array<StepStat & { saturated: boolean }> = [];
    for (let i = 0; i < o.maxSteps; i++) {
      const rate = o.rate === null ? null : o.rate * 2 ** i;
      const connections = o.rate === null ? o.connections * 2 ** i : o.connections;
      const name = rate === null ? `c=${connections}` : `rate=${rate}`;
      const phases: PhaseSummary[] = yield {
        name,
        phases: [phase(o, { name, connections, rate, durationS: o.durationS + WARMUP_S, warmupS: WARMUP_S })],
      };
      const s = phases[0];
      if (!s) return;
      const cur = stat(s);
      stats.push({ ...cur, ...assessStep(stats, cur) });
      if (shouldStop(stats)) return;
    }
  },
  peakConnections: (o) => (o.rate === null ? o.connections * 2 ** (o.maxSteps - 1) : o.connections),
  maxDurationS: (o) => o.maxSteps * (o.durationS + WARMUP_S + STEP_SLACK_S),
  analyze: ({ phases }) => kneeOf(phases.map(stat)),
  // Objectives apply to the knee: the most load the service took while healthy.
  sloSubject: (phases, analysis) => {
    const a = analysis as KneeAnalysis;
    const step = a.knee?.step ?? (a.saturatedAt === null ? a.steps.at(-1)?.step : undefined);
    const chosen = phases.find((p) => p.step === step);
    return chosen ? { subject: `the knee step (${step})`, summary: chosen } : null;
  },
};
