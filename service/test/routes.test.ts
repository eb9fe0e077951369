import { afterEach, describe, expect, it } from 'vitest';
import { type Built, build } from './helpers/build.js';
import { memoryLogger } from './helpers/memory-logger.js';

let built: Built | undefined;
afterEach(async () => {
  await built?.close();
  built = undefined;
});

async function app(env: Record<string, string> = {}) {
  const mem = memoryLogger();
  built = await build({ env: { AUTH_TOKENS: 'token-one,token-two', ...env }, logger: mem.logger });
  return { app: built.app, lines: mem.lines };
}

describe('GET /', () => {
  it('answers hello JSON with a generated request id', async () => {
    const { app: a } = await app();
    const res = await a.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ hello: 'world' });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('request id', () => {
  it('echoes a safe incoming x-request-id and puts it in every log line of the request', async () => {
    const { app: a, lines } = await app({ ACCESS_LOG: 'all' });
    const res = await a.inject({
      url: '/api/echo',
      method: 'POST',
      headers: { 'x-request-id': 'abc-123.X' },
      payload: {},
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['x-request-id']).toBe('abc-123.X');
    expect(res.json().request_id).toBe('abc-123.X');
    const mine = lines.filter((l) => l.req_id === 'abc-123.X');
    expect(mine.map((l) => l.msg)).toEqual(['request rejected', 'request completed']);
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['unsafe characters', 'abc<script>'],
    ['spaces', 'a b'],
  ])('replaces an id that is %s', async (_why, id) => {
    const { app: a } = await app();
    const res = await a.inject({ url: '/', headers: { 'x-request-id': id } });
    expect(res.headers['x-request-id']).not.toBe(id);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('GET /api/sleep', () => {
  it('waits the requested time', async () => {
    const { app: a } = await app();
    const started = performance.now();
    const res = await a.inject({ url: '/api/sleep?ms=50' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ slept_ms: 50 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('defaults to 10 ms', async () => {
    const { app: a } = await app();
    expect((await a.inject({ url: '/api/sleep' })).json()).toEqual({ slept_ms: 10 });
  });

  it.each([
    ['-1', '>= 0'],
    ['10001', '<= 10000'],
    ['abc', 'integer'],
  ])('rejects ms=%s with a 400 naming the parameter', async (ms, expected) => {
    const { app: a } = await app();
    const res = await a.inject({ url: `/api/sleep?ms=${ms}` });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('ms');
    expect(res.json().message).toContain(expected);
  });
});

describe('GET /api/report', () => {
  it('aggregates the generated rows per region', async () => {
    const { app: a } = await app();
    const res = await a.inject({ url: '/api/report?rows=600' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as {
      rows: number;
      regions: Array<{ orders: number; revenue: number; p50: number; p95: number }>;
    };
    expect(body.rows).toBe(600);
    expect(body.regions.reduce((n, r) => n + r.orders, 0)).toBe(600);
    for (const r of body.regions) expect(r.p95).toBeGreaterThanOrEqual(r.p50);
    const revenues = body.regions.map((r) => r.revenue);
    expect(revenues).toEqual([...revenues].sort((x, y) => y - x));
  });

  it('bounds the work: rows above 20,000 are a 400', async () => {
    const { app: a } = await app();
    expect((await a.inject({ url: '/api/report?rows=20001' })).statusCode).toBe(400);
  });
});

describe('POST /api/echo', () => {
  it('echoes a valid body', async () => {
    const { app: a } = await app();
    const res = await a.inject({
      method: 'POST',
      url: '/api/echo',
      payload: { message: 'hi', repeat: 2, tags: ['x'] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ echo: 'hi hi', tags: ['x'] });
  });

  it.each([
    [{}, "must have required property 'message'"],
    [{ message: 'hi', repeat: 11 }, 'repeat'],
    [{ message: 'hi', extra: true }, 'must NOT have additional properties'],
    [{ message: '' }, 'message'],
    [{ message: 1 }, 'message must be string'],
  ])('rejects %o with a 400 naming the field', async (payload, expected) => {
    const { app: a } = await app();
    const res = await a.inject({ method: 'POST', url: '/api/echo', payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain(expected);
  });

  it('rejects malformed JSON with 400 and an unsupported content type with 415', async () => {
    const { app: a } = await app();
    const bad = await a.inject({
      method: 'POST',
      url: '/api/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"message":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('FST_ERR_CTP_INVALID_JSON_BODY');
    const wrongType = await a.inject({
      method: 'POST',
      url: '/api/echo',
      headers: { 'content-type': 'application/xml' },
      payload: '<message>hello</message>',
    });
    expect(wrongType.statusCode).toBe(415);
  });
});

describe('GET /api/private (request id → auth → validation → handler → error handler)', () => {
  it('rejects a missing token with 401 and WWW-Authenticate', async () => {
    const { app: a } = await app();
    const res = await a.inject({ url: '/api/private' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toContain('Bearer');
    expect(res.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
  });

  it('rejects a wrong token', async () => {
    const { app: a } = await app();
    const res = await a.inject({ url: '/api/private', headers: { authorization: 'Bearer nope' } });
    expect(res.statusCode).toBe(401);
  });

  it('authenticates before it validates', async () => {
    const { app: a } = await app();
    const res = await a.inject({ url: '/api/private?detail=bogus', headers: { authorization: 'Bearer nope' } });
    expect(res.statusCode).toBe(401);
    const ok = await a.inject({ url: '/api/private?detail=bogus', headers: { authorization: 'Bearer token-two' } });
    expect(ok.statusCode).toBe(400);
    expect(ok.json().message).toContain('detail');
  });

  it('serves a valid token', async () => {
    const { app: a } = await app();
    const res = await a.inject({ url: '/api/private?detail=full', headers: { authorization: 'Bearer token-one' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().request_id).toBe(res.headers['x-request-id']);
  });

  it('rejects everyone when no tokens are configured', async () => {
    const { app: a } = await app({ AUTH_TOKENS: '' });
    const res = await a.inject({ url: '/api/private', headers: { authorization: 'Bearer token-one' } });
    expect(res.statusCode).toBe(401);
  });
});

describe('error handler', () => {
  it('hides 5xx internals, keeps 4xx messages, logs each error once with its stack', async () => {
    const mem = memoryLogger();
    built = await build({ logger: mem.logger }, false);
    built.app.get('/boom', async () => {
      throw new Error('database password is hunter2');
    });
    built.app.get('/teapot', async () => {
      throw Object.assign(new Error('short and stout'), { statusCode: 418 });
    });
    const boom = await built.app.inject({ url: '/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.json()).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal Server Error',
      request_id: boom.headers['x-request-id'],
    });
    expect(boom.body).not.toContain('hunter2');
    const errors = mem.lines.filter((l) => l.req_id === boom.headers['x-request-id'] && l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors[0]?.err)).toContain('hunter2');

    const teapot = await built.app.inject({ url: '/teapot' });
    expect(teapot.statusCode).toBe(418);
    expect(teapot.json().message).toBe('short and stout');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const { app: a } = await app();
    const res = await a.inject({ url: '/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ statusCode: 404, message: 'Route GET /nope not found' });
  });
});
