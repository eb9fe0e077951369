// Runs the built service as a real process, the way `npm start` and the
// container do (the production bundle, dist/bundle/periscope.js), on free
// ports, and collects its log lines.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../../../scripts/lib/free-port.js';
import { productionArgs } from '../../../scripts/lib/production-command.js';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export interface RunningService {
  proc: ChildProcess;
  port: number;
  adminPort: number;
  url: string;
  adminUrl: string;
  /** Parsed JSON log lines so far (non-JSON lines are kept as { raw }). */
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Wait for /readyz 200 (default true). */
  waitReady?: boolean;
  /**
   * What to run: the production bundle, as `npm start` does (default), or the
   * unbundled dist/ with the telemetry preload (the documented alternative).
   */
  entry?: 'bundle' | 'unbundled';
}

export async function startService(opts: StartOptions = {}): Promise<RunningService> {
  const [port, adminPort] = await freePorts(2);
  const args =
    opts.entry === 'unbundled' ? ['--import', './dist/telemetry/register.js', 'dist/main.js'] : productionArgs();
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      LOG_LEVEL: 'info',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stdoutBuf = '';
  let stderrBuf = '';
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdoutBuf += chunk;
    let nl = stdoutBuf.indexOf('\n');
    while (nl !== -1) {
      const line = stdoutBuf.slice(0, nl);
      stdoutBuf = stdoutBuf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ raw: line });
      }
      nl = stdoutBuf.indexOf('\n');
    }
  });
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderrBuf += c;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const svc: RunningService = {
    proc,
    port,
    adminPort,
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    logs,
    stderr: () => stderrBuf,
    exited,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
  if (opts.waitReady !== false)
    await waitFor(async () => (await fetch(`${svc.adminUrl}/readyz`)).status === 200, 15_000, svc);
  return svc;
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, svc?: RunningService) {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    if (svc && svc.proc.exitCode !== null)
      throw new Error(`service exited early (${svc.proc.exitCode}): ${svc.stderr()}`);
    try {
      if (await check()) return;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${lastErr ? `: ${String(lastErr)}` : ''}`);
}
