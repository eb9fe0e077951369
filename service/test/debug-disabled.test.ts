// Profiling is off by default, and off means absent: no routes (404) and the
// native profiler never loaded. Enabled, it is loaded by the first profile:
// an idle service pays nothing either way. Also the shutdown path of a
// running profile, and a profile of the real process.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import debug from '../src/admin/debug/index.js';
import { type Built, build } from './helpers/build.js';
import { memoryLogger } from './helpers/memory-logger.js';
import { type RunningService, startService } from './helpers/service-process.js';

const TOKEN = 'test-profiling-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const run = promisify(execFile);

let built: Built | undefined;
let svc: RunningService | undefined;
afterEach(async () => {
  await built?.close();
  built = undefined;
  await svc?.stop();
  svc = undefined;
});

/** The native profiler is a shared object: mapped into the process only once loaded. */
function nativeProfilerMapped(pid: number): boolean {
  return readFileSync(`/proc/${pid}/maps`, 'utf8').includes('dd_pprof');
}

describe('disabled (the default)', () => {
  it('has no /debug routes: 404, with or without a token', async () => {
    built = await build({ env: { PROFILING_TOKEN: TOKEN } });
    for (const url of ['/debug/pprof/profile?seconds=1', '/debug/pprof/heap?seconds=1', '/debug/pprof/profile']) {
      for (const headers of [{}, AUTH]) {
        const res = await built.admin.inject({ url, headers });
        expect(res.statusCode, url).toBe(404);
      }
    }
  });

  it.runIf(process.platform === 'linux')(
    'never loads the native profiler; enabled, it loads with the first profile (so the check can tell)',
    async () => {
      svc = await startService();
      expect((await fetch(`${svc.adminUrl}/debug/pprof/profile?seconds=1`, { headers: AUTH })).status).toBe(404);
      expect(nativeProfilerMapped(svc.proc.pid as number)).toBe(false);
      await svc.stop();

      svc = await startService({ env: { PROFILING_ENABLED: 'true', PROFILING_TOKEN: TOKEN } });
      // Enabled and idle: the routes answer, the profiler is still not loaded.
      expect((await fetch(`${svc.adminUrl}/debug/pprof/profile?seconds=1`)).status).toBe(401);
      expect(nativeProfilerMapped(svc.proc.pid as number)).toBe(false);
      const res = await fetch(`${svc.adminUrl}/debug/pprof/profile?seconds=1`, { headers: AUTH });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      expect(nativeProfilerMapped(svc.proc.pid as number)).toBe(true);
    },
  );
});

describe('enabled', () => {
  it('refuses to register without a token of at least 16 characters', async () => {
    built = await build();
    await expect(built.admin.register(debug, { enabled: true, token: 'short' }).ready()).rejects.toThrow(/token/);
  });

  it('stops a running profile as soon as the admin server starts closing (shutdown)', async () => {
    const mem = memoryLogger();
    built = await build({ env: { PROFILING_ENABLED: 'true', PROFILING_TOKEN: TOKEN }, logger: mem.logger });
    await built.admin.listen({ port: 0, host: '127.0.0.1' });
    const admin = `http://127.0.0.1:${(built.admin.server.address() as { port: number }).port}`;
    const profiling = fetch(`${admin}/debug/pprof/profile?seconds=60`, { headers: AUTH });
    while (!mem.lines.some((l) => l.msg === 'profiling started')) await new Promise((r) => setTimeout(r, 10));
    const closing = performance.now();
    await built.admin.close();
    // The client sees a 503 or the connection cut by the closing server; never a 60 s wait.
    const res = await profiling.catch(() => undefined);
    if (res) expect(res.status).toBe(503);
    expect(performance.now() - closing).toBeLessThan(30_000);
    const abandoned = () => mem.lines.some((l) => l.msg === 'profiling abandoned' && l.reason === 'server closing');
    const deadline = Date.now() + 5000;
    while (!abandoned() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(abandoned()).toBe(true);
  });

  it.runIf(process.platform === 'linux')(
    'profiles the real process (dist/, source-mapped), and go tool pprof reads the result',
    async () => {
      svc = await startService({ env: { PROFILING_ENABLED: 'true', PROFILING_TOKEN: TOKEN, ACCESS_LOG: 'off' } });
      const profiling = fetch(`${svc.adminUrl}/debug/pprof/profile?seconds=2`, { headers: AUTH });
      let done = false;
      void profiling.finally(() => {
        done = true;
      });
      while (!done) {
        const hello = await fetch(`${svc.url}/`);
        expect(hello.status).toBe(200);
        await hello.text();
      }
      const res = await profiling;
      expect(res.status).toBe(200);
      const file = join(tmpdir(), `periscope-debug-${process.pid}.pb.gz`);
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      onTestFinished(() => rmSync(file, { force: true }));
      try {
        await run('go', ['version']);
      } catch {
        if (process.env.CI) throw new Error('Go is required for this test in CI (go tool pprof)');
        console.warn('go not found: skipping the `go tool pprof` check');
        return;
      }
      // -lines names each frame's file: the service's own frames name the
      // TypeScript sources (source maps), not dist/*.js.
      const { stdout } = await run(
        'go',
        ['tool', 'pprof', '-top', '-lines', '-nodefraction=0', '-nodecount=100000', file],
        {
          timeout: 120_000,
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      expect(stdout).toContain('Type: wall');
      // (A sampled line without a mapping keeps its dist/*.js name: a few may.)
      const mapped = stdout.match(/ \S*\/service\/src\/\S+\.ts:\d+$/gm) ?? [];
      const unmapped = stdout.match(/ \S*\/dist\/\S+\.js:\d+$/gm) ?? [];
      expect(mapped.length).toBeGreaterThan(0);
      expect(mapped.length).toBeGreaterThan(2 * unmapped.length);
      const logs = svc.logs.filter((l) => l.msg === 'profiling finished');
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatchObject({ profile: 'cpu', format: 'pprof', seconds: 2 });
    },
  );
});
