// Messages between the runner and the load-generator process (Node IPC, JSON).
// The generator is its own process so it can be pinned to its own core,
// away from the service and from the runner's scraping and reporting.
import type { ClientSample, FdLimits, LatencySummary, PhaseSpec, PhaseSummary, StepSpec } from '../types.js';

export type ToGenerator =
  | { type: 'run'; step: StepSpec }
  /** End the running step now (Ctrl-C); phases report what they measured. */
  | { type: 'stop' }
  /** Report the whole-run summary and exit. */
  | { type: 'finish' };

/** A client-side window as the generator measures it: ClientSample with an epoch time, before the runner adds `t` and `rps`. */
export interface RawSample extends Omit<ClientSample, 't' | 'rps'> {
  /** Epoch ms at the end of the window. */
  at: number;
}

export interface TotalSummary {
  measuredS: number;
  responses: number;
  bytes: number;
  latencyMs: LatencySummary;
  status: Record<string, number>;
  errors: Record<string, number>;
  failures: number;
  /** CPU seconds the generator process has used since it started. */
  cpuSeconds: number;
}

export type FromGenerator =
  | { type: 'ready'; node: string; pid: number; nofile: FdLimits | null; cpuSeconds: number }
  | { type: 'sample'; sample: RawSample }
  | { type: 'step-done'; step: string; phases: PhaseSummary[] }
  | { type: 'total'; total: TotalSummary }
  | { type: 'error'; message: string };

export type { PhaseSpec, StepSpec };
