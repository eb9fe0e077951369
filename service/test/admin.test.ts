import { afterEach, describe, expect, it } from 'vitest';
import { type Built, build } from './helpers/build.js';

interface HealthBody {
  status: string;
  components: Array<{ name: string; status: string; critical: boolean; latency_ms: number; last_error: string | null }>;
}

let built: Built | undefined;
afterEach(async () => {
  await built?.close();
  built = undefined;
});

async function listening(ready = true) {
  const b = await build({}, ready);
  built = b;
  await b.app.listen({ port: 0, host: '127.0.0.1' });
  await b.admin.listen({ port: 0, host: '127.0.0.1' });
  const port = (s: typeof b.app) => (s.server.address() as { port: number }).port;
  return { app: `http://127.0.0.1:${port(b.app)}`, admin: `http://127.0.0.1:${port(b.admin)}`, b };
}

describe('ports serve only their own routes (real sockets)', () => {
  it('keeps probes and metrics off the app port and app routes off the admin port', async () => {
    const { app, admin } = await listening();
    for (const path of ['/livez', '/readyz', '/healthz', '/metrics']) {
      expect((await fetch(`${app}${path}`)).status, `app ${path}`).toBe(404);
      expect((await fetch(`${admin}${path}`)).status, `admin ${path}`).toBe(200);
    }
    for (const path of ['/', '/api/sleep?ms=1']) {
      expect((await fetch(`${admin}${path}`)).status, `admin ${path}`).toBe(404);
      expect((await fetch(`${app}${path}`)).status, `app ${path}`).toBe(200);
    }
  });
});

describe('/readyz follows the lifecycle', () => {
  it('is 503 while starting, 200 when ready, 503 from the first moment of drain', async () => {
    const { admin, b } = await listening(false);
    let res = await fetch(`${admin}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'starting' });
    b.ctx.lifecycle.markReady();
    expect((await fetch(`${admin}/readyz`)).status).toBe(200);
    b.ctx.lifecycle.beginDrain();
    res = await fetch(`${admin}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'draining' });
    // liveness does not care
    expect((await fetch(`${admin}/livez`)).status).toBe(200);
  });

  it('marks every response Connection: close once draining begins', async () => {
    const { app, b } = await listening();
    const before = await fetch(`${app}/`);
    expect(before.headers.get('connection')).toBe('keep-alive');
    b.ctx.lifecycle.beginDrain();
    const during = await fetch(`${app}/`);
    expect(during.status).toBe(200);
    expect(during.headers.get('connection')).toBe('close');
  });
});

describe('/healthz', () => {
  it('passes with healthy components and reports each one', async () => {
    const { admin, b } = await listening();
    b.ctx.health.register({ name: 'cache', critical: false, timeoutMs: 500, check: async () => true });
    const res = await fetch(`${admin}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as HealthBody;
    expect(body.status).toBe('pass');
    expect(body.components.at(0)).toMatchObject({ name: 'cache', status: 'up', critical: false, last_error: null });
    expect(typeof body.components.at(0)?.latency_ms).toBe('number');
  });

  it('is 200 "warn" when only a non-critical component is down', async () => {
    const { admin, b } = await listening();
    b.ctx.health.register({
      name: 'cache',
      critical: false,
      timeoutMs: 500,
      check: () => Promise.reject(new Error('ECONNREFUSED')),
    });
    b.ctx.health.register({ name: 'db', critical: true, timeoutMs: 500, check: () => 'ok' });
    const res = await fetch(`${admin}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as HealthBody;
    expect(body.status).toBe('warn');
    const cache = body.components.find((c) => c.name === 'cache');
    expect(cache).toMatchObject({ status: 'down', last_error: 'ECONNREFUSED' });
  });

  it('is 503 "fail" when a critical component is down or times out, and keeps the last error after recovery', async () => {
    const { admin, b } = await listening();
    let dbUp = false;
    b.ctx.health.register({
      name: 'db',
      critical: true,
      timeoutMs: 100,
      check: () => (dbUp ? true : new Promise(() => {})), // hangs: the registry's timeout must fire
    });
    let res = await fetch(`${admin}/healthz`);
    expect(res.status).toBe(503);
    let body = (await res.json()) as HealthBody;
    expect(body.status).toBe('fail');
    expect(body.components.at(0)).toMatchObject({ name: 'db', status: 'down', last_error: 'timed out after 100 ms' });
    expect(body.components.at(0)?.latency_ms).toBeGreaterThanOrEqual(95);
    // readiness does not follow a dependency
    expect((await fetch(`${admin}/readyz`)).status).toBe(200);
    expect((await fetch(`${admin}/livez`)).status).toBe(200);

    dbUp = true;
    res = await fetch(`${admin}/healthz`);
    body = (await res.json()) as HealthBody;
    expect(res.status).toBe(200);
    expect(body.components.at(0)).toMatchObject({ status: 'up', last_error: 'timed out after 100 ms' });
  });
});
