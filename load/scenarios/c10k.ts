// c10k: ten thousand concurrent keep-alive connections, each waiting on an
// I/O-bound handler (GET /api/sleep?ms=10), for 30 s — the "10,000
// concurrent" claim, measured. A 1,000-connection reference step runs before
// it and another after it, against the same process and route, so the report
// can say whether throughput holds up (ratio ≥ 0.90) or collapses as
// connections grow. Why two references: on a shared host the machine's speed
// drifts by more than the effect measured (one reference put the same build
// at 0.61 and 1.46 in consecutive runs); the ratio is taken against their
// mean, and how far they differ says how much the host moved meanwhile.
import { phase, type Scenario, STEP_SLACK_S } from '../lib/scenario.js';
import type { BaselineRatioAnalysis, ClientSample } from '../lib/types.js';

/**
 * Each step opens its connections over rampS in half-second chunks, each
 * chunk parking its first requests on /api/sleep for holdS, so every
 * connection is open (and accepted) before the load reaches it; measuring
 * begins settleS after the hold. Why: see holdingRequests in lib/generator/ramp.ts.
 */
// The load reaches its full connection count rampS after holdS; settleS covers that and more.
const FULL = { rampS: 5, holdS: 7, settleS: 8 };
const BASE = { rampS: 1, holdS: 3, settleS: 3 };
const BASELINE_S = 10;
const HOLD_PATH = '/api/sleep?ms=';

export const RATIO_TARGET = 0.9;
/**
 * The generator's mean CPU in the reference step at or above which it, not
 * the service, set the pace: the reference is then low and the ratio flatters
 * the service (seen once the service got cheap enough per request for one
 * autocannon core to only just outrun it at 1,000 connections).
 */
export const GENERATOR_BOUND_CPU = 0.95;
/**
 * How far the two reference steps may differ (as a share of their mean)
 * before the verdict says the host's speed changed during the run;
 * load:figures repeats such runs rather than count them.
 */
export const REFERENCE_DRIFT_LIMIT = 0.15;

/** True when a run's reference steps differ by more than REFERENCE_DRIFT_LIMIT. */
export const referencesDrifted = (referenceDrift: number | null | undefined): referenceDrift is number =>
  referenceDrift != null && referenceDrift > REFERENCE_DRIFT_LIMIT;

/** True when the generator's CPU in the reference step says it, not the service, set that step's pace. */
export const pacedByGenerator = (baselineGeneratorCpu: number | null | undefined): baselineGeneratorCpu is number =>
  baselineGeneratorCpu != null && baselineGeneratorCpu >= GENERATOR_BOUND_CPU;

/** The load generator's mean CPU over a step's measured seconds (1 = its core full), or null. */
function meanGeneratorCpu(client: ClientSample[], step: string): number | null {
  const measured = client.filter((c) => c.step === step && !c.warmup);
  return measured.length
    ? Math.round((measured.reduce((a, c) => a + c.generatorCpu, 0) / measured.length) * 100) / 100
    : null;
}

/** The verdict's note on a step the load generator paced (empty when it did not). */
function pacedNote(step: string, generatorCpu: number | null, effect: 'flatters' | 'understates'): string {
  return pacedByGenerator(generatorCpu)
    ? `; ${step} was paced by the load generator (its core ${Math.round(generatorCpu * 100)}% busy), so its throughput is low and the ratio ${effect} the service: read the per-CPU-second ratio`
    : '';
}

