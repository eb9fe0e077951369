// Shapes shared by the runner, the generator process, the report and the SLO
// evaluation. The JSON result file is a `LoadResult` (schema tag below); keep
// changes additive so saved results stay readable.

export const RESULT_SCHEMA = 'periscope.load-result/v1';

/** One HTTP request shape a connection sends (autocannon's `requests` entries). */
export interface RequestSpec {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One autocannon instance: a number of connections for a time, starting at an offset within its step. */
export interface PhaseSpec {
  name: string;
  /** Seconds after the step starts. Phases of one step run concurrently (spike: baseline + burst). */
  startS: number;
  durationS: number;
  connections: number;
  /** Overall requests/s across this phase's connections (autocannon overallRate); unset = as fast as possible. */
  rate?: number;
  /** Open the connections gradually over this many seconds (see generator/ramp.ts). */
  rampS?: number;
  /**
   * Park every connection's first request until `untilS` after the phase starts, on
   * `path` + the milliseconds left (e.g. /api/sleep?ms=), so all connections are
   * open before the load begins (see generator/ramp.ts for why).
   */
  hold?: { untilS: number; path: string };
  /** Leading seconds left out of the phase's summary (connection set-up, JIT warm-up). Still charted. */
  warmupS: number;
  /** Origin to load, e.g. http://127.0.0.1:3000 (no path). */
  origin: string;
  /** Requests each connection cycles through, in order. */
  requests: RequestSpec[];
  /** Per-request timeout, seconds. */
  timeoutS: number;
}

/** A group of concurrent phases. Steps run one after another; stress decides the next step from the last one. */
export interface StepSpec {
  name: string;
  phases: PhaseSpec[];
}

export interface LatencySummary {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** What one phase measured after its warm-up. */
export interface PhaseSummary {
  name: string;
  step: string;
  connections: number;
  rate: number | null;
  route: string;
  /** Epoch ms: when the measured window began and ended (after warm-up). */
  measuredFrom: number;
  measuredTo: number;
  measuredS: number;
  /** Responses received in the measured window (any status). */
  responses: number;
  /** Responses per second in the measured window. */
  rps: number;
  bytesPerS: number;
  latencyMs: LatencySummary;
  /** Response count by status code. */
  status: Record<string, number>;
  /** Request errors (no response) by kind: ECONNRESET, timeout, ... */
  errors: Record<string, number>;
  /** Responses that were not 2xx plus request errors. */
  failures: number;
  /** failures / (responses + request errors). */
  errorRatio: number;
  /** autocannon's own totals over the whole phase (warm-up included), as a cross-check. */
  autocannon: { requests: number; errors: number; timeouts: number; non2xx: number; latencyP99Ms: number };
  /**
   * The service's side of the measured window, from the scraped series (null without them):
   * CPU seconds it used, responses per CPU-second (what one full core would serve — steadier
   * than req/s on a shared machine, where other processes take wall time), mean ELU, and the
   * share of the service's CPU time spent in garbage collection.
   */
  server?: { cpuSeconds: number; rpsPerCore: number | null; eluMean: number | null; gcShare: number | null } | null;
}

/** One second of client-side measurements (all phases of the step together). */
export interface ClientSample {
  /** Seconds since the run started (end of the window). */
  t: number;
  step: string;
  windowS: number;
  connections: number;
  responses: number;
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number } | null;
  status: Record<string, number>;
  errors: Record<string, number>;
  /** True while any phase of the step is still in its warm-up. */
  warmup: boolean;
  /** The load generator's own CPU (1 = its core fully used) and event-loop utilization: near 1 means the generator, not the service, may be the limit. */
  generatorCpu: number;
  generatorElu: number;
}

/** One /metrics scrape, reduced to the series the report charts. Null where the metric is absent. */
export interface ServerSample {
  t: number;
  /** Event-loop utilization over the last scrape interval (rate of nodejs_eventloop_active_seconds_total). */
  elu: number | null;
  /** The service's own 10 s ELU gauge (nodejs_eventloop_utilization_ratio). */
  eluGauge: number | null;
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  lagMaxMs: number | null;
  heapUsedBytes: number | null;
  rssBytes: number | null;
  activeRequests: number | null;
  /** Keep-alive connections the service's admission control is not reading (its next request waits in the kernel). */
  heldConnections: number | null;
  /** The in-flight limit admission control holds connections at (adapted while it holds; 0 = off). */
  admissionLimit: number | null;
  /** Process CPU time per second of wall time (1 = one core busy). */
  cpu: number | null;
  /** Share of wall time spent in garbage collection (rate of nodejs_gc_duration_seconds_sum, all kinds). */
  gcShare: number | null;
  openFds: number | null;
  /** Requests/s the server counted (rate of http_server_request_duration_seconds_count). */
  rps: number | null;
  /** Requests/s the service turned away by itself (shed, rate-limited, deadline), when it exports those. */
  rejectedRps: number | null;
  /** How long the scrape took, ms: the admin port shares the event loop, so this grows under load. */
  scrapeMs: number;
}

export interface SloObjectives {
  /** Maximum p99 latency, ms. */
  p99Ms?: number;
  /** Maximum p50 latency, ms. */
  p50Ms?: number;
  /** Maximum share of failed requests (non-2xx or no response), 0..1. */
  maxErrorRatio?: number;
  /** Minimum throughput, responses/s. */
  minRps?: number;
  /** c10k: minimum throughput at full connections as a ratio to the 1,000-connection baseline. */
  minBaselineRatio?: number;
  /** spike: maximum seconds after the burst until p99 is back near the baseline. */
  maxRecoveryS?: number;
}

export interface SloCheck {
  objective: keyof SloObjectives;
  /** The limit, in the objective's unit. */
  limit: number;
  actual: number | null;
  pass: boolean;
  detail: string;
}

export interface SloVerdict {
  file: string | null;
  /** none: no objectives for this scenario in the file (or no file). */
  verdict: 'pass' | 'fail' | 'none';
  /** What the objectives were checked against (e.g. "whole run", "knee step c=320"). */
  subject: string;
  checks: SloCheck[];
}

export interface FdLimits {
  soft: number;
  hard: number;
}

export interface LoadResult {
  schema: typeof RESULT_SCHEMA;
  scenario: string;
  description: string;
  startedAt: string;
  finishedAt: string;
  /** False when the run was cut short (Ctrl-C, a failure); the figures cover what ran. */
  complete: boolean;
  interruption: string | null;
  settings: {
    target: string;
    adminUrl: string | null;
    /** True when the runner started the service itself. */
    localService: boolean;
    route: string;
    connections: number;
    durationS: number;
    rate: number | null;
    command: string;
  };
  environment: {
    hostname: string;
    cpus: number;
    cpuModel: string;
    generatorNode: string;
    serviceNode: string | null;
    serviceCpus: string | null;
    generatorCpus: string | null;
    /** The memory cgroup limit the local service ran under (--service-memory), or null for none. */
    serviceMemoryLimitBytes: number | null;
    fdLimits: { generator: FdLimits | null; service: FdLimits | null };
    loadAvgBefore: number[];
    loadAvgAfter: number[];
    /** Share of the machine's CPU time used by processes other than the service and generator. */
    otherCpuShare: number | null;
    /** Connections the kernel dropped during the run because an accept queue was full (machine-wide counter). */
    listenOverflows: number | null;
    notes: string[];
  };
  phases: PhaseSummary[];
  /** All phases together, warm-ups excluded. */
  summary: PhaseSummary;
  client: ClientSample[];
  server: {
    samples: ServerSample[];
    scrapeErrors: number;
    peakRssBytes: number | null;
    /** "VmHWM" (kernel's peak, local service only) or "scrape" (max of scraped RSS). */
    peakRssSource: 'VmHWM' | 'scrape' | null;
  };
  analysis: Analysis;
  slo: SloVerdict;
  files: { json: string; html: string; serverLog: string | null };
}

/** What `stress` measured at one ramp step. */
export interface StepStat {
  step: string;
  connections: number;
  /** Offered rate in open-loop mode, null in closed loop. */
  rate: number | null;
  rps: number;
  p99Ms: number;
  errorRatio: number;
}

export interface KneeAnalysis {
  kind: 'knee';
  /** One row per ramp step, in order. */
  steps: Array<StepStat & { saturated: boolean; reason: string | null }>;
  /** The last step before saturation: the highest load the service took without falling over. */
  knee: Omit<StepStat, 'errorRatio'> | null;
  saturatedAt: string | null;
  verdict: string;
}

export interface SpikeAnalysis {
  kind: 'spike';
  baselineP99Ms: number | null;
  peakP99Ms: number | null;
  /** Seconds from the end of the burst until per-second p99 ≤ recoveryThresholdMs; null if it never did. */
  recoveryS: number | null;
  recoveryThresholdMs: number | null;
  burstFailures: number;
  verdict: string;
}

export interface BaselineRatioAnalysis {
  kind: 'baseline-ratio';
  /** rps: the mean of the reference steps before and after the full step (after: null when the run stopped first). */
  baseline: { connections: number; rps: number; before: number; after: number | null };
  full: { connections: number; rps: number };
  ratio: number;
  /** The same ratio on responses per server CPU-second: what it would be with a core to itself. */
  perCore: { baseline: number; full: number; ratio: number } | null;
  /** |after − before| ÷ their mean: how far the machine's speed moved during the run (null: one reference). */
  referenceDrift: number | null;
  /** The load generator's mean CPU in the busier reference step (1 = its core full); near 1, it set the pace. */
  baselineGeneratorCpu: number | null;
  /** The same in the full (10,000-connection) step; near 1, the ratio understates the service. */
  fullGeneratorCpu: number | null;
  verdict: string;
}

export interface SoakAnalysis {
  kind: 'soak';
  /** Least-squares slope of heap used / RSS over the measured window, MB per minute. */
  heapSlopeMbPerMin: number | null;
  rssSlopeMbPerMin: number | null;
  rssStartMb: number | null;
  rssEndMb: number | null;
  verdict: string;
}

export type Analysis = KneeAnalysis | SpikeAnalysis | BaselineRatioAnalysis | SoakAnalysis | { kind: 'none' };
