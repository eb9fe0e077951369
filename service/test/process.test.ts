// The real process (the production bundle, as `npm start` runs it), real signals.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { LISTEN_BACKLOG } from '../src/http/server-options.js';
import { type RunningService, startService, waitFor } from './helpers/service-process.js';

let svc: RunningService | undefined;
afterEach(async () => {
  await svc?.stop('SIGKILL');
  svc = undefined;
});

/** A GET that resolves with status, headers and body, over its own connection. */
function get(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** Wait until the service reports `n` requests in flight. */
async function inFlightCount(s: RunningService, n: number) {
  await waitFor(async () => {
    const body = await (await fetch(`${s.adminUrl}/metrics`)).text();
    return body.includes(`\nhttp_server_active_requests ${n}\n`);
  });
}

describe('graceful shutdown', () => {
  it('fails readiness at once on SIGTERM, finishes the in-flight request, then exits 0', async () => {
    svc = await startService({ env: { SHUTDOWN_DELAY_MS: '300' } });
    const s = svc;
    const inFlight = get(`${s.url}/api/sleep?ms=1000`);
    await inFlightCount(s, 1);
    s.proc.kill('SIGTERM');
    await waitFor(async () => (await fetch(`${s.adminUrl}/readyz`)).status === 503, 2000);
    // still serving during the delay, with Connection: close
    const during = await get(`${s.url}/`);
    expect(during.status).toBe(200);
    expect(during.headers.connection).toBe('close');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ slept_ms: 1000 });
    expect(await s.exited).toEqual({ code: 0, signal: null });
    const msgs = s.logs.map((l) => l.msg);
    expect(msgs).toContain('shutdown started: readiness failing');
    expect(msgs.at(-1)).toBe('shutdown complete');
  });

  it('exits 1 on a second SIGTERM', async () => {
    svc = await startService({ env: { SHUTDOWN_DELAY_MS: '5000' } });
    svc.proc.kill('SIGTERM');
    await waitFor(() => svc?.logs.some((l) => l.msg === 'shutdown started: readiness failing') ?? false);
    svc.proc.kill('SIGTERM');
    expect((await svc.exited).code).toBe(1);
    expect(svc.logs.map((l) => l.msg)).toContain('second signal during shutdown: exiting now');
  });

  it('exits 1 when draining outlasts SHUTDOWN_TIMEOUT_MS', async () => {
    svc = await startService({ env: { SHUTDOWN_TIMEOUT_MS: '300' } });
    const s = svc;
    const inFlight = get(`${s.url}/api/sleep?ms=3000`).catch(() => null);
    await inFlightCount(s, 1);
    s.proc.kill('SIGTERM');
    expect((await s.exited).code).toBe(1);
    expect(s.logs.map((l) => l.msg)).toContain('shutdown did not finish in time: exiting');
    await inFlight;
  });
});

describe('when stdout goes away', () => {
  // The log reader exits (a crashed collector, `npm start | head`): writes
  // fail with EPIPE. Serving must go on, and shutdown must still end — pino's
  // own sonic-boom 4 retried a failed flushSync forever, so the process hung.
  it('keeps serving, says so once on stderr, and still shuts down with exit 0', async () => {
    svc = await startService({ env: { SHUTDOWN_DELAY_MS: '0', ACCESS_LOG: 'all' } });
    const s = svc;
    s.proc.stdout?.destroy();
    for (let i = 0; i < 20; i++) expect((await get(`${s.url}/`)).status).toBe(200);
    await waitFor(() => s.stderr().includes('log output failed'), 5000);
    expect(s.stderr().match(/log output failed/g)).toHaveLength(1);
    s.proc.kill('SIGTERM');
    const exit = await Promise.race([
      s.exited,
      new Promise((resolve) => setTimeout(() => resolve('still running 8 s after SIGTERM'), 8000)),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
  });
});

describe('entry points', () => {
  // `npm start` runs the bundle; the unbundled form is documented for
  // instrumentations that patch modules at require time (docs/telemetry.md).
  it.each(['bundle', 'unbundled'] as const)('%s: serves, traces and correlates logs', async (entry) => {
    svc = await startService({ entry, env: { ACCESS_LOG: 'all', OTEL_TRACES_SAMPLER: 'always_on' } });
    const s = svc;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${s.url}/`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(res.status).toBe(200);
    await waitFor(() => s.logs.some((l) => l.msg === 'request completed'));
    expect(s.logs.find((l) => l.msg === 'request completed')).toMatchObject({ trace_id: traceId, trace_flags: '01' });
    expect(s.logs.find((l) => l.msg === 'tracing configured')).toMatchObject({ enabled: true });
    // The worker pool starts threads from piscina's own files (why piscina stays outside the bundle).
    const work = await fetch(`${s.url}/api/work`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'periscope', rounds: 1 }),
    });
    expect(work.status).toBe(200);
    expect(await work.json()).toMatchObject({ top_words: [['periscope', 1]] });
  });
});

describe('the production bundle', () => {
  // esbuild's keepNames wraps each function created at run time in a
  // defineProperty call (`__name`); in Fastify's per-request closures that cost
  // ~8 µs of CPU a request (docs/telemetry.md). Guard against it coming back.
  it('is built without per-call function-name helpers (esbuild keepNames)', () => {
    const dir = new URL('../../dist/bundle/', import.meta.url);
    const files = readdirSync(dir).filter((f) => /\.c?js$/.test(f));
    expect(files).toContain('periscope.js');
    const wrapped = files.filter((f) => /\b__name\(/.test(readFileSync(new URL(f, dir), 'utf8')));
    expect(wrapped).toEqual([]);
  });
});

describe('start-up configuration errors', () => {
  it('stops with exit 1 and one line naming the variable, the value and what is allowed', async () => {
    svc = await startService({ env: { PORT: 'abc' }, waitReady: false });
    expect((await svc.exited).code).toBe(1);
    expect(svc.stderr()).toBe(
      'periscope: invalid environment: PORT="abc" is not allowed; expected an integer from 1 to 65535\n',
    );
  });

  it('rejects an invalid CONFIG_FILE the same way', async () => {
    svc = await startService({ env: { CONFIG_FILE: '/nonexistent/periscope.json' }, waitReady: false });
    expect((await svc.exited).code).toBe(1);
    expect(svc.stderr()).toBe('periscope: /nonexistent/periscope.json: cannot read: ENOENT\n');
  });
});

describe('accept queue', () => {
  it('listens with the larger backlog (what the kernel allows of it), so a burst of connections is not dropped', async () => {
    svc = await startService();
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    // For a listening socket, ss reports the backlog as Send-Q.
    const out = execFileSync('ss', ['-ltnH', `sport = :${svc.port}`], { encoding: 'utf8' });
    const [, , sendQ] = out.trim().split(/\s+/);
    expect(Number(sendQ)).toBe(Math.min(LISTEN_BACKLOG, somaxconn));
    expect(Number(sendQ)).toBeGreaterThan(511); // Node's default, which the spike scenario overflowed
  });
});
