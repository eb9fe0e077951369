// Starts the service the way production does (`node <production flags>
// dist/bundle/periscope.js`, as `npm start` and the image run it:
// scripts/lib/production-command.ts) on free loopback ports, waits
// for /readyz, and stops it with SIGTERM — the same path a Kubernetes pod
// takes. Used by the load runner when no --target is given, by the tests, and
// by other tools (profiling) through run.ts.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../../scripts/lib/free-port.js';
import { productionArgs } from '../../scripts/lib/production-command.js';
import { readFdLimits } from './limits.js';
import type { FdLimits } from './types.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface StartServiceOptions {
  /** Node binary for the service. Default: $LOAD_SERVICE_NODE, else the runner's own node. */
  nodeBin?: string;
  /** Extra node flags (e.g. --cpu-prof), placed before the script. */
  nodeArgs?: string[];
  /** Replaces `node <production flags> [nodeArgs] dist/bundle/periscope.js` entirely (e.g. a profiler wrapper). */
  command?: string[];
  /** Command prefix (taskset, prlimit), see cpus.ts and limits.ts. */
  prefix?: string[];
  /** Extra environment (PORT, ADMIN_PORT and HOST are set by the launcher unless given here). */
  env?: Record<string, string>;
  /** Where the service's stdout and stderr go. Default: a file in the OS temp dir. */
  logFile?: string;
  readyTimeoutMs?: number;
  /** Run scripts/ensure-build.mjs first (builds dist/ if stale). Default true. */
  build?: boolean;
}

export interface ServiceHandle {
  /** Application origin, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Admin origin (/metrics, /readyz), e.g. http://127.0.0.1:41235 */
  adminUrl: string;
  pid: number;
  nodeVersion: string;
  logFile: string;
  /** Open-files limits the running process has. */
  fdLimits(): FdLimits | null;
  /** The kernel's record of the process's peak RSS (VmHWM), bytes; null once exited or when wrapped. */
  peakRssBytes(): number | null;
  /** User+system CPU seconds the process has used so far. */
  cpuSeconds(): number | null;
  /** SIGTERM, then wait for exit (SIGKILL after timeoutMs). Resolves with the exit status. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: string | null }>;
}

export class ServiceStartError extends Error {
  override name = 'ServiceStartError';
}

// Children still running when the runner exits (an exception, process.exit)
// are signalled on the way out; a detached child would otherwise outlive it.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGTERM');
});

export function ensureBuild(): void {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'ensure-build.mjs')], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new ServiceStartError('building dist/ failed (scripts/ensure-build.mjs)');
}

function nodeVersion(nodeBin: string): string {
  const r = spawnSync(nodeBin, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new ServiceStartError(`cannot run the service's node binary "${nodeBin}"`);
  return r.stdout.trim();
}

function readProcStatusKb(pid: number, field: string): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    const kb = line ? Number(line.split(/\s+/)[1]) : Number.NaN;
    return Number.isFinite(kb) ? kb * 1024 : null;
  } catch {
    return null;
  }
}

/** utime+stime of a process in seconds, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / 100 : null; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface PollReadyOptions {
  timeoutMs: number;
  /** Pause between attempts (default 100 ms). */
  intervalMs?: number;
  /** True once waiting is pointless (the process exited). */
  gone?: () => boolean;
}

/** Polls `<adminUrl>/readyz` until it answers 200: 'ready', or why it stopped waiting. */
export async function pollReady(adminUrl: string, o: PollReadyOptions): Promise<'ready' | 'gone' | 'timeout'> {
  const deadline = performance.now() + o.timeoutMs;
  while (performance.now() < deadline) {
    if (o.gone?.()) return 'gone';
    try {
      const res = await fetch(`${adminUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200) return 'ready';
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 100));
  }
  return o.gone?.() ? 'gone' : 'timeout';
}

async function waitReady(adminUrl: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const state = await pollReady(adminUrl, {
    timeoutMs,
    gone: () => child.exitCode !== null || child.signalCode !== null,
  });
  if (state === 'gone') throw new ServiceStartError('exited during start-up');
  if (state === 'timeout') throw new ServiceStartError(`not ready within ${timeoutMs} ms`);
}

async function startOnce(opts: StartServiceOptions, logFile: string): Promise<ServiceHandle> {
  const nodeBin = opts.nodeBin ?? process.env.LOAD_SERVICE_NODE ?? process.execPath;
  const version = nodeVersion(nodeBin);
  const [port, adminPort] = await freePorts(2);
  const env = {
    ...process.env,
    PORT: String(port),
    ADMIN_PORT: String(adminPort),
    // Loopback only: a load test has no business exposing the service.
    HOST: '127.0.0.1',
    ...opts.env,
  };
  const command = opts.command ?? [nodeBin, ...productionArgs(opts.nodeArgs)];
  const [cmd, ...args] = [...(opts.prefix ?? []), ...command];
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd as string, args, {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', fd, fd],
    // Own process group: Ctrl-C reaches the runner, which stops the service in order.
    detached: true,
  });
  closeSync(fd);
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', () => {
      live.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  const host = env.HOST === '0.0.0.0' || env.HOST === '::' ? '127.0.0.1' : env.HOST;
  const url = `http://${host}:${env.PORT}`;
  const adminUrl = `http://${host}:${env.ADMIN_PORT}`;
  try {
    await waitReady(adminUrl, child, opts.readyTimeoutMs ?? 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  const pid = child.pid as number;
  const wrapped = opts.command !== undefined;
  return {
    url,
    adminUrl,
    pid,
    nodeVersion: version,
    logFile,
    fdLimits: () => readFdLimits(pid),
    peakRssBytes: () => (wrapped ? null : readProcStatusKb(pid, 'VmHWM')),
    cpuSeconds: () => processCpuSeconds(pid),
    stop: async (timeoutMs = 25_000) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const status = await exited;
      clearTimeout(timer);
      return status;
    },
  };
}

/** Starts the service and resolves once /readyz answers 200. Retries twice if a port was taken meanwhile. */
export async function startService(opts: StartServiceOptions = {}): Promise<ServiceHandle> {
  if (opts.build !== false && !opts.command) {
    if (!existsSync(join(REPO_ROOT, 'scripts', 'ensure-build.mjs'))) {
      throw new ServiceStartError('scripts/ensure-build.mjs not found: run from the Periscope checkout');
    }
    ensureBuild();
  }
  const logFile = opts.logFile ?? join(tmpdir(), `periscope-load-service-${process.pid}-${Date.now()}.log`);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts, logFile);
    } catch (err) {
      const log = tail(logFile);
      if (attempt < 3 && /EADDRINUSE/.test(log)) continue;
      throw new ServiceStartError(`the service did not start: ${(err as Error).message}\n--- ${logFile} ---\n${log}`);
    }
  }
}
