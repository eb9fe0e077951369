// Runs the built service under a profiler (0x, or a clinic.js tool) while a
// load scenario from load/ drives it, and returns the report the profiler wrote.
//
// The profiler owns the service's lifecycle, as each tool is designed to:
// `<tool> --on-port '<driver>' -- node ... dist/main.js`. When the service
// opens its first port, the tool runs the driver (drive.ts: wait for /readyz,
// run the scenario); when the driver exits, the tool stops the service the
// way it needs to (0x: SIGINT to its preload, which exits at once; clinic:
// `beforeExit` so its samplers flush) and writes the HTML. This file adds what
// the tools lack: free ports, output under profiles/, the load's progress on
// the terminal, and a watchdog for a tool that never stops the service or
// never finishes its analysis (clinic bubbleprof does both; see docs/profiling.md).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePorts } from '../../../scripts/lib/free-port.js';
import { PRODUCTION_NODE_FLAGS } from '../../../scripts/lib/production-command.js';
import { ensureBuild } from '../../lib/service.js';
import { display, PROFILES_DIR, REPO_ROOT, stamp } from './paths.js';
import { shellQuote } from './shell.js';
import { installTools } from './tools.js';

export type Profiler = '0x' | 'doctor' | 'bubbleprof' | 'heapprofiler';

export interface ProfileOptions {
  profiler: Profiler;
  /** Scenario name from load/scenarios. */
  scenario: string;
  /** More arguments for `npm run load` (--duration, --connections, --route, ...). */
  loadArgs: string[];
  /** Node binary for the service (default: $LOAD_SERVICE_NODE, else this node). */
  nodeBin?: string;
  /** Extra environment for the service. */
  serviceEnv?: Record<string, string>;
  /** Output folder (default profiles/<profiler>-<scenario>-<time>). */
  outDir?: string;
  /** Seconds the profiler may take, after the load, to stop the service (default 60). */
  stopGraceS?: number;
  /** Seconds the profiler may take, after the service stopped, to write its report (default 600). */
  analysisTimeoutS?: number;
  /** Print the load's progress and the profiler's status (default true). */
  progress?: boolean;
}

export interface ProfileResult {
  /** The report (flamegraph or clinic HTML). */
  html: string;
  dir: string;
  /** The load's exit code (0 ok, 1 an SLO failed — SLOs are off here —, 2 usage, 3 could not run). */
  loadExitCode: number;
  /** Everything the profiler and the service printed. */
  log: string;
  seconds: number;
}

export class ProfileError extends Error {
  override name = 'ProfileError';
}

// The unbundled build (readable stacks), with the production node flags (scripts/lib/production-command.ts):
// a profile of the heap or GC is only the deployed service's with its young-generation size.
const SERVICE_ARGS = [...PRODUCTION_NODE_FLAGS, '--import', './dist/telemetry/register.js', 'dist/main.js'];
/** Keeps clinic's samplers in worker threads from spoiling the main thread's data (see the file). */
const CLINIC_WORKER_THREADS_FIX = join(REPO_ROOT, 'load', 'profiling', 'preload', 'clinic-worker-threads.cjs');

function toolCommand(
  profiler: Profiler,
  tools: ReturnType<typeof installTools>,
  dir: string,
  onPort: string,
  nodeBin: string,
): string[] {
  if (profiler === '0x') {
    return [
      tools.zeroX,
      '--output-dir',
      join(dir, '0x'),
      '--output-html',
      join(dir, 'flamegraph.html'),
      '--title',
      'periscope',
      '--on-port',
      onPort,
      '--',
      nodeBin,
      ...SERVICE_ARGS,
    ];
  }
  return [
    tools.clinic,
    profiler,
    '--no-open',
    '--dest',
    dir,
    '--on-port',
    onPort,
    '--',
    nodeBin,
    '-r',
    CLINIC_WORKER_THREADS_FIX,
    ...SERVICE_ARGS,
  ];
}

function findReport(profiler: Profiler, dir: string): string | undefined {
  if (profiler === '0x') {
    const f = join(dir, 'flamegraph.html');
    return existsSync(f) ? f : undefined;
  }
  const f = readdirSync(dir).find((n) => n.endsWith(`.clinic-${profiler}.html`));
  return f ? join(dir, f) : undefined;
}

