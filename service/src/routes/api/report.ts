// GET /api/report?rows=2000 — builds a small analytics report on the event
// loop: generate rows, group, sort, take percentiles. A few milliseconds of
// JavaScript per request: the kind of work that is fine on the loop when it
// is small and bounded (rows ≤ 20,000), and that moves to the worker pool
// (POST /api/work) when it is not. It is also the route the reliability
// scenario overloads and the flamegraph examples profile.
import type { FastifyPluginAsync } from 'fastify';

export const MAX_ROWS = 20_000;

interface Row {
  region: string;
  product: number;
  amount: number;
}

const REGIONS = ['eu-west', 'eu-north', 'us-east', 'us-west', 'ap-south', 'ap-east'];

/** Deterministic pseudo-random rows (mulberry32), so every call does the same work. */
export function generateRows(n: number, seed = 42): Row[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: n }, () => ({
    region: REGIONS[Math.floor(rnd() * REGIONS.length)] as string,
    product: Math.floor(rnd() * 500),
    amount: Math.round(rnd() * 100_000) / 100,
  }));
}

export function buildReport(rows: Row[]) {
  const byRegion = new Map<string, number[]>();
  for (const r of rows) {
    const list = byRegion.get(r.region);
    if (list) list.push(r.amount);
    else byRegion.set(r.region, [r.amount]);
  }
  const quantile = (sorted: number[], q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return [...byRegion]
    .map(([region, amounts]) => {
      const sorted = amounts.sort((x, y) => x - y);
      const total = sorted.reduce((s, v) => s + v, 0);
      return {
        region,
        orders: sorted.length,
        revenue: Math.round(total * 100) / 100,
        p50: quantile(sorted, 0.5),
        p95: quantile(sorted, 0.95),
      };
    })
    .sort((x, y) => y.revenue - x.revenue);
}

const reportRoute: FastifyPluginAsync = async (app) => {
  app.get<{ Querystring: { rows: number } }>(
    '/api/report',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { rows: { type: 'integer', minimum: 1, maximum: MAX_ROWS, default: 2000 } },
          additionalProperties: false,
        },
      },
    },
    async (request) => ({ rows: request.query.rows, regions: buildReport(generateRows(request.query.rows)) }),
  );
};

export default reportRoute;
