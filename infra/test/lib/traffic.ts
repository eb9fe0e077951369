/**
 * Mixed, bounded traffic against a running service, for tests that need its
 * metrics to carry every kind of outcome: successes, client errors (404
 * unmatched route, 400 validation, 401 auth, 429 when the service's rate
 * limit is set low), slow requests (over the 1 s latency SLO threshold),
 * worker-pool work, and server errors where a route can produce them.
 *
 * Loopback only; stops by itself at the deadline.
 */

export interface TrafficOptions {
  /** Base URL of the app port, e.g. http://127.0.0.1:3000 */
  url: string;
  durationMs: number;
  /** Parallel request loops (default 2). */
  lanes?: number;
  /** A bearer token the service accepts (AUTH_TOKENS), for 200s on /api/private. */
  token?: string;
  /** Slow requests per round (each /api/sleep?ms=slowMs); default 2 of ~8 per round. */
  slowPerRound?: number;
  slowMs?: number;
  /** Extra paths to GET each round (e.g. a route that answers 5xx). */
  extraPaths?: readonly string[];
}

export interface TrafficReport {
  /** Responses by status code. */
  statuses: Record<number, number>;
  requests: number;
  /** Requests that failed below HTTP (connection refused, reset). */
  transportErrors: number;
}

export async function driveTraffic(o: TrafficOptions): Promise<TrafficReport> {
  const report: TrafficReport = { statuses: {}, requests: 0, transportErrors: 0 };
  const deadline = Date.now() + o.durationMs;
  const json = { 'content-type': 'application/json' };

  const send = async (path: string, init: RequestInit = {}) => {
    report.requests++;
    try {
      const res = await fetch(o.url + path, { ...init, signal: AbortSignal.timeout(15_000) });
      await res.arrayBuffer();
      report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
    } catch {
      report.transportErrors++;
    }
  };

  const round = () =>
    Promise.all([
      ...Array.from({ length: o.slowPerRound ?? 2 }, () => send(`/api/sleep?ms=${o.slowMs ?? 1100}`)),
      (async () => {
        await send('/');
        await send('/api/sleep?ms=20');
        await send('/definitely/not/a/route'); // 404, http_route="unmatched"
        await send('/api/echo', { method: 'POST', headers: json, body: JSON.stringify({ message: 'hi', repeat: 2 }) });
        await send('/api/echo', { method: 'POST', headers: json, body: JSON.stringify({ message: 1 }) }); // 400
        await send('/api/sleep?ms=999999'); // 400: above the route's maximum
        await send('/api/private'); // 401
        if (o.token) await send('/api/private', { headers: { authorization: `Bearer ${o.token}` } });
        // CPU work on the worker pool (small: a few rounds).
        await send('/api/work', {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ text: 'periscope', rounds: 3 }),
        });
        for (const p of o.extraPaths ?? []) await send(p);
      })(),
    ]);

  const lane = async () => {
    while (Date.now() < deadline) await round();
  };
  await Promise.all(Array.from({ length: o.lanes ?? 2 }, lane));
  return report;
}
