// Shared by the profiling tests: run a profiling CLI the way npm runs it, and
// the Node versions to run the service on.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { type ChildOutput, childOutput } from '../../lib/child-output.js';
import { REPO_ROOT } from '../lib/paths.js';

const TSX_CLI = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

export type CliResult = ChildOutput;

/** `tsx load/profiling/<script> args…` from the repository root, as `npm run profile:*` does. */
export function runCli(script: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [TSX_CLI, join('load', 'profiling', script), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
  });
  return childOutput(child);
}

/**
 * Node binaries to run the service on: $PROFILING_TEST_NODES (colon-separated)
 * if set, else this node and Node 24 (the production runtime, installed by
 * infra/tools/install-node24.sh).
 */
export function serviceNodes(): string[] {
  if (process.env.PROFILING_TEST_NODES) return process.env.PROFILING_TEST_NODES.split(':').filter(Boolean);
  const r = spawnSync('bash', [join(REPO_ROOT, 'infra', 'tools', 'install-node24.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const node24 = join(r.stdout.trim(), 'node');
  if (r.status !== 0 || !existsSync(node24)) throw new Error('infra/tools/install-node24.sh failed');
  return [...new Set([process.execPath, node24])];
}

export function nodeVersion(bin: string): string {
  return spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

/** The report path a profiling CLI printed last ("...: <path>"). */
export function printedPath(out: string): string {
  const m = /: (\S+\.html)\s*$/.exec(out.trimEnd());
  if (!m) throw new Error(`no report path in the output:\n${out}`);
  const p = m[1] as string;
  return isAbsolute(p) ? p : join(REPO_ROOT, p);
}
