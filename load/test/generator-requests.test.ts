// The generator's request arrangement (lib/generator/requests.ts), checked
// with real autocannon against a plain Node server: the hold parks, the
// release switches each client to prebuilt requests, and the order of a
// mixed request list survives the repetition.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientRequests, cycledRequests } from '../lib/generator/requests.js';

let server: Server;
let origin = '';
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const ms = /[?&]ms=(\d+)/.exec(req.url ?? '')?.[1];
    setTimeout(() => res.end('ok'), ms ? Number(ms) : 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** autocannon's per-client request iterator: internal, and exactly what the optimisation relies on. */
interface IteratorView {
  requestIterator: { requests: Array<{ setupRequest?: unknown }> };
}

describe('generator requests', () => {
  it('repeats a short list whole, keeping its order', () => {
    const a = { method: 'GET', path: '/a' };
    const b = { method: 'POST', path: '/b', body: '{}' };
    const one = cycledRequests([a]);
    expect(one).toHaveLength(16);
    expect(new Set(one)).toEqual(new Set([a]));
    const mixed = cycledRequests([a, b, a]);
    expect(mixed).toHaveLength(18);
    expect(mixed.slice(0, 6)).toEqual([a, b, a, a, b, a]);
    expect(cycledRequests([])).toEqual([]);
  });

  it('parks until the release, then sends prebuilt requests from every client', async () => {
    seen.length = 0;
    const hold = { untilS: 0.4, path: '/park?ms=' };
    const opts = clientRequests({ requests: [{ method: 'GET', path: '/real' }], hold, timeoutS: 5 }, Date.now());
    const clients: IteratorView[] = [];
    const { setupClient } = opts;
    expect(setupClient).toBeTypeOf('function');
    const result = await autocannon({
      url: origin,
      connections: 4,
      duration: 1.2,
      requests: opts.requests,
      setupClient: (client) => {
        setupClient?.(client);
        clients.push(client as unknown as IteratorView);
      },
    });
    expect(result.errors).toBe(0);
    // Each connection's first request parked for what was left of the hold.
    const parked = seen.filter((s) => s.startsWith('GET /park?ms='));
    expect(parked.length).toBeGreaterThanOrEqual(4);
    for (const p of parked) expect(Number(p.split('=')[1])).toBeLessThanOrEqual(400);
    expect(seen.filter((s) => s === 'GET /real').length).toBeGreaterThan(20);
    expect(seen.indexOf('GET /real')).toBeGreaterThanOrEqual(4);
    // After the release no client rebuilds a request per send any more.
    expect(clients).toHaveLength(4);
    for (const c of clients) {
      expect(c.requestIterator.requests.length).toBe(16);
      expect(c.requestIterator.requests.every((r) => typeof r.setupRequest !== 'function')).toBe(true);
    }
  });

  it('sends a phase without a hold as prebuilt requests, body and headers intact', async () => {
    seen.length = 0;
    const opts = clientRequests(
      {
        requests: [
          { method: 'GET', path: '/a' },
          { method: 'POST', path: '/b', body: '{"m":1}', headers: { 'content-type': 'application/json' } },
        ],
        timeoutS: 5,
      },
      Date.now(),
    );
    expect(opts.setupClient).toBeUndefined();
    const result = await autocannon({ url: origin, connections: 1, amount: 6, ...opts });
    expect(result.errors).toBe(0);
    // Only this test's paths: requests the previous test's clients had already
    // sent when autocannon returned can still reach the server now.
    expect(seen.filter((s) => !s.endsWith('/real'))).toEqual([
      'GET /a',
      'POST /b',
      'GET /a',
      'POST /b',
      'GET /a',
      'POST /b',
    ]);
  });
});
