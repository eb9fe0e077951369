// End to end: `npm run bench:instructions` itself, on a short count, so the
// instrument the README's "Counted in instructions" comes from keeps working:
// both servers start under callgrind, the count is switched on and off around
// a window and dumped, JIT code is named from node's perf map, and nothing is
// left behind. It asserts that the benchmark measures, never what it measures
// (beyond the service doing more than nothing per request).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../lib/service.js';

const TSX_CLI = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

interface Result {
  variant: string;
  windows: Array<{ window: number; perRequest: number; mainThreadPerRequest: number; nextTickPerRequest: number }>;
  functions: Record<string, number>;
}

const leftovers = () => readdirSync(tmpdir()).filter((f) => f.startsWith('periscope-instructions-'));
// node --perf-basic-prof writes /tmp/perf-<pid>.map, whatever TMPDIR says.
const perfMaps = () => readdirSync('/tmp').filter((f) => /^perf-\d+\.map$/.test(f));

describe('bench:instructions', () => {
  const out = mkdtempSync(join(tmpdir(), 'periscope-bench-instr-test-'));
  const before = leftovers();
  const mapsBefore = perfMaps();
  let code: number | null = null;
  let stdout = '';
  let results: Result[] = [];

  beforeAll(async () => {
    const args = ['--warmup', '1500', '--requests', '500', '--windows', '1', '--connections', '10', '--top', '5'];
    const child = spawn(
      process.execPath,
      [TSX_CLI, 'load/bench/instructions.ts', ...args, '--variants', 'bare,notracing', '--out', out],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    code = await new Promise((resolve) => child.on('exit', resolve));
    const [file] = readdirSync(out).filter((f) => f.startsWith('instructions-') && f.endsWith('.json'));
    if (file) ({ results } = JSON.parse(readFileSync(join(out, file), 'utf8')));
  }, 600_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('counts instructions a request for every variant, in the window asked for', () => {
    expect(code).toBe(0);
    expect(results.map((r) => r.variant)).toEqual(['bare', 'notracing']);
    for (const r of results) {
      expect(
        r.windows.map((w) => w.window),
        r.variant,
      ).toEqual([1]);
      const [w] = r.windows;
      // A request through Node's HTTP stack and Fastify is tens of thousands of instructions.
      expect(w?.perRequest, r.variant).toBeGreaterThan(10_000);
      expect(w?.mainThreadPerRequest, r.variant).toBeGreaterThan(10_000);
      expect(w?.mainThreadPerRequest, r.variant).toBeLessThanOrEqual(w?.perRequest ?? 0);
      expect(w?.nextTickPerRequest, r.variant).toBeGreaterThan(0);
    }
    const [bare, service] = results;
    expect(service?.windows[0]?.perRequest).toBeGreaterThan(bare?.windows[0]?.perRequest ?? Infinity);
    expect(stdout).toMatch(/notracing\s+window 1\s+\d+\.\dk a request/);
  });

  it('names JIT code from the perf map, and diffs the variants by function', () => {
    for (const r of results) {
      const names = Object.keys(r.functions);
      expect(
        names.some((n) => n.startsWith('parserOnIncoming node:_http_server')),
        r.variant,
      ).toBe(true);
      expect(names.filter((n) => n === '(unnamed JIT code)').length, r.variant).toBeLessThanOrEqual(1);
    }
    // JavaScript from the repository (the service's bundle, bare Fastify's node_modules) is named by function.
    for (const r of results)
      expect(
        Object.keys(r.functions).some((n) => n.endsWith(' (app)')),
        r.variant,
      ).toBe(true);
    expect(stdout).toMatch(/notracing against bare, main thread/);
  });

  it('leaves no callgrind output or perf maps behind', () => {
    expect(leftovers().filter((f) => !before.includes(f))).toEqual([]);
    expect(perfMaps().filter((f) => !mapsBefore.includes(f))).toEqual([]);
  });
});
