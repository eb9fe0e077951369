// npm run bench:overhead — what observability costs, measured.
//
// Compares, in one run on one machine, alternating variant by variant:
//   bare        bare Fastify 5 with the same hello route, nothing else
//   periscope   the service's default production profile (metrics, tracing at
//               the default 10% with OTLP export, trace-correlated logs,
//               ACCESS_LOG=errors)
//   sampled100  the same with every request sampled and exported
//   tutorial    NodeSDK + getNodeAutoInstrumentations (the usual setup)
// plus any extra variants named with --variants (see VARIANTS below).
//
// The server is pinned to CPU 0 and wrk (1 thread) to CPU 1, as in DESIGN.md.
// Reported per variant: req/s, p99 latency, RSS after the run, idle RSS,
// exec → ready time; and ratios to bare, paired within each round (the median
// of the rounds' ratios). A benchmark reports; it asserts nothing.
//
//   npm run bench:overhead -- [--rounds 3] [--duration 8] [--connections 100]
//                             [--starts 7] [--variants bare,periscope,...] [--node /path/to/node]
//                             [--together] [--pace-ms 5]
//
// --together: every variant is loaded at the same time instead of in turn,
// each by its own wrk (all on CPU 1), so the variants share CPU 0 and whatever
// the host does to it. Their throughputs then divide one core between them,
// and the ratios measure CPU a request against CPU a request — steadier on a
// shared host than taking turns, whose rounds the host's speed drifts through.
// (What it does not give: each variant's throughput with a core to itself.)
//
// --pace-ms N: each wrk connection waits N ms after every response before its
// next request (a wrk script's delay()), so every variant is offered the same
// load, about connections × 1000 / N requests a second, below saturation, and
// the figure to read is CPU a request at equal load: the cost of a pod serving
// a given traffic, with no closed loop speeding up or slowing down with the
// server (a saturated loop has bare Fastify outrun its one-core generator, and
// a slower server leaves the generator idle, which changes what each response
// costs the kernel to deliver). Ratios of req/s then mean nothing; a variant
// that could not keep up is named.
//
// Each exporting variant sends its spans to its own path on one OTLP sink
// (load/bench/servers/otlp-sink.mjs); what arrived is printed per variant, and
// a variant meant to export that sent nothing is named: its figures would
// leave out the export. (load/test/overhead-bench.e2e.test.ts runs one short
// round in CI.)
//
// exec → ready is the median of --starts separate cold starts per variant
// (interleaved, nothing else running): one start is too noisy to report.
// The service variants start with a compile cache filled first by
// scripts/warm-compile-cache.mjs, as the image does (Dockerfile); the same
// starts without it are reported too (`periscope-nocache`).
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { freePort, freePorts } from '../../scripts/lib/free-port.js';
import { pollReady, REPO_ROOT } from '../lib/service.js';
import {
  allVariants,
  chooseVariants,
  exportsSpans,
  REFERENCE_FLAGS,
  SERVERS,
  stopSink,
  type Variant,
} from './variants.js';

const NO_COMPILE_CACHE = 'periscope-nocache';

/** CPU time a process has used, in microseconds: in user space, and in the kernel on its behalf. */
interface CpuTime {
  user: number;
  system: number;
}
function cpuMicros(pid: number): CpuTime {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime (fields 14 and 15 of stat)
  return { user: (Number(fields[11]) / CLOCK_TICKS) * 1e6, system: (Number(fields[12]) / CLOCK_TICKS) * 1e6 };
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function rssKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0);
}

const pin = (cpu: number, cmd: string, args: string[]) =>
  cpus().length >= 2 ? { cmd: 'taskset', args: ['-c', String(cpu), cmd, ...args] } : { cmd, args };

interface Started {
  proc: ChildProcess;
  readyMs: number;
  port: number;
}

