// What a scenario is: default load, a plan of steps (a generator, so a
// scenario can look at one step's outcome before choosing the next, as stress
// does), and an analysis of what came back. Scenarios live in load/scenarios/,
// one file each.
import type { Analysis, ClientSample, PhaseSpec, PhaseSummary, RequestSpec, ServerSample, StepSpec } from './types.js';

export interface ScenarioDefaults {
  requests: RequestSpec[];
  connections: number;
  /** Measured seconds (warm-up comes on top). */
  durationS: number;
  rate?: number;
}

/** Options after defaults, flags and validation: what a plan works from. */
export interface ScenarioOptions {
  origin: string;
  requests: RequestSpec[];
  connections: number;
  durationS: number;
  rate: number | null;
  timeoutS: number;
  /** c10k: connections of the reference step (0 skips it). */
  baselineConnections: number;
  /** stress: most steps to ramp through. */
  maxSteps: number;
}

export interface AnalysisInput {
  options: ScenarioOptions;
  phases: PhaseSummary[];
  client: ClientSample[];
  server: ServerSample[];
  /** Epoch ms the run's clock (t = 0) started at. */
  runStart: number;
}

export interface Scenario {
  name: string;
  description: string;
  defaults: ScenarioDefaults;
  /**
   * Runtime config (CONFIG_FILE) for a service the runner starts itself, when
   * the scenario cannot measure what it is for under the defaults; `why` is
   * printed and shown in the report. `--service-config` replaces it.
   */
  serviceConfig?: { config: Record<string, unknown>; why: string };
  /** Yields the steps to run; each yield receives that step's phase summaries. */
  plan(o: ScenarioOptions): Generator<StepSpec, void, PhaseSummary[]>;
  /** Most connections open at once; default: found by walking the plan (adaptive plans must say). */
  peakConnections?(o: ScenarioOptions): number;
  /** Upper bound on the run's length, seconds (the watchdog's limit). */
  maxDurationS(o: ScenarioOptions): number;
  analyze?(input: AnalysisInput): Analysis;
  /** Which measurements the SLO objectives apply to; default: the whole run (warm-ups excluded). */
  sloSubject?(phases: PhaseSummary[], analysis: Analysis): { subject: string; summary: PhaseSummary } | null;
}

export function phase(
  o: ScenarioOptions,
  p: {
    name: string;
    connections: number;
    durationS: number;
    warmupS: number;
    startS?: number;
    rate?: number | null;
    rampS?: number;
    hold?: { untilS: number; path: string };
  },
): PhaseSpec {
  const rate = p.rate === undefined ? o.rate : p.rate;
  return {
    name: p.name,
    startS: p.startS ?? 0,
    durationS: p.durationS,
    connections: p.connections,
    ...(rate ? { rate } : {}),
    ...(p.rampS ? { rampS: p.rampS } : {}),
    ...(p.hold ? { hold: p.hold } : {}),
    warmupS: p.warmupS,
    origin: o.origin,
    requests: o.requests,
    timeoutS: o.timeoutS,
  };
}

/** Time for connections to close and autocannon to report between steps. */
export const STEP_SLACK_S = 3;
