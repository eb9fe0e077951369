// Load shedding, rate limiting, deadlines, client aborts and the worker pool.
import { request as httpRequest } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRuntimeConfig, RuntimeConfigStore } from '../src/config/runtime-config.js';
import { requestSignal } from '../src/http/request-signal.js';
import { type Built, build } from './helpers/build.js';
import { waitFor } from './helpers/service-process.js';

let built: Built | undefined;
afterEach(async () => {
  await built?.close();
  built = undefined;
});

const store = (json: object) => new RuntimeConfigStore(parseRuntimeConfig(JSON.stringify(json), 'test'), 'test');

async function counter(b: Built, name: string, labels: Record<string, string>) {
  const m = b.ctx.telemetry.metrics.registry.getSingleMetric(name) as unknown as {
    get(): Promise<{ values: Array<{ labels: Record<string, string>; value: number }> }>;
  };
  return (await m.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

describe('load shedding', () => {
  it('answers app requests 503 + Retry-After while the event loop is saturated; probes still answer', async () => {
    built = await build({ runtimeConfig: store({ shedding: { maxEventLoopUtilization: 0.5, retryAfterSeconds: 3 } }) });
    const b = built;
    // Saturate the loop for a little over one sampling interval.
    const until = Date.now() + 1_300;
    while (Date.now() < until) {
      const spin = Date.now() + 50;
      while (Date.now() < spin) {}
      await new Promise((r) => setImmediate(r));
    }
    expect(b.app.pressure()).toBe('event_loop_utilization');
    const shed = await b.app.inject({ url: '/' });
    expect(shed.statusCode).toBe(503);
    expect(shed.headers['retry-after']).toBe('3');
    expect(shed.json()).toMatchObject({
      code: 'OVERLOADED',
      message: expect.stringContaining('event loop utilization'),
    });
    for (const path of ['/livez', '/readyz', '/metrics'])
      expect((await b.admin.inject({ url: path })).statusCode).toBe(200);
    expect(await counter(b, 'http_server_shed_requests_total', { reason: 'event_loop_utilization' })).toBe(1);
    // Recovery: once a whole sampling interval passes idle, traffic flows again.
    await waitFor(() => b.app.pressure() === undefined, 5_000);
    expect((await b.app.inject({ url: '/' })).statusCode).toBe(200);
  });

  it('follows hot-reloaded thresholds', async () => {
    const rc = store({});
    built = await build({ runtimeConfig: rc });
    expect(built.app.pressure()).toBeUndefined();
    rc.replace(parseRuntimeConfig('{"shedding":{"maxHeapUsedRatio":0.0001}}', 'x'), 'x');
    const b = built;
    await waitFor(() => b.app.pressure() === 'heap', 5_000);
  });
});

describe('rate limiting', () => {
  it('limits per client on opted-in routes with 429 and the RateLimit headers, and follows reloads', async () => {
    const rc = store({ rateLimit: { max: 2, timeWindowMs: 60_000 } });
    built = await build({ runtimeConfig: rc });
    const echo = () =>
      built?.app.inject({ method: 'POST', url: '/api/echo', payload: { message: 'x' }, remoteAddress: '10.0.0.1' });
    expect((await echo())?.statusCode).toBe(200);
    const second = await echo();
    expect(second?.headers['ratelimit-limit']).toBe('2');
    expect(second?.headers['ratelimit-remaining']).toBe('0');
    const limited = await echo();
    expect(limited?.statusCode).toBe(429);
    expect(limited?.headers['retry-after']).toBeDefined();
    expect(limited?.json()).toMatchObject({ code: 'RATE_LIMITED', request_id: limited?.headers['x-request-id'] });
    expect(await counter(built, 'http_server_rate_limited_requests_total', { http_route: '/api/echo' })).toBe(1);
    // another client is unaffected; unlimited routes are unaffected
    const other = await built.app.inject({
      method: 'POST',
      url: '/api/echo',
      payload: { message: 'x' },
      remoteAddress: '10.0.0.2',
    });
    expect(other.statusCode).toBe(200);
    expect(
      (await built.app.inject({ url: '/', remoteAddress: '10.0.0.1' })).headers['ratelimit-limit'],
    ).toBeUndefined();
    // raise the limit in the config file: takes effect without a restart
    rc.replace(parseRuntimeConfig('{"rateLimit":{"max":10,"timeWindowMs":60000}}', 'y'), 'y');
    expect((await echo())?.statusCode).toBe(200);
  });
});

describe('deadlines', () => {
  it('answers 504 with the deadline when a route overruns, and aborts the handler signal', async () => {
    built = await build({}, false);
    let aborted = false;
    let reason: unknown;
    built.app.get('/slow', { handlerTimeout: 100 }, async (_request, reply) => {
      const signal = requestSignal(reply);
      signal.addEventListener('abort', () => {
        aborted = true;
        reason = signal.reason;
      });
      await new Promise((r) => setTimeout(r, 400));
      return { late: true };
    });
    const res = await built.app.inject({ url: '/slow' });
    expect(res.statusCode).toBe(504);
    expect(res.json()).toMatchObject({ code: 'DEADLINE_EXCEEDED', message: 'deadline of 100 ms exceeded on /slow' });
    expect(aborted).toBe(true);
    // The 504 was sent: the reason says so (not "client gone").
    expect(reason).toMatchObject({ name: 'AbortError', clientGone: false, message: 'response already sent' });
    expect(await counter(built, 'http_server_deadline_exceeded_total', { http_route: '/slow' })).toBe(1);
  });
});

describe('client disconnects abort the work', () => {
  it('takes a queued worker task out of the queue when its client hangs up', async () => {
    built = await build({ env: { WORKER_THREADS: '1', WORKER_QUEUE_MAX: '8' } });
    const b = built;
    await b.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = b.app.server.address() as { port: number };
    const heavy = { text: 'lorem ipsum dolor '.repeat(3600), rounds: 500 };
    // Keep the only thread busy, so the next task waits in the queue.
    const busy = [1, 2, 3].map(() => b.app.inject({ method: 'POST', url: '/api/work', payload: heavy }));
    await new Promise<void>((resolve) => {
      const req = httpRequest({
        port,
        host: '127.0.0.1',
        method: 'POST',
        path: '/api/work',
        headers: { 'content-type': 'application/json' },
      });
      req.on('error', () => {});
      req.on('close', () => resolve());
      req.end(JSON.stringify(heavy));
      // Hang up once the task waits in the queue behind the busy ones.
      waitFor(async () => (await counter(b, 'worker_pool_queue_size', { pool: 'transform' })) === 3, 10_000).then(
        () => req.destroy(),
        () => req.destroy(),
      );
    });
    expect((await Promise.all(busy)).map((r) => r.statusCode)).toEqual([200, 200, 200]);
    await waitFor(
      async () => (await counter(b, 'worker_pool_tasks_total', { pool: 'transform', result: 'aborted' })) === 1,
    );
    expect(await counter(b, 'worker_pool_tasks_total', { pool: 'transform', result: 'completed' })).toBe(3);
  });
});

describe('worker pool', () => {
  it('runs CPU work off the event loop and refuses work beyond its queue with 503 + Retry-After', async () => {
    built = await build({ env: { WORKER_THREADS: '1', WORKER_QUEUE_MAX: '1' } });
    const b = built;
    const ok = await b.app.inject({ method: 'POST', url: '/api/work', payload: { text: 'a b b c c c', rounds: 1 } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().top_words[0]).toEqual(['c', 3]);

    const heavy = { text: 'lorem ipsum dolor '.repeat(3000), rounds: 400 };
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const inflight = [1, 2, 3].map(() => b.app.inject({ method: 'POST', url: '/api/work', payload: heavy }));
    // while the only thread and the queue are full, the loop still answers at once
    const started = performance.now();
    const live = await b.admin.inject({ url: '/livez' });
    const liveMs = performance.now() - started;
    const statuses = (await Promise.all(inflight)).map((r) => r.statusCode).sort();
    delay.disable();
    expect(live.statusCode).toBe(200);
    expect(liveMs).toBeLessThan(1_000);
    expect(statuses).toEqual([200, 200, 503]);
    expect(await counter(b, 'worker_pool_tasks_total', { pool: 'transform', result: 'rejected' })).toBe(1);
    const metrics = (await b.admin.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^worker_pool_utilization_ratio\{pool="transform"\} [0-9.e-]+$/m);
    expect(metrics).toMatch(/^worker_pool_queue_size\{pool="transform"\} 0$/m);
  });

  it('completes work over a real socket (a read request body is not an abort)', async () => {
    built = await build();
    await built.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = built.app.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/api/work`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'alpha beta beta', rounds: 20 }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).top_words[0]).toEqual(['beta', 2]);
  });

  it('rejects oversized work by schema', async () => {
    built = await build();
    const res = await built.app.inject({ method: 'POST', url: '/api/work', payload: { text: 'x', rounds: 501 } });
    expect(res.statusCode).toBe(400);
  });
});
