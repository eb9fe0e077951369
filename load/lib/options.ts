// Run options: validation, defaults and the scenario's plan inputs. Bad input
// is a UsageError naming the option, the value and what is allowed.
import { UsageError } from './errors.js';
import type { RunOptions } from './run.js';
import type { Scenario, ScenarioOptions } from './scenario.js';
import type { RequestSpec } from './types.js';

export const MAX_DURATION_S = 24 * 3600;
export const MAX_CONNECTIONS = 100_000;

function positiveInt(name: string, v: number | undefined, max: number): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < 1 || v > max)
    throw new UsageError(`${name} must be an integer from 1 to ${max}, got ${v}`);
}

export function parseOrigin(name: string, url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`${name} must be a URL like http://127.0.0.1:3000, got "${url}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`${name} must be http(s), got "${url}"`);
  if (u.pathname !== '/' || u.search) {
    throw new UsageError(`${name} is an origin without a path ("${u.origin}"); use --route for the path`);
  }
  return u.origin;
}

export function resolveOptions(scenario: Scenario, o: RunOptions, origin: string): ScenarioOptions {
  positiveInt('connections', o.connections, MAX_CONNECTIONS);
  positiveInt('duration', o.durationS, MAX_DURATION_S);
  positiveInt('rate', o.rate, 10_000_000);
  positiveInt('timeout', o.timeoutS, 600);
  positiveInt('max-steps', o.maxSteps, 20);
  if (o.baselineConnections !== undefined && (!Number.isInteger(o.baselineConnections) || o.baselineConnections < 0)) {
    throw new UsageError(`baseline-connections must be an integer ≥ 0, got ${o.baselineConnections}`);
  }
  let requests: RequestSpec[] = scenario.defaults.requests;
  if (o.route !== undefined || o.method !== undefined || o.body !== undefined) {
    const path = o.route ?? scenario.defaults.requests[0]?.path ?? '/';
    if (!path.startsWith('/')) throw new UsageError(`route must start with "/", got "${path}"`);
    const method = (o.method ?? (o.body !== undefined ? 'POST' : 'GET')).toUpperCase();
    if (!/^[A-Z]+$/.test(method)) throw new UsageError(`method must be an HTTP method, got "${o.method}"`);
    const headers = { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers };
    requests = [
      {
        method,
        path,
        ...(Object.keys(headers).length ? { headers } : {}),
        ...(o.body !== undefined ? { body: o.body } : {}),
      },
    ];
  }
  return {
    origin,
    requests,
    connections: o.connections ?? scenario.defaults.connections,
    durationS: o.durationS ?? scenario.defaults.durationS,
    rate: o.rate ?? scenario.defaults.rate ?? null,
    timeoutS: o.timeoutS ?? 10,
    baselineConnections: o.baselineConnections ?? 1000,
    maxSteps: o.maxSteps ?? 10,
  };
}

/** Most connections any step of the plan opens at once (for the fd and port checks), without running it. */
export function peakConnections(scenario: Scenario, opts: ScenarioOptions): number {
  if (scenario.peakConnections) return scenario.peakConnections(opts);
  let peak = 0;
  const plan = scenario.plan(opts);
  // Non-adaptive plans ignore what they are sent back; feed them nothing.
  for (let step = plan.next(); !step.done; step = plan.next([])) {
    peak = Math.max(
      peak,
      step.value.phases.reduce((n, p) => n + p.connections, 0),
    );
  }
  return peak;
}