async function startServer(node: string, v: Variant): Promise<Started> {
  const [port, adminPort] = await freePorts(2);
  const { cmd, args } = pin(0, node, v.args);
  const t0 = performance.now();
  const proc = spawn(cmd, args, {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      ...v.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (c) => {
    stderr += c;
  });
  // Polled every 5 ms: the wait is part of what is measured.
  const state = await pollReady(`http://127.0.0.1:${adminPort}`, {
    timeoutMs: 20_000,
    intervalMs: 5,
    gone: () => proc.exitCode !== null,
  });
  if (state === 'gone') throw new Error(`${v.name} exited (${proc.exitCode}): ${stderr}`);
  if (state === 'timeout') throw new Error(`${v.name} not ready after 20 s: ${stderr}`);
  return { proc, readyMs: performance.now() - t0, port };
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  await once(proc, 'exit');
  clearTimeout(timer);
}

function toMs(v: string): number {
  const m = v.match(/^([\d.]+)(us|ms|s)$/);
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

interface LoadResult {
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Not blocking: --together runs one per variant at once. */
async function wrk(url: string, seconds: number, connections: number, script?: string): Promise<LoadResult> {
  const { cmd, args } = pin(1, 'wrk', [
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    ...(script ? ['-s', script] : []),
    url,
  ]);
  const { stdout: out } = await promisify(execFile)(cmd, args, { encoding: 'utf8' });
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]);
  const requests = Number(out.match(/(\d+) requests in/)?.[1]);
  const p50 = toMs(out.match(/^\s+50%\s+(\S+)/m)?.[1] ?? '');
  const p99 = toMs(out.match(/^\s+99%\s+(\S+)/m)?.[1] ?? '');
  const non2xx = Number(out.match(/Non-2xx or 3xx responses:\s+(\d+)/)?.[1] ?? 0);
  const sockErr = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const errors = non2xx + (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { rps, p50, p99, errors, requests };
}

interface Sample extends LoadResult {
  variant: string;
  /** Server CPU time per request: steadier than req/s when the machine is shared. */
  cpuUsPerReq: number;
  /**
   * The same split: user space (the JavaScript, V8, Node's own code) and the
   * kernel (socket reads and writes, waking the client, page faults). A
   * variant that adds JavaScript work also pays more in the kernel here
   * (README, Performance: "A slower server pays more for each write").
   */
  userUsPerReq: number;
  systemUsPerReq: number;
  round: number;
  idleRssMb: number;
  rssMb: number;
  peakRssMb: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '100' },
      starts: { type: 'string', default: '7' },
      together: { type: 'boolean', default: false },
      'pace-ms': { type: 'string', default: '0' },
      variants: { type: 'string', default: 'bare,periscope,sampled100,tutorial' },
      node: { type: 'string' },
      out: { type: 'string', default: join(REPO_ROOT, 'results', 'bench') },
    },
  });
  // wrk comes from Debian's packages; the project's installer adds it when missing.
  try {
    execFileSync('bash', [join(REPO_ROOT, 'infra/tools/install-bench.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    console.error(
      'wrk is missing and could not be installed: `bash infra/tools/install-bench.sh` (Debian package wrk, needs root or sudo)',
    );
    process.exit(2);
  }
  const node =
    values.node ??
    (() => {
      try {
        return join(
          execFileSync('bash', [join(REPO_ROOT, 'infra/tools/install-node24.sh')], { encoding: 'utf8' }).trim(),
          'node',
        );
      } catch {
        return process.execPath;
      }
    })();
  const nodeVersion = execFileSync(node, ['-v'], { encoding: 'utf8' }).trim();
  const rounds = Number(values.rounds);
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const together = values.together === true;
  const paceMs = Number(values['pace-ms']);
  if (!Number.isInteger(paceMs) || paceMs < 0)
    throw new Error(`--pace-ms takes whole milliseconds (wrk's delay()), not ${values['pace-ms']}`);

  const samples: Sample[] = [];
  const sinkPort = await freePort();
  const sinkCmd = pin(1, node, [join(SERVERS, 'otlp-sink.mjs')]);
  const sink = spawn(sinkCmd.cmd, sinkCmd.args, {
    env: { PORT: String(sinkPort) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // The image's compile cache (Dockerfile), filled the way the image build fills it.
  const compileCache = mkdtempSync(join(tmpdir(), 'periscope-bench-compile-cache-'));
  // --pace-ms: wrk calls the script's delay() before each request a connection sends after its first.
  const paceDir = paceMs > 0 ? mkdtempSync(join(tmpdir(), 'periscope-bench-pace-')) : undefined;
  const paceScript = paceDir && join(paceDir, 'pace.lua');
  if (paceScript) writeFileSync(paceScript, `function delay() return ${paceMs} end\n`);
  const cleanUp = () => {
    if (sink.exitCode === null) sink.kill('SIGTERM');
    rmSync(compileCache, { recursive: true, force: true });
    if (paceDir) rmSync(paceDir, { recursive: true, force: true });
  };
  // Also when a variant fails to start and main's catch exits the process.
  process.once('exit', cleanUp);
  execFileSync(node, [join(REPO_ROOT, 'scripts/warm-compile-cache.mjs'), compileCache], { stdio: 'ignore' });
  const chosen = chooseVariants(allVariants(compileCache), values.variants as string, `http://127.0.0.1:${sinkPort}`);

  console.log(
    `overhead benchmark: ${nodeVersion}, servers on CPU 0, wrk -t1 -c${connections} -d${duration}s on CPU 1, ${rounds} rounds, GET /, ${together ? 'variants loaded together (sharing CPU 0)' : 'variants loaded in turn'}, bare and tutorial with ${REFERENCE_FLAGS.join(' ')}${paceMs ? `, paced: ${paceMs} ms between a connection's requests (~${Math.round((connections * 1000) / paceMs)} req/s offered)` : ''}`,
  );
  const startVariants = [...chosen];
  const periscope = chosen.find((v) => v.name === 'periscope');
  if (periscope) {
    const { NODE_COMPILE_CACHE: _, ...env } = periscope.env;
    startVariants.push({ ...periscope, name: NO_COMPILE_CACHE, env });
  }

  // Cold starts first, one variant after another, while nothing else runs.
  const readyByVariant = new Map<string, number[]>(startVariants.map((v) => [v.name, []]));
  for (let i = 0; i < Number(values.starts); i++) {
    for (const v of startVariants) {
      const s = await startServer(node, v);
      readyByVariant.get(v.name)?.push(s.readyMs);
      await stop(s.proc);
    }
  }
  const readyMs = (name: string) => median(readyByVariant.get(name) ?? []);
  console.log(
    `exec → ready, median of ${values.starts} starts: ${startVariants.map((v) => `${v.name} ${readyMs(v.name).toFixed(0)} ms`).join(', ')}`,
  );

  // All variants run side by side on CPU 0 (an idle server costs nothing) and
  // take turns under load, round after round: background noise on a shared
  // machine then lands on every variant alike instead of on whichever ran last.
  const started: Array<{ v: Variant; s: Started; idleRssMb: number }> = [];
  try {
    for (const v of chosen) {
      const s = await startServer(node, v);
      started.push({ v, s, idleRssMb: 0 });
    }
    await new Promise((r) => setTimeout(r, 1000));
    for (const entry of started) {
      entry.idleRssMb = rssKb(entry.s.proc.pid as number, 'VmRSS') / 1024;
      await wrk(`http://127.0.0.1:${entry.s.port}/`, Number(values.warmup), connections);
    }
    const record = (round: number, entry: (typeof started)[number], r: LoadResult, cpu0: CpuTime) => {
      const pid = entry.s.proc.pid as number;
      const cpu1 = cpuMicros(pid);
      const userUsPerReq = (cpu1.user - cpu0.user) / r.requests;
      const systemUsPerReq = (cpu1.system - cpu0.system) / r.requests;
      const cpuUsPerReq = userUsPerReq + systemUsPerReq;
      samples.push({
        ...r,
        variant: entry.v.name,
        round,
        cpuUsPerReq,
        userUsPerReq,
        systemUsPerReq,
        idleRssMb: entry.idleRssMb,
        rssMb: rssKb(pid, 'VmRSS') / 1024,
        peakRssMb: rssKb(pid, 'VmHWM') / 1024,
      });
      console.log(
        `  round ${round} ${entry.v.name.padEnd(11)} ${r.rps.toFixed(0).padStart(7)} req/s  ${cpuUsPerReq.toFixed(1)} µs CPU/req (${userUsPerReq.toFixed(1)} user + ${systemUsPerReq.toFixed(1)} kernel)  p99 ${r.p99.toFixed(2)} ms${r.errors ? `  errors ${r.errors}` : ''}`,
      );
    };
    for (let round = 1; round <= rounds; round++) {
      if (together) {
        const cpu0 = started.map((e) => cpuMicros(e.s.proc.pid as number));
        const results = await Promise.all(
          started.map((e) => wrk(`http://127.0.0.1:${e.s.port}/`, duration, connections, paceScript)),
        );
        for (const [i, e] of started.entries()) record(round, e, results[i] as LoadResult, cpu0[i] as CpuTime);
        continue;
      }
      // Every other round in reverse order, so drift within a round does not
      // always favour the variants that run first.
      for (const entry of round % 2 ? started : [...started].reverse()) {
        const cpu0 = cpuMicros(entry.s.proc.pid as number);
        record(round, entry, await wrk(`http://127.0.0.1:${entry.s.port}/`, duration, connections, paceScript), cpu0);
      }
    }
  } finally {
    await Promise.all(started.map(({ s }) => stop(s.proc)));
  }
  // After the servers stopped: they flush their last spans on the way out.
  const received = await stopSink(sink);
  cleanUp();

  // Ratios are paired: each variant against the reference (bare, tutorial)
  // in the same round, then the median over rounds. The host's speed drifts
  // between rounds by more than the differences measured; within a round it
  // moves far less.
  const sampleOf = (variant: string, round: number) => samples.find((s) => s.variant === variant && s.round === round);
  const pairedRatio = (variant: string, reference: string, of: (s: Sample) => number) => {
    const ratios: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const a = sampleOf(variant, round);
      const b = sampleOf(reference, round);
      if (a && b) ratios.push(of(a) / of(b));
    }
    return ratios.length ? median(ratios) : Number.NaN;
  };
  const rows = chosen.map((v) => {
    const mine = samples.filter((s) => s.variant === v.name);
    const rps = median(mine.map((s) => s.rps));
    return {
      variant: v.name,
      describe: v.describe,
      // What the variant ran (after `node`): the service as deployed, the references with REFERENCE_FLAGS.
      args: v.args,
      rps,
      rpsMin: Math.min(...mine.map((s) => s.rps)),
      rpsMax: Math.max(...mine.map((s) => s.rps)),
      ratio: pairedRatio(v.name, 'bare', (s) => s.rps),
      cpuUsPerReq: median(mine.map((s) => s.cpuUsPerReq)),
      userUsPerReq: median(mine.map((s) => s.userUsPerReq)),
      systemUsPerReq: median(mine.map((s) => s.systemUsPerReq)),
      // bare's CPU per request over this variant's: 1 = costs what bare costs.
      cpuRatio: pairedRatio('bare', v.name, (s) => s.cpuUsPerReq),
      p99: median(mine.map((s) => s.p99)),
      readyMs: readyMs(v.name),
      idleRssMb: median(mine.map((s) => s.idleRssMb)),
      rssMb: median(mine.map((s) => s.rssMb)),
      errors: mine.reduce((a, s) => a + s.errors, 0),
      exportBatches: received[v.name]?.batches ?? 0,
      exportBytes: received[v.name]?.bytes ?? 0,
    };
  });
  // A variant meant to export that sent nothing measured a service that does
  // not pay for its export (a broken endpoint, say): its figures mean little.
  const silent = chosen.filter((v) => exportsSpans(v) && !received[v.name]?.batches).map((v) => v.name);
  const tutorial = rows.find((r) => r.variant === 'tutorial');
  const lines = [
    `| variant | what | req/s (median, min–max) | ratio to bare | CPU µs/req | user + kernel µs/req | CPU ratio | p99 ms | exec → ready ms | idle RSS MB | RSS after load MB |`,
    `| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`,
    ...rows.map(
      (r) =>
        `| ${r.variant} | ${r.describe} | ${r.rps.toFixed(0)} (${r.rpsMin.toFixed(0)}–${r.rpsMax.toFixed(0)}) | ${r.ratio.toFixed(2)} | ${r.cpuUsPerReq.toFixed(1)} | ${r.userUsPerReq.toFixed(1)} + ${r.systemUsPerReq.toFixed(1)} | ${r.cpuRatio.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.readyMs.toFixed(0)} | ${r.idleRssMb.toFixed(0)} | ${r.rssMb.toFixed(0)} |`,
    ),
  ];
  if (rows.some((r) => r.variant === 'periscope') && tutorial)
    lines.push(
      '',
      paceMs
        ? `tutorial / periscope CPU a request (paired by round): ${pairedRatio('tutorial', 'periscope', (s) => s.cpuUsPerReq).toFixed(2)}×`
        : `periscope / tutorial throughput (paired by round): ${pairedRatio('periscope', 'tutorial', (s) => s.rps).toFixed(2)}×`,
    );
  if (paceMs) {
    // Paced, every variant should deliver what bare does; one that falls short
    // was saturated, and its CPU a request is a saturated figure.
    const behind = rows.filter((r) => r.variant !== 'bare' && r.ratio < 0.95);
    lines.push(
      '',
      `paced: read the CPU columns (req/s is the offered load). ${behind.length ? `Did not keep up with the offered load (median < 0.95 of bare's req/s): ${behind.map((r) => r.variant).join(', ')}.` : 'Every variant kept up with the offered load.'}`,
    );
  }
  const exporting = rows.filter((r) => r.exportBatches > 0);
  if (exporting.length)
    lines.push(
      '',
      `spans received by the OTLP sink: ${exporting.map((r) => `${r.variant} ${r.exportBatches} batches (${(r.exportBytes / 1e6).toFixed(1)} MB)`).join(', ')}`,
    );
  if (silent.length)
    lines.push(
      '',
      `WARNING: exported no spans to the sink, so their figures leave out the export: ${silent.join(', ')}`,
    );
  console.log(`\n${lines.join('\n')}`);

  mkdirSync(values.out as string, { recursive: true });
  const file = join(values.out as string, `overhead-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        node: nodeVersion,
        rounds,
        duration,
        connections,
        together,
        paceMs,
        cpus: cpus().length,
        readyMsByStart: Object.fromEntries(readyByVariant),
        samples,
        rows,
      },
      null,
      2,
    ),
  );
  console.log(`\nraw results: ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
