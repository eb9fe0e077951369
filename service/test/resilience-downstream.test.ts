// The downstream client and its circuit breaker, against a real upstream.
import { afterEach, describe, expect, it } from 'vitest';
import { HealthRegistry } from '../src/health/registry.js';
import { Downstream, type DownstreamOptions } from '../src/resilience/downstream.js';
import { createMetrics } from '../src/telemetry/metrics/registry.js';
import { type Built, build } from './helpers/build.js';
import { memoryLogger } from './helpers/memory-logger.js';
import { startUpstream, type Upstream } from './helpers/upstream.js';

let upstream: Upstream | undefined;
let built: Built | undefined;
let client: Downstream | undefined;
const metrics = createMetrics();
afterEach(async () => {
  await client?.close();
  await built?.close();
  await upstream?.kill().catch(() => {});
  client = built = upstream = undefined;
});

async function gaugeValue(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = metrics.registry.getSingleMetric(name) as unknown as {
    get(): Promise<{ values: Array<{ labels: Record<string, string>; value: number }> }>;
  };
  const { values } = await m.get();
  return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

describe('Downstream (breaker dynamics)', () => {
  async function make(url: string, extra: Partial<DownstreamOptions> = {}) {
    const mem = memoryLogger();
    const health = new HealthRegistry();
    client = await Downstream.create({
      url,
      name: `test-${Math.random().toString(36).slice(2, 7)}`,
      logger: mem.logger,
      breakerState: metrics.resilience.breakerState,
      breakerCalls: metrics.resilience.breakerCalls,
      health,
      callTimeoutMs: 200,
      volumeThreshold: 3,
      resetTimeoutMs: 300,
      ...extra,
    });
    return { client, lines: mem.lines, health };
  }

  it('passes healthy answers through and keeps the last good one', async () => {
    upstream = await startUpstream();
    const { client: c } = await make(upstream.url);
    const r = await c.get();
    expect(r).toMatchObject({ status: 200, source: 'upstream', body: { items: [1, 2, 3] } });
    expect(c.state).toBe('closed');
  });

  it('opens on a failing upstream, serves the stale last good answer, then recovers through half-open', async () => {
    upstream = await startUpstream();
    const { client: c, lines, health } = await make(upstream.url);
    await c.get();
    upstream.mode = 'fail';
    // volumeThreshold 3 and 50%: 1 good + 2 failed calls open it.
    for (let i = 0; i < 2; i++) await expect(c.get()).rejects.toMatchObject({ statusCode: 502 });
    expect(c.state).toBe('open');
    expect(await gaugeValue('circuit_breaker_state', { breaker: c.name })).toBe(2);
    expect((await health.report()).components[0]).toMatchObject({ status: 'down' });

    const hitsWhileOpen = upstream.hits;
    const stale = await c.get();
    expect(stale.source).toBe('stale');
    expect(stale.body).toMatchObject({ items: [1, 2, 3] });
    expect(upstream.hits).toBe(hitsWhileOpen); // failing fast: the upstream is left alone

    upstream.mode = 'ok';
    await new Promise((r) => setTimeout(r, 350)); // resetTimeout → half-open
    const trial = await c.get();
    expect(trial.source).toBe('upstream');
    expect(c.state).toBe('closed');
    expect(await gaugeValue('circuit_breaker_state', { breaker: c.name })).toBe(0);
    const transitions = lines.filter((l) => l.breaker === c.name).map((l) => l.state);
    expect(transitions).toEqual(['open', 'halfOpen', 'closed']);
    expect(await gaugeValue('circuit_breaker_calls_total', { breaker: c.name, result: 'fallback' })).toBe(1);
  });

  it('answers 503 with Retry-After when open with nothing stale to serve (dead upstream)', async () => {
    upstream = await startUpstream();
    const url = upstream.url;
    await upstream.kill();
    upstream = undefined;
    const { client: c } = await make(url);
    for (let i = 0; i < 3; i++) {
      await expect(c.get()).rejects.toMatchObject({ statusCode: 502, message: expect.stringContaining('unreachable') });
    }
    await expect(c.get()).rejects.toMatchObject({ statusCode: 503, code: 'CIRCUIT_OPEN', retryAfterSeconds: 1 });
  });

  it('times a slow upstream out per call (504), counted as a timeout', async () => {
    upstream = await startUpstream();
    upstream.mode = 'slow';
    upstream.delayMs = 2_000;
    const { client: c } = await make(upstream.url);
    const started = Date.now();
    await expect(c.get()).rejects.toMatchObject({ statusCode: 504, code: 'UPSTREAM_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(await gaugeValue('circuit_breaker_calls_total', { breaker: c.name, result: 'timeout' })).toBe(1);
  });

  it('does not blame the upstream when our caller aborts', async () => {
    upstream = await startUpstream();
    upstream.mode = 'slow';
    upstream.delayMs = 1_000;
    const { client: c } = await make(upstream.url, { callTimeoutMs: 5_000 });
    for (let i = 0; i < 4; i++) {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 20);
      await expect(c.get(ac.signal)).rejects.toBeTruthy();
    }
    expect(c.state).toBe('closed');
    expect(await gaugeValue('circuit_breaker_calls_total', { breaker: c.name, result: 'failure' })).toBe(0);
  });
});

describe('GET /api/downstream (through the app)', () => {
  it('returns the upstream answer', async () => {
    upstream = await startUpstream();
    built = await build({ env: { DOWNSTREAM_URL: upstream.url } });
    const res = await built.app.inject({ url: '/api/downstream' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ upstream_status: 200, source: 'upstream', body: { items: [1, 2, 3] } });
    expect(res.headers['x-downstream-source']).toBe('upstream');
  });

  it('maps a dead upstream to 502, then the open breaker to a stale answer', async () => {
    upstream = await startUpstream();
    built = await build({ env: { DOWNSTREAM_URL: upstream.url } });
    expect((await built.app.inject({ url: '/api/downstream' })).statusCode).toBe(200);
    await upstream.kill();
    upstream = undefined;
    // Default breaker: 5 calls in the window, ≥ 50% failed → open. 1 good + 4 failed.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await built.app.inject({ url: '/api/downstream' })).statusCode);
    expect(statuses).toEqual([502, 502, 502, 502]);
    const last = await built.app.inject({ url: '/api/downstream' });
    expect(last.statusCode).toBe(200);
    expect(last.headers['x-downstream-source']).toBe('stale');
    expect(last.headers.warning).toContain('stale');
    const health = await built.admin.inject({ url: '/healthz' });
    expect(health.statusCode).toBe(200); // non-critical: reported, not fatal
    expect(health.json().components).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'downstream:downstream', status: 'down' })]),
    );
  });

  it('is a clear 503 when DOWNSTREAM_URL is not configured', async () => {
    built = await build();
    const res = await built.app.inject({ url: '/api/downstream' });
    expect(res.statusCode).toBe(503);
    expect(res.json().message).toBe('DOWNSTREAM_URL is not configured');
  });
});
