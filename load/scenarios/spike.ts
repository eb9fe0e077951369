// spike: a steady trickle, then a sudden burst of connections on top of it,
// then the trickle alone again. The question is recovery: how far latency
// jumps during the burst, whether anything fails, and how quickly the
// baseline's latency comes back once the burst is gone.
import { phase, type Scenario, STEP_SLACK_S } from '../lib/scenario.js';
import type { SpikeAnalysis } from '../lib/types.js';

const BASELINE_CONNECTIONS = 20;
const WARMUP_S = 3;
/** Recovered: per-second p99 within 1.5× the baseline's (or 2 ms of it, for tiny baselines) for 3 s running. */
const RECOVERY_FACTOR = 1.5;
const RECOVERY_SLACK_MS = 2;
const RECOVERY_HOLD_S = 3;

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Burst window within the step: a quarter of the run, starting after the first quarter. */
export function burstWindow(durationS: number): { startS: number; durationS: number } {
  const startS = WARMUP_S + Math.round(durationS / 4);
  return { startS, durationS: Math.max(1, Math.round(durationS / 4)) };
}

export const spike: Scenario = {
  name: 'spike',
  description: `${BASELINE_CONNECTIONS} connections on GET /api/sleep?ms=10 throughout; a burst of 2,000 more for the second quarter of the run; recovery measured after it.`,
  defaults: { requests: [{ method: 'GET', path: '/api/sleep?ms=10' }], connections: 2000, durationS: 40 },
  *plan(o) {
    const burst = burstWindow(o.durationS);
    yield {
      name: 'spike',
      phases: [
        phase(o, {
          name: `baseline c=${BASELINE_CONNECTIONS}`,
          connections: BASELINE_CONNECTIONS,
          durationS: o.durationS + WARMUP_S,
          warmupS: WARMUP_S,
        }),
        phase(o, {
          name: `burst c=${o.connections}`,
          connections: o.connections,
          startS: burst.startS,
          durationS: burst.durationS,
          warmupS: 0,
        }),
      ],
    };
  },
  maxDurationS: (o) => o.durationS + WARMUP_S + STEP_SLACK_S,
  analyze({ phases, client, runStart }) {
    const burst = phases.find((p) => p.name.startsWith('burst'));
    if (!burst) return { kind: 'none' };
    const burstStart = (burst.measuredFrom - runStart) / 1000;
    const burstEnd = (burst.measuredTo - runStart) / 1000;
    const p99 = (s: (typeof client)[number]) => s.latencyMs?.p99 ?? null;
    const before = client
      .filter((s) => !s.warmup && s.t <= burstStart)
      .map(p99)
      .filter((v): v is number => v !== null);
    const during = client
      .filter((s) => s.t > burstStart && s.t <= burstEnd + 1)
      .map(p99)
      .filter((v): v is number => v !== null);
    const baselineP99Ms = median(before);
    const peakP99Ms = during.length ? Math.max(...during) : null;
    const threshold =
      baselineP99Ms === null ? null : Math.max(baselineP99Ms * RECOVERY_FACTOR, baselineP99Ms + RECOVERY_SLACK_MS);
    let recoveryS: number | null = null;
    if (threshold !== null) {
      const after = client.filter((s) => s.t > burstEnd);
      for (let i = 0; i + RECOVERY_HOLD_S <= after.length; i++) {
        const hold = after.slice(i, i + RECOVERY_HOLD_S);
        if (hold.every((s) => (p99(s) ?? Number.POSITIVE_INFINITY) <= threshold)) {
          // The window ending at hold[0].t is the first good second: it began windowS earlier.
          const first = hold[0] as (typeof after)[number];
          recoveryS = Math.max(0, Math.round((first.t - first.windowS - burstEnd) * 10) / 10);
          break;
        }
      }
    }
    const analysis: SpikeAnalysis = {
      kind: 'spike',
      baselineP99Ms,
      peakP99Ms,
      recoveryS,
      recoveryThresholdMs: threshold === null ? null : Math.round(threshold * 1000) / 1000,
      burstFailures: burst.failures,
      verdict:
        baselineP99Ms === null || peakP99Ms === null
          ? 'not enough samples to judge the spike'
          : `p99 ${baselineP99Ms.toFixed(1)} ms before the burst, up to ${peakP99Ms.toFixed(1)} ms during it (${burst.failures} failed requests); ` +
            (recoveryS === null
              ? 'did not recover before the run ended'
              : `back within ${threshold?.toFixed(1)} ms ${recoveryS.toFixed(1)} s after it ended`),
    };
    return analysis;
  },
};
