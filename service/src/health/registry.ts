// A small health registry: components register a check with a timeout and a
// criticality; /healthz runs them all in parallel and reports each one.
//
// Only /healthz runs checks. /livez never does (a database outage must not
// restart pods) and /readyz follows the process lifecycle, not dependencies
// (an outage of a shared dependency would otherwise empty every pod at once).
export type ComponentStatus = 'up' | 'down';

export interface HealthCheck {
  name: string;
  /** A critical component being down turns /healthz into 503. */
  critical: boolean;
  /** The check fails if it has not settled within this many milliseconds. */
  timeoutMs: number;
  /** Resolve (any value) when healthy; throw or reject when not. */
  check: (signal: AbortSignal) => Promise<unknown> | unknown;
}

export interface ComponentReport {
  name: string;
  status: ComponentStatus;
  critical: boolean;
  latency_ms: number;
  /** Latest failure message, kept after recovery so flapping is visible. */
  last_error: string | null;
  last_error_at: string | null;
}

export interface HealthReport {
  status: 'pass' | 'warn' | 'fail';
  components: ComponentReport[];
}

class CheckTimeout extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

export class HealthRegistry {
  #checks = new Map<string, HealthCheck>();
  #lastError = new Map<string, { message: string; at: string }>();

  register(check: HealthCheck): void {
    if (this.#checks.has(check.name)) throw new Error(`health check "${check.name}" is already registered`);
    if (!(check.timeoutMs > 0)) throw new Error(`health check "${check.name}" needs a positive timeoutMs`);
    this.#checks.set(check.name, check);
  }

  get size(): number {
    return this.#checks.size;
  }

  async #run(c: HealthCheck): Promise<ComponentReport> {
    const started = performance.now();
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let error: string | null = null;
    try {
      await Promise.race([
        Promise.resolve().then(() => c.check(ac.signal)),
        new Promise((_, reject) => {
          timer = setTimeout(() => {
            ac.abort();
            reject(new CheckTimeout(c.timeoutMs));
          }, c.timeoutMs);
        }),
      ]);
    } catch (err) {
      error = err instanceof Error ? err.message || err.name : String(err);
    } finally {
      clearTimeout(timer);
    }
    const latency = Math.round((performance.now() - started) * 100) / 100;
    if (error !== null) this.#lastError.set(c.name, { message: error, at: new Date().toISOString() });
    const last = this.#lastError.get(c.name);
    return {
      name: c.name,
      status: error === null ? 'up' : 'down',
      critical: c.critical,
      latency_ms: latency,
      last_error: last?.message ?? null,
      last_error_at: last?.at ?? null,
    };
  }

  async report(): Promise<HealthReport> {
    const components = await Promise.all([...this.#checks.values()].map((c) => this.#run(c)));
    const criticalDown = components.some((c) => c.critical && c.status === 'down');
    const anyDown = components.some((c) => c.status === 'down');
    return { status: criticalDown ? 'fail' : anyDown ? 'warn' : 'pass', components };
  }
}
