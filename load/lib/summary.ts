// Turning what the generator and the scraper reported into the result's
// summaries, and printing them at the end of a run.
import type { TotalSummary } from './generator/protocol.js';
import type { ProgressPrinter } from './progress.js';
import type { LoadResult, PhaseSummary, ServerSample } from './types.js';

/** The service's CPU and ELU over a phase's measured window, integrated from the per-interval scrapes. */
export function serverSide(
  p: PhaseSummary,
  samples: readonly ServerSample[],
  runStart: number,
): PhaseSummary['server'] {
  const from = (p.measuredFrom - runStart) / 1000;
  const to = (p.measuredTo - runStart) / 1000;
  let cpuSeconds = 0;
  let eluSeconds = 0;
  let gcSeconds = 0;
  let gcKnown = false;
  let covered = 0;
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i] as ServerSample;
    const prev = samples[i - 1] as ServerSample;
    // The part of this scrape interval that lies inside the window.
    const overlap = Math.min(s.t, to) - Math.max(prev.t, from);
    if (overlap <= 0 || s.cpu === null) continue;
    cpuSeconds += s.cpu * overlap;
    eluSeconds += (s.elu ?? 0) * overlap;
    if (s.gcShare != null) {
      gcSeconds += s.gcShare * overlap;
      gcKnown = true;
    }
    covered += overlap;
  }
  if (covered < Math.max(1, (to - from) / 2)) return null;
  return {
    cpuSeconds: Math.round(cpuSeconds * 100) / 100,
    rpsPerCore: cpuSeconds > 0.5 ? Math.round(p.responses / cpuSeconds) : null,
    eluMean: Math.round((eluSeconds / covered) * 1000) / 1000,
    gcShare: gcKnown && cpuSeconds > 0 ? Math.round((gcSeconds / cpuSeconds) * 1000) / 1000 : null,
  };
}

export function emptySummary(name: string): PhaseSummary {
  return {
    name,
    step: name,
    connections: 0,
    rate: null,
    route: '',
    measuredFrom: 0,
    measuredTo: 0,
    measuredS: 0,
    responses: 0,
    rps: 0,
    bytesPerS: 0,
    latencyMs: { mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 },
    status: {},
    errors: {},
    failures: 0,
    errorRatio: 0,
    autocannon: { requests: 0, errors: 0, timeouts: 0, non2xx: 0, latencyP99Ms: 0 },
  };
}

export function totalToSummary(t: TotalSummary, phases: PhaseSummary[], route: string): PhaseSummary {
  const errors = Object.values(t.errors).reduce((a, b) => a + b, 0);
  const s = emptySummary('all');
  return {
    ...s,
    connections: Math.max(0, ...phases.map((p) => p.connections)),
    rate: null,
    route,
    measuredFrom: Math.min(...phases.map((p) => p.measuredFrom)),
    measuredTo: Math.max(...phases.map((p) => p.measuredTo)),
    measuredS: t.measuredS,
    responses: t.responses,
    rps: t.measuredS > 0 ? Math.round((t.responses / t.measuredS) * 10) / 10 : 0,
    bytesPerS: t.measuredS > 0 ? Math.round(t.bytes / t.measuredS) : 0,
    latencyMs: t.latencyMs,
    status: t.status,
    errors: t.errors,
    failures: t.failures,
    errorRatio: t.responses + errors > 0 ? t.failures / (t.responses + errors) : 0,
    autocannon: phases.reduce(
      (a, p) => ({
        requests: a.requests + p.autocannon.requests,
        errors: a.errors + p.autocannon.errors,
        timeouts: a.timeouts + p.autocannon.timeouts,
        non2xx: a.non2xx + p.autocannon.non2xx,
        latencyP99Ms: Math.max(a.latencyP99Ms, p.autocannon.latencyP99Ms),
      }),
      s.autocannon,
    ),
  };
}

export function printSummary(out: ProgressPrinter, r: LoadResult): void {
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  out.log('');
  for (const p of r.phases) {
    out.log(
      `  ${p.name.padEnd(18)} c=${n(p.connections).padStart(6)}  ${n(p.rps).padStart(8)} req/s  p50 ${p.latencyMs.p50.toFixed(2)} ms  p99 ${p.latencyMs.p99.toFixed(2)} ms  max ${p.latencyMs.max.toFixed(1)} ms  failures ${n(p.failures)} (${(p.errorRatio * 100).toFixed(3)}%)  [${p.measuredS.toFixed(1)} s measured]${p.server?.rpsPerCore ? `  server: ${n(p.server.rpsPerCore)} req per CPU-second, ELU ${p.server.eluMean?.toFixed(2)}${p.server.gcShare != null ? `, GC ${(p.server.gcShare * 100).toFixed(0)}% of CPU` : ''}` : ''}`,
    );
  }
  if (r.server.peakRssBytes !== null) {
    out.log(`  server peak RSS ${(r.server.peakRssBytes / 1048576).toFixed(1)} MB (${r.server.peakRssSource})`);
  }
  if (r.analysis.kind !== 'none') out.log(`  ${r.analysis.kind}: ${r.analysis.verdict}`);
  const v = r.slo;
  if (!r.complete)
    out.log(`  run interrupted (${r.interruption}): every figure, and the SLO verdict, covers only what ran`);
  if (v.verdict === 'none') out.log(`  SLO: no objectives for ${r.scenario}${v.file ? ` in ${v.file}` : ''}`);
  else {
    out.log(`  SLO ${v.verdict.toUpperCase()} (${v.subject}):`);
    for (const c of v.checks) out.log(`    ${c.pass ? 'pass' : 'FAIL'}  ${c.detail}`);
  }
  for (const note of r.environment.notes) out.log(`  note: ${note}`);
}