/** Copies what is appended to `file` to stdout until stopped. */
function follow(file: string, enabled: boolean): () => void {
  if (!enabled) return () => {};
  let offset = 0;
  const pump = () => {
    if (!existsSync(file)) return;
    const size = statSync(file).size;
    if (size <= offset) return;
    const fd = openSync(file, 'r');
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    closeSync(fd);
    offset = size;
    process.stdout.write(buf);
  };
  const timer = setInterval(pump, 250);
  return () => {
    clearInterval(timer);
    pump();
  };
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(empty)';
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function profileUnderLoad(opts: ProfileOptions): Promise<ProfileResult> {
  const started = Date.now();
  const progress = opts.progress ?? true;
  const say = (msg: string) => progress && console.log(`profile: ${msg}`);
  const nodeBin = opts.nodeBin ?? process.env.LOAD_SERVICE_NODE ?? process.execPath;
  const dir = opts.outDir ?? join(PROFILES_DIR, `${opts.profiler}-${opts.scenario}-${stamp()}`);
  mkdirSync(dir, { recursive: true });
  const tools = installTools();
  ensureBuild();

  const [port, adminPort] = await freePorts(2);
  const url = `http://127.0.0.1:${port}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const loadLog = join(dir, 'load.log');
  const profilerLog = join(dir, 'profiler.log');
  const doneFile = join(dir, '.load-done');

  const driver = [
    process.execPath,
    '--import',
    'tsx',
    join(REPO_ROOT, 'load', 'profiling', 'drive.ts'),
    '--admin',
    adminUrl,
    '--done',
    doneFile,
    '--',
    opts.scenario,
    '--target',
    url,
    '--admin',
    adminUrl,
    // A profiled service is slower by design: objectives would only add noise.
    '--no-slo',
    '--out',
    join(dir, 'load'),
    ...opts.loadArgs,
  ];
  const onPort = `${shellQuote(driver)} >>${shellQuote([loadLog])} 2>&1`;
  const [script, ...args] = toolCommand(opts.profiler, tools, dir, onPort, nodeBin);

  say(`${opts.profiler} on ${nodeBin} (${display(dir)}); load: ${opts.scenario} ${opts.loadArgs.join(' ')}`.trimEnd());
  const logFd = openSync(profilerLog, 'a');
  const child: ChildProcess = spawn(process.execPath, [script as string, ...args], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      HOST: '127.0.0.1',
      ...opts.serviceEnv,
      // The tools run `node` for their analysis: the same one as the service.
      PATH: `${dirname(nodeBin)}:${process.env.PATH ?? ''}`,
      // clinic: no usage-statistics prompt (without a TTY it silently ends the run) and no update check.
      NO_INSIGHT: '1',
      NO_UPDATE_NOTIFIER: '1',
    },
    stdio: ['ignore', logFd, logFd],
    // Its own process group: a stuck tool is stopped with everything it started.
    detached: true,
  });
  closeSync(logFd);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  let exitCode: number | null | undefined;
  void exited.then((c) => {
    exitCode = c;
  });
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), sig);
    } catch {
      // already gone
    }
  };
  // Ctrl-C: stop the service and let the profiler write what it has; twice: stop everything.
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    say(interrupts === 1 ? 'interrupted: stopping the service, the report follows' : 'interrupted again: killing');
    signalGroup(interrupts === 1 ? 'SIGINT' : 'SIGKILL');
  };
  process.on('SIGINT', onSigint);
  // Terminated (CI timeout, kill): nothing of the run is kept; take its processes along.
  const onSigterm = () => {
    signalGroup('SIGKILL');
    process.exit(143);
  };
  process.once('SIGTERM', onSigterm);
  const exitHook = () => signalGroup('SIGKILL');
  process.once('exit', exitHook);
  const stopFollowing = follow(loadLog, progress);

  try {
    // 1. The load runs (the tool exits early only if something broke, or on Ctrl-C).
    while (exitCode === undefined && !existsSync(doneFile) && interrupts === 0) await sleep(250);
    const loadDone = existsSync(doneFile);
    if (exitCode !== undefined && !loadDone && interrupts === 0) {
      throw new ProfileError(
        `${opts.profiler} exited (code ${exitCode}) before the load finished\n--- ${display(profilerLog)} ---\n${tail(profilerLog)}\n--- ${display(loadLog)} ---\n${tail(loadLog)}`,
      );
    }
    // 130: interrupted before the load finished; the report covers what ran.
    const loadExitCode = loadDone ? Number(readFileSync(doneFile, 'utf8').trim()) : 130;
    if (loadDone) {
      say(`load finished (exit ${loadExitCode}); ${opts.profiler} is stopping the service and writing its report`);

      // 2. The tool stops the service. If it does not, stop the service ourselves.
      const stopDeadline = Date.now() + (opts.stopGraceS ?? 60) * 1000;
      while (exitCode === undefined && Date.now() < stopDeadline && (await answers(`${adminUrl}/livez`))) {
        await sleep(500);
      }
      if (exitCode === undefined && (await answers(`${adminUrl}/livez`))) {
        say(
          `${opts.profiler} did not stop the service within ${opts.stopGraceS ?? 60} s of the load's end: sending SIGINT`,
        );
        signalGroup('SIGINT');
      }
    }

    // 3. The tool analyses and writes its HTML.
    const analysisDeadline = Date.now() + (opts.analysisTimeoutS ?? 600) * 1000;
    while (exitCode === undefined && Date.now() < analysisDeadline) await sleep(250);
    if (exitCode === undefined) {
      signalGroup('SIGKILL');
      await exited;
      throw new ProfileError(
        `${opts.profiler} did not finish its report within ${opts.analysisTimeoutS ?? 600} s after the service stopped; killed\n--- ${display(profilerLog)} ---\n${tail(profilerLog)}`,
      );
    }
    const html = findReport(opts.profiler, dir);
    // An interrupted tool may exit non-zero after writing its report; the report is what counts then.
    if ((exitCode !== 0 && interrupts === 0) || !html) {
      throw new ProfileError(
        `${opts.profiler} failed (exit code ${exitCode}${html ? '' : ', no report'})\n--- ${display(profilerLog)} ---\n${tail(profilerLog)}`,
      );
    }
    return { html, dir, loadExitCode, log: profilerLog, seconds: Math.round((Date.now() - started) / 1000) };
  } finally {
    stopFollowing();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('exit', exitHook);
    if (exitCode === undefined) {
      signalGroup('SIGKILL');
      await exited;
    }
  }
}