export const c10k: Scenario = {
  name: 'c10k',
  description:
    '10,000 keep-alive connections on GET /api/sleep?ms=10 for 30 s (all opened first, then loaded), between two 1,000-connection reference steps.',
  defaults: { requests: [{ method: 'GET', path: '/api/sleep?ms=10' }], connections: 10_000, durationS: 30 },
  serviceConfig: {
    config: { shedding: { maxEventLoopDelayMs: 0 } },
    why:
      'load shedding on event-loop delay is off for c10k: 10,000 connections in a closed loop queue ~1 s of work by design, ' +
      'and the default 200 ms threshold would answer most of them 503 — which is the point of shedding, not of this test ' +
      '(run with --service-config default to see it)',
  },
  *plan(o) {
    const reference = (name: 'baseline' | 'after') => ({
      name,
      phases: [
        phase(o, {
          name: `${name === 'baseline' ? 'reference' : 'reference after'} c=${o.baselineConnections}`,
          connections: o.baselineConnections,
          durationS: BASE.holdS + BASE.settleS + BASELINE_S,
          warmupS: BASE.holdS + BASE.settleS,
          rampS: BASE.rampS,
          hold: { untilS: BASE.holdS, path: HOLD_PATH },
        }),
      ],
    });
    if (o.baselineConnections > 0) yield reference('baseline');
    yield {
      name: 'full',
      phases: [
        phase(o, {
          name: `c=${o.connections}`,
          connections: o.connections,
          durationS: FULL.holdS + FULL.settleS + o.durationS,
          warmupS: FULL.holdS + FULL.settleS,
          rampS: FULL.rampS,
          hold: { untilS: FULL.holdS, path: HOLD_PATH },
        }),
      ],
    };
    if (o.baselineConnections > 0) yield reference('after');
  },
  maxDurationS: (o) =>
    (o.baselineConnections > 0 ? 2 * (BASE.holdS + BASE.settleS + BASELINE_S + STEP_SLACK_S) : 0) +
    FULL.holdS +
    FULL.settleS +
    o.durationS +
    STEP_SLACK_S,
  analyze({ phases, client }) {
    const full = phases.find((p) => p.step === 'full');
    const before = phases.find((p) => p.step === 'baseline');
    if (!full || !before || before.rps === 0) return { kind: 'none' };
    // A run stopped early may have only the first reference.
    const found = phases.find((p) => p.step === 'after');
    const after = found && found.rps > 0 ? found : undefined;
    const refs = after ? [before, after] : [before];
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    const round3 = (x: number) => Math.round(x * 1000) / 1000;
    const count = (x: number) => Math.round(x).toLocaleString('en-US');
    const refRps = Math.round(mean(refs.map((r) => r.rps)) * 10) / 10;
    const referenceDrift = after ? round3(Math.abs(after.rps - before.rps) / refRps) : null;
    const refGenerator = refs.map((r) => meanGeneratorCpu(client, r.step)).filter((x): x is number => x !== null);
    const baselineGeneratorCpu = refGenerator.length ? Math.max(...refGenerator) : null;
    const fullGeneratorCpu = meanGeneratorCpu(client, 'full');
    const ratio = round3(full.rps / refRps);
    const refCores = refs.map((r) => r.server?.rpsPerCore);
    const b = refCores.every((x) => x) ? Math.round(mean(refCores as number[])) : null;
    const f = full.server?.rpsPerCore;
    const perCore = b && f ? { baseline: b, full: f, ratio: round3(f / b) } : null;
    const figure = `the ${count(before.connections)}-connection figure${
      after
        ? ` (the mean of ${count(before.rps)} req/s before and ${count(after.rps)} after)`
        : ' (measured before only)'
    }`;
    const analysis: BaselineRatioAnalysis = {
      kind: 'baseline-ratio',
      baseline: { connections: before.connections, rps: refRps, before: before.rps, after: after?.rps ?? null },
      full: { connections: full.connections, rps: full.rps },
      ratio,
      perCore,
      referenceDrift,
      baselineGeneratorCpu,
      fullGeneratorCpu,
      verdict:
        (ratio >= RATIO_TARGET
          ? `throughput at ${count(full.connections)} connections is ${ratio.toFixed(2)}× ${figure} (target ≥ ${RATIO_TARGET}): no collapse`
          : `throughput at ${count(full.connections)} connections fell to ${ratio.toFixed(2)}× ${figure} (target ≥ ${RATIO_TARGET})`) +
        (perCore
          ? `; per server CPU-second ${count(perCore.full)} vs ${count(perCore.baseline)} responses (${perCore.ratio.toFixed(2)}×)`
          : '') +
        (referencesDrifted(referenceDrift)
          ? `; the two reference steps differ by ${Math.round(referenceDrift * 100)}%: the machine's speed changed during the run, so this ratio says as much about the machine as about the service`
          : '') +
        pacedNote('a reference step', baselineGeneratorCpu, 'flatters') +
        pacedNote(`the ${count(full.connections)}-connection step`, fullGeneratorCpu, 'understates'),
    };
    return analysis;
  },
  // The objectives are about the 10k step; the reference step is context.
  sloSubject: (phases) => {
    const full = phases.find((p) => p.step === 'full');
    return full ? { subject: `the ${full.connections.toLocaleString('en-US')}-connection step`, summary: full } : null;
  },
};
