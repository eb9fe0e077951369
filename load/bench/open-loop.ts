// An open-loop HTTP load generator: requests are sent on a schedule, whether
// or not earlier ones have come back, and each latency is measured from the
// moment the request was *due* — so a server that stalls is charged for the
// wait of every request queued behind the stall (no coordinated omission).
// Closed-loop tools (autocannon, wrk) slow down with the server and cannot
// overload it on purpose; the reliability scenario needs exactly that.
import { Pool } from 'undici';

export interface Outcome {
  status: number | undefined;
  /** From the scheduled send time to the end of the response, ms. */
  latencyMs: number;
  error?: string;
  /** Set by the caller's `pick` (which endpoint served it). */
  endpoint?: string;
  retried?: boolean;
}

export interface Target {
  origin: string;
  path: string;
  method?: 'GET' | 'POST';
  body?: string;
}

export interface OpenLoopOptions {
  /** Requests per second. */
  rate: number;
  durationMs: number;
  /** Where each request goes (called per request, so a balancer can change its mind). */
  pick: () => Target | undefined;
  /** Retry once on 503 or a connection error, with a fresh `pick()`. */
  retry?: boolean;
  connectionsPerOrigin?: number;
  /** Give up on a request after this long (counts as an error). */
  timeoutMs?: number;
}

const pools = new Map<string, Pool>();
function pool(origin: string, connections: number): Pool {
  let p = pools.get(origin);
  if (!p) {
    // keepAliveTimeout below the server's, so an idle socket is never reused as the server closes it.
    p = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 4_000 });
    pools.set(origin, p);
  }
  return p;
}

export async function closePools(): Promise<void> {
  await Promise.all([...pools.values()].map((p) => p.close()));
  pools.clear();
}

async function once(t: Target, connections: number, timeoutMs: number): Promise<{ status?: number; error?: string }> {
  try {
    const res = await pool(t.origin, connections).request({
      path: t.path,
      method: t.method ?? 'GET',
      body: t.body,
      headers: t.body ? { 'content-type': 'application/json' } : {},
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
    return { status: res.statusCode };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? (err as Error).name };
  }
}

export async function openLoop(o: OpenLoopOptions): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const pending: Array<Promise<void>> = [];
  const connections = o.connectionsPerOrigin ?? 256;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const start = performance.now();
  const total = Math.round((o.rate * o.durationMs) / 1000);
  const fire = async (due: number) => {
    let target = o.pick();
    if (!target) {
      outcomes.push({ status: undefined, latencyMs: 0, error: 'NO_ENDPOINT' });
      return;
    }
    let r = await once(target, connections, timeoutMs);
    let retried = false;
    if (o.retry && (r.status === 503 || r.error)) {
      const second = o.pick();
      if (second) {
        target = second;
        r = await once(second, connections, timeoutMs);
        retried = true;
      }
    }
    outcomes.push({
      status: r.status,
      error: r.error,
      latencyMs: performance.now() - due,
      endpoint: target.origin,
      retried,
    });
  };
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(fire(due));
  }
  await Promise.all(pending);
  return outcomes;
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}
