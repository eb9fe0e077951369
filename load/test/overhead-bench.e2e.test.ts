// End to end: `npm run bench:overhead` itself, one short round, so the
// benchmark the README's Performance table comes from keeps running: every
// variant starts, is loaded by wrk, is timed exec → ready, and the exporting
// variants' spans really reach the OTLP sink (their figures include the export).
// It asserts that the benchmark measures, never what it measures.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productionArgs } from '../../scripts/lib/production-command.js';
import { REPO_ROOT } from '../lib/service.js';

const TSX_CLI = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

interface Row {
  variant: string;
  args: string[];
  rps: number;
  ratio: number;
  cpuUsPerReq: number;
  userUsPerReq: number;
  systemUsPerReq: number;
  readyMs: number;
  idleRssMb: number;
  errors: number;
  exportBatches: number;
  exportBytes: number;
}

describe('bench:overhead', () => {
  const out = mkdtempSync(join(tmpdir(), 'periscope-bench-test-'));
  let code: number | null = null;
  let stdout = '';
  let rows: Row[] = [];
  let readyMsByStart: Record<string, number[]> = {};

  beforeAll(async () => {
    const args = ['--rounds', '1', '--duration', '2', '--warmup', '1', '--starts', '1', '--connections', '20'];
    const child = spawn(
      process.execPath,
      [TSX_CLI, 'load/bench/overhead.ts', ...args, '--variants', 'bare,periscope,notracing', '--out', out],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    code = await new Promise((resolve) => child.on('exit', resolve));
    const [file] = readdirSync(out).filter((f) => f.startsWith('overhead-') && f.endsWith('.json'));
    if (file) ({ rows, readyMsByStart } = JSON.parse(readFileSync(join(out, file), 'utf8')));
  }, 180_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('measures every variant under load', () => {
    expect(code).toBe(0);
    expect(rows.map((r) => r.variant)).toEqual(['bare', 'periscope', 'notracing']);
    for (const r of rows) {
      expect(r.rps, r.variant).toBeGreaterThan(100);
      expect(r.cpuUsPerReq, r.variant).toBeGreaterThan(0);
      // Both halves are read from /proc: serving HTTP takes user and kernel time.
      expect(r.userUsPerReq, r.variant).toBeGreaterThan(0);
      expect(r.systemUsPerReq, r.variant).toBeGreaterThan(0);
      expect(r.idleRssMb, r.variant).toBeGreaterThan(10);
      expect(r.errors, r.variant).toBe(0);
      expect(Number.isFinite(r.ratio), r.variant).toBe(true);
    }
    expect(rows[0]?.ratio).toBe(1);
    expect(stdout).toMatch(/\| periscope \| .* \| \d+\.\d\d \|/);
  });

  it('runs the service as deployed, and bare Fastify without the idle slowdown', () => {
    for (const r of rows.filter((x) => x.variant !== 'bare')) expect(r.args, r.variant).toEqual(productionArgs());
    // The reference is kept from V8's memory-reducing GC between its rounds (overhead.ts, REFERENCE_FLAGS).
    const bare = rows.find((x) => x.variant === 'bare');
    expect(bare?.args[0]).toBe('--no-memory-reducer');
    expect(bare?.args.at(-1)).toMatch(/bare\.mjs$/);
  });

  it('times each variant from exec to ready, the compile-cache-less start too', () => {
    expect(Object.keys(readyMsByStart).sort()).toEqual(['bare', 'notracing', 'periscope', 'periscope-nocache']);
    for (const [name, starts] of Object.entries(readyMsByStart)) {
      expect(starts, name).toHaveLength(1);
      expect(starts[0], name).toBeGreaterThan(0);
    }
  });

  it('sees the default profile export its spans, and the others none', () => {
    const byName = Object.fromEntries(rows.map((r) => [r.variant, r]));
    expect(byName.periscope?.exportBatches).toBeGreaterThan(0);
    expect(byName.periscope?.exportBytes).toBeGreaterThan(1000);
    expect(byName.notracing?.exportBatches).toBe(0);
    expect(byName.bare?.exportBatches).toBe(0);
    expect(stdout).toMatch(/spans received by the OTLP sink: periscope \d+ batches/);
    expect(stdout).not.toMatch(/WARNING: exported no spans/);
  });
});
