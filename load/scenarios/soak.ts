// soak: a moderate mixed load held for a while, to catch what only time
// shows — memory that grows, latency that creeps. Short by default (60 s) so
// it fits in a coffee break; `--duration 3600` for the real thing. Each
// connection cycles through the three example routes.
import { phase, type Scenario, STEP_SLACK_S } from '../lib/scenario.js';
import type { SoakAnalysis } from '../lib/types.js';

const WARMUP_S = 5;
/** Slopes below this are noise from the garbage collector's sawtooth, not growth. */
const FLAT_MB_PER_MIN = 1;

/** Least-squares slope of y over x; null with fewer than 3 points. */
export function slope(points: Array<[number, number]>): number | null {
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

export const soak: Scenario = {
  name: 'soak',
  description:
    'A moderate mixed load (50 connections cycling GET /, POST /api/echo, GET /api/sleep?ms=5) held for 60 s (--duration for longer): memory and latency drift.',
  defaults: {
    requests: [
      { method: 'GET', path: '/' },
      {
        method: 'POST',
        path: '/api/echo',
        headers: { 'content-type': 'application/json' },
        body: '{"message":"soak","repeat":3}',
      },
      { method: 'GET', path: '/api/sleep?ms=5' },
    ],
    connections: 50,
    durationS: 60,
  },
  serviceConfig: {
    config: { rateLimit: { max: 1_000_000, timeWindowMs: 60_000 } },
    why: 'the per-client rate limit is raised for soak: from one address, POST /api/echo would otherwise be answered 429 after 100 requests a minute',
  },
  *plan(o) {
    yield {
      name: 'soak',
      phases: [
        phase(o, { name: 'soak', connections: o.connections, durationS: o.durationS + WARMUP_S, warmupS: WARMUP_S }),
      ],
    };
  },
  maxDurationS: (o) => o.durationS + WARMUP_S + STEP_SLACK_S,
  analyze({ server }) {
    const measured = server.filter((s) => s.t >= WARMUP_S);
    const mb = (b: number) => b / 1024 / 1024;
    const series = (get: (s: (typeof measured)[number]) => number | null) =>
      measured.flatMap((s): Array<[number, number]> => {
        const v = get(s);
        return v === null ? [] : [[s.t / 60, mb(v)]];
      });
    const heap = slope(series((s) => s.heapUsedBytes));
    const rssPoints = series((s) => s.rssBytes);
    const rss = slope(rssPoints);
    const r2 = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
    const grows = heap !== null && heap > FLAT_MB_PER_MIN;
    const analysis: SoakAnalysis = {
      kind: 'soak',
      heapSlopeMbPerMin: r2(heap),
      rssSlopeMbPerMin: r2(rss),
      rssStartMb: r2(rssPoints[0]?.[1] ?? null),
      rssEndMb: r2(rssPoints.at(-1)?.[1] ?? null),
      verdict:
        heap === null
          ? 'no heap series (is --admin set?)'
          : grows
            ? `heap grows ${heap.toFixed(2)} MB/min under constant load: run longer (--duration 1800) and take heap profiles if it keeps growing`
            : `heap flat (${heap.toFixed(2)} MB/min, threshold ${FLAT_MB_PER_MIN}); RSS ${r2(rssPoints[0]?.[1] ?? null)} → ${r2(rssPoints.at(-1)?.[1] ?? null)} MB`,
    };
    return analysis;
  },
};
