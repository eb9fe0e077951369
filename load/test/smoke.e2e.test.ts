// End to end: `smoke` against the real service (built dist/, started the way
// production starts it), then the JSON result, the HTML report in Debian's
// headless Chromium, and the SLO verdict and exit codes of the CLI.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childOutput } from '../lib/child-output.js';
import { runScenario } from '../lib/run.js';
import { REPO_ROOT, type ServiceHandle, startService } from '../lib/service.js';
import { type LoadResult, RESULT_SCHEMA } from '../lib/types.js';
import { CHROMIUM, renderInBrowser } from '../report/browser.js';

const work = mkdtempSync(join(tmpdir(), 'periscope-load-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const TSX_CLI = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** Runs the CLI as `npm run load` does (tsx) and collects its exit code and output. */
function cli(args: string[], opts: { onLine?: (line: string, child: ReturnType<typeof spawn>) => void } = {}) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [TSX_CLI, 'load/cli.ts', ...args], { cwd: REPO_ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      for (const line of d.toString().split('\n')) if (line) opts.onLine?.(line, child);
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('smoke against the real service', () => {
  let result: LoadResult;
  let exitCode: number;
  let files: { json: string; html: string };

  beforeAll(async () => {
    const outcome = await runScenario('smoke', { durationS: 3, outDir: join(work, 'smoke'), progress: false });
    ({ exitCode, files } = outcome);
    // Judge what was written to disk, not the object in memory.
    result = JSON.parse(readFileSync(files.json, 'utf8')) as LoadResult;
  });

  it('writes a complete JSON result with client-side figures', () => {
    expect(result.schema).toBe(RESULT_SCHEMA);
    expect(result.scenario).toBe('smoke');
    expect(result.complete).toBe(true);
    expect(result.settings.localService).toBe(true);
    const [phase] = result.phases;
    expect(phase?.responses).toBeGreaterThan(100);
    expect(phase?.status['200']).toBe(phase?.responses);
    expect(phase?.failures).toBe(0);
    expect(phase?.measuredS).toBeGreaterThan(2.5);
    expect(phase?.rps).toBeCloseTo((phase?.responses ?? 0) / (phase?.measuredS ?? 1), -1);
    const l = result.summary.latencyMs;
    expect(l.p50).toBeGreaterThan(0);
    expect(l.p50).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l.max);
    // autocannon's own count includes the warm-up, ours does not.
    expect(phase?.autocannon.requests).toBeGreaterThanOrEqual(phase?.responses ?? 0);
    expect(result.client.filter((s) => s.rps > 0).length).toBeGreaterThanOrEqual(3);
    expect(result.client.every((s) => s.connections <= 10)).toBe(true);
  });

  it('scraped the server-side series from /metrics every second', () => {
    const s = result.server.samples;
    expect(s.length).toBeGreaterThanOrEqual(4);
    expect(result.server.scrapeErrors).toBe(0);
    for (const key of [
      'rssBytes',
      'heapUsedBytes',
      'activeRequests',
      'heldConnections',
      'admissionLimit',
      'openFds',
      'eluGauge',
    ] as const) {
      expect(s.every((x) => x[key] !== null)).toBe(true);
    }
    // Rates need two scrapes: every sample after the first has them (the request rate once the
    // service has counted a first request).
    expect(s.slice(1).every((x) => x.elu !== null && x.cpu !== null)).toBe(true);
    expect(s.filter((x) => x.rps !== null).length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...s.map((x) => x.elu ?? 0))).toBeGreaterThan(0.05);
    // The server counted (about) what the client received.
    const serverCounted = s.slice(1).reduce((a, x, i) => a + (x.rps ?? 0) * (x.t - (s[i]?.t ?? x.t)), 0);
    const clientReceived = result.client.reduce((a, c) => a + c.responses, 0);
    expect(serverCounted).toBeGreaterThan(clientReceived * 0.8);
    expect(result.server.peakRssSource).toBe('VmHWM');
    expect(result.server.peakRssBytes).toBeGreaterThan(20 * 1024 * 1024);
    expect(result.environment.serviceNode).toMatch(/^v\d+/);
    expect(result.environment.fdLimits.generator?.soft).toBeGreaterThan(0);
  });

  it('judges the run against load/slo.yaml', () => {
    expect(result.slo.verdict).toBe('pass');
    expect(result.slo.checks.map((c) => c.objective).sort()).toEqual(['maxErrorRatio', 'minRps', 'p99Ms']);
    expect(exitCode).toBe(0);
  });

  it('writes a self-contained HTML report', () => {
    const html = readFileSync(files.html, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("default-src 'none'");
    // Nothing that would fetch: no src/href attributes, stylesheets, imports or CSS url()s.
    expect(html).not.toMatch(/\s(src|href|srcset)\s*=|<link\b|@import|url\(|<iframe|<img\b/i);
    // The only URLs are the text of the target and admin addresses in the run's own description.
    const urls = new Set(html.match(/https?:\/\/[^\s"'<>)]+/g) ?? []);
    for (const u of urls) expect(u).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    // The full result travels with it.
    const embedded = html.match(/<script type="application\/json" id="load-result">(.*)<\/script>/s)?.[1];
    expect(JSON.parse(embedded ?? 'null')?.summary.responses).toBe(result.summary.responses);
  });

  it('renders its charts in headless Chromium without a single request', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: bash load/test/install-browser.sh`).toBe(true);
    const r = await renderInBrowser(files.html);
    writeFileSync(join(work, 'smoke', 'report.png'), r.png);
    expect(r.externalRequests).toEqual([]);
    expect(r.cspViolations).toEqual([]);
    expect(r.verdict).toBe('pass');
    const byId = Object.fromEntries(r.charts.map((c) => [c.id, c]));
    for (const id of ['throughput', 'latency', 'failures', 'elu', 'eventloop-delay', 'memory', 'active']) {
      expect(byId[id]?.series, id).toBeGreaterThanOrEqual(1);
      expect(byId[id]?.points, id).toBeGreaterThanOrEqual(3);
      expect(byId[id]?.width, id).toBeGreaterThan(300);
    }
    expect(byId.status?.bars).toBeGreaterThanOrEqual(1);
    // Not blank: many colours (lines, text, bands) and a real share of inked pixels.
    expect(r.distinctColors).toBeGreaterThan(30);
    expect(r.nonWhiteShare).toBeGreaterThan(0.03);
    expect(r.png.length).toBeGreaterThan(50_000);
  });
});

describe('the CLI against a running service', () => {
  let svc: ServiceHandle;
  const target = () => ['--target', svc.url, '--admin', svc.adminUrl, '--duration', '2', '--quiet', '--no-pin'];

  beforeAll(async () => {
    svc = await startService({ logFile: join(work, 'cli-service.log') });
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('exits 1 and says why when an objective is missed', async () => {
    const slo = join(work, 'impossible.yaml');
    writeFileSync(slo, 'scenarios:\n  smoke:\n    p99Ms: 0.001\n    minRps: 10000000\n');
    const r = await cli(['smoke', ...target(), '--slo', slo, '--out', join(work, 'fail')]);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/SLO FAIL/);
    expect(r.out).toMatch(/FAIL {2}p99Ms: [\d.]+ ms > 0.001 ms/);
    const written = JSON.parse(readFileSync(join(work, 'fail', 'result.json'), 'utf8')) as LoadResult;
    expect(written.slo.verdict).toBe('fail');
    expect(written.settings.localService).toBe(false);
  });

  it('exits 0 when the objectives hold', async () => {
    const slo = join(work, 'easy.json');
    writeFileSync(slo, JSON.stringify({ scenarios: { smoke: { p99Ms: 5000, maxErrorRatio: 0.5, minRps: 1 } } }));
    const r = await cli(['smoke', ...target(), '--slo', slo, '--out', join(work, 'pass')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/SLO PASS/);
    expect(r.out).toMatch(/report: .*report\.html/);
  });

  it('exits 2 with a clear line for a broken SLO file or an unknown scenario', async () => {
    const slo = join(work, 'broken.yaml');
    writeFileSync(slo, 'scenarios:\n  smoke:\n    p99: 5\n');
    const bad = await cli(['smoke', ...target(), '--slo', slo]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/broken\.yaml: \/scenarios\/smoke/);
    const unknown = await cli(['nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown scenario "nope"; one of: smoke, steady/);
  });
});

describe('open-files limit', () => {
  it('refuses c10k with the numbers when the limit cannot be raised, and exits 3', async () => {
    // A hard limit of 2048 and no CAP_SYS_RESOURCE to lift it (what a non-root user or a default container has).
    const command = `prlimit --nofile=2048:2048 ${process.execPath} ${TSX_CLI} load/cli.ts c10k --no-pin --quiet --no-slo --out ${join(work, 'nofile')}`;
    // As root, drop the capability that would let the runner lift the hard limit (capsh, libcap2-bin).
    const r = await childOutput(
      process.getuid?.() === 0
        ? spawn('capsh', ['--drop=cap_sys_resource', '--', '-c', command], { cwd: REPO_ROOT })
        : spawn('sh', ['-c', command], { cwd: REPO_ROOT }),
    );
    expect(r.code, r.out + r.err).toBe(3);
    expect(r.err).toMatch(
      /The generator process may open 2048 files \(soft limit; hard limit 2048\), but 10,000 connections need about 10,256/,
    );
    expect(r.err).toMatch(/The service process may open 2048 files/);
    expect(r.err).toMatch(/This run needs 10,000 connections at its peak/);
    // No result from a run that did not happen, and the service it had started was stopped.
    expect(existsSync(join(work, 'nofile', 'result.json'))).toBe(false);
    expect(readFileSync(join(work, 'nofile', 'service.log'), 'utf8')).toMatch(/shutdown complete/);
  });
});

describe('Ctrl-C', () => {
  it('stops the load, writes a partial result, stops the service it started and exits 130', async () => {
    let servicePid = 0;
    let signalled = false;
    const out = join(work, 'interrupted');
    const r = await cli(['steady', '--duration', '60', '--connections', '5', '--no-pin', '--out', out], {
      onLine: (line, child) => {
        const m = line.match(/ready at .* pid (\d+)/);
        if (m) servicePid = Number(m[1]);
        // Interrupt once load is flowing.
        if (!signalled && /req\/s/.test(line)) {
          signalled = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(signalled).toBe(true);
    expect(r.code, r.out + r.err).toBe(130);
    expect(servicePid).toBeGreaterThan(0);
    expect(alive(servicePid)).toBe(false);
    const written = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as LoadResult;
    expect(written.complete).toBe(false);
    expect(written.interruption).toBe('SIGINT received');
    expect(readFileSync(join(out, 'service.log'), 'utf8')).toMatch(/shutdown complete/);
  });
});
