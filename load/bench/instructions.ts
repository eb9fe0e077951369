// npm run bench:instructions — instructions a request, counted by valgrind.
//
// Wall-clock benchmarks on a shared 2-vCPU VM move by a few per cent from run
// to run, which is the size of most changes left to make; an instruction count
// hardly moves. Each variant (the same ones bench:overhead knows, variants.ts)
// runs under `valgrind --tool=callgrind`, node with --perf-basic-prof so its
// JIT code has names; after a warm-up, `--requests` GETs of / over
// `--connections` keep-alive connections are counted, `--windows` times, with
// callgrind_control switching the count on and off around each window.
// Reported per variant and window: instructions a request in all threads and in
// the main thread, and process.nextTick's inclusive count a request (below).
// With --top N, the functions whose own (exclusive) count a request differs most
// from the first variant's, in the last window's main thread.
//
// Read it for A/B comparisons between builds or switches, never as time:
// instructions are not cycles (cache misses, kernel time, the other core are
// not in it). Under valgrind the process runs ~50x slower, so work driven by
// timers (the once-a-second samplers, under-pressure's sampling, the span
// processor's 5 s batches) is charged ~50x more a request, and sampled spans
// live long enough to be promoted: do not read GC costs off it. And valgrind
// has a pathology of its own: in some runs (most with tracing on) Node's
// process.nextTick calls into the runtime for its tickObject literal, ~40k
// instructions a request instead of ~3k. It never showed outside valgrind
// (README, Performance, "Counted in instructions"); the nextTick column says
// which runs it hit, and a comparison between a run with it and one without is
// meaningless.
//
//   npm run bench:instructions -- [--variants bare,notracing,periscope] [--requests 5000]
//        [--warmup 20000] [--windows 2] [--connections 20] [--top 30] [--node /path/to/node]
//
// Service variants get a config file with load shedding off (valgrind's pace
// reads as event-loop delay, and shed requests would be counted as served).
// BENCH_EXTRA_VARIANTS adds variants, as for bench:overhead.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import autocannon from 'autocannon';
import { freePort, freePorts } from '../../scripts/lib/free-port.js';
import { pollReady, REPO_ROOT } from '../lib/service.js';
import { allVariants, chooseVariants, exportsSpans, SERVERS, stopSink, type Variant } from './variants.js';

const run = promisify(execFile);

/** Load shedding off: valgrind's ~50x slowdown reads as event-loop delay. */
const NO_SHEDDING = 'shedding:\n  maxEventLoopDelayMs: 0\n  maxHeapUsedRatio: 0\n';
/** Above this, a window's nextTick took the runtime path described above. */
const SLOW_NEXT_TICK = 10_000;
const NEXT_TICK = /^nextTick node:internal\/process\/task_queues/;

interface Window {
  window: number;
  /** Instructions a request, all threads. */
  perRequest: number;
  mainThreadPerRequest: number;
  nextTickPerRequest: number;
}

/** Exactly `requests` GETs of / over `connections` keep-alive sockets (autocannon's `amount`); throws on any failure. */
async function load(port: number, requests: number, connections: number): Promise<void> {
  const r = await autocannon({ url: `http://127.0.0.1:${port}/`, connections, amount: requests });
  const failed = r.non2xx + r.errors + r.timeouts;
  if (failed || r.requests.total !== requests) {
    throw new Error(`GET / ${requests} times: ${r.requests.total} sent, ${failed} failed (non-2xx ${r.non2xx})`);
  }
}

/** JIT code names from node's --perf-basic-prof map; where an address was reused, the later code wins. */
class PerfMap {
  readonly #entries: Array<{ start: number; end: number; order: number; name: string }>;
  constructor(file: string) {
    const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
    this.#entries = lines
      .map((line, order) => {
        const [start, size, ...name] = line.split(' ');
        const s = Number.parseInt(start ?? '', 16);
        return { start: s, end: s + Number.parseInt(size ?? '', 16), order, name: name.join(' ') };
      })
      .filter((e) => Number.isFinite(e.end) && e.name)
      .sort((a, b) => a.start - b.start || a.order - b.order);
  }

  name(address: number): string | undefined {
    let lo = 0;
    let hi = this.#entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((this.#entries[mid]?.start ?? 0) <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    let best: { order: number; name: string } | undefined;
    // Overlapping entries (reused addresses) sit just before the match.
    for (let i = hi; i >= 0 && i > hi - 64; i--) {
      const e = this.#entries[i];
      if (e && address < e.end && (!best || e.order > best.order)) best = e;
    }
    return best?.name;
  }
}

/**
 * A readable name for a callgrind function: JIT addresses resolved, V8's tier
 * marks dropped, and JavaScript from the repository (the bundle, node_modules)
 * named `function (app)`, so that Fastify's routeHandler in the service's
 * bundle and in bare Fastify's node_modules compare as one function.
 */
function functionName(raw: string, map: PerfMap): string {
  const jit = raw.match(/^\?\?\?:0x([0-9a-f]+)/);
  const name = jit ? (map.name(Number.parseInt(jit[1] as string, 16)) ?? '(unnamed JIT code)') : raw;
  const short = name
    .replace(/\s*\[[^\]]*\]$/, '')
    .replace(/^\?\?\?:/, '')
    .replace(/^JS:[*~^+']*/, '');
  const app = short.match(IN_REPO);
  if (!app) return short.slice(0, 160);
  // Anonymous functions keep where they are; named ones compare across builds.
  return app[1] ? `${app[1]} (app)` : `(anonymous ${app[2]})`;
}
// REPO_ROOT ends with a slash.
const IN_REPO = new RegExp(`^(\\S*)\\s*(?:file://)?${REPO_ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\S+)$`);

/** Instructions by function (a request) in one callgrind file, inclusive or exclusive. */
async function byFunction(file: string, map: PerfMap, requests: number, inclusive: boolean) {
  const { stdout } = await run(
    'callgrind_annotate',
    ['--threshold=100', `--inclusive=${inclusive ? 'yes' : 'no'}`, file],
    {
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const out = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const m = line.match(/^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.+)$/);
    if (!m || m[2]?.includes('PROGRAM TOTALS')) continue;
    const name = functionName(m[2] as string, map);
    out.set(name, (out.get(name) ?? 0) + Number((m[1] as string).replaceAll(',', '')) / requests);
  }
  return out;
}

const totalOf = (file: string) => Number(readFileSync(file, 'utf8').match(/^totals:\s+(\d+)/m)?.[1] ?? 0);

interface Measured {
  variant: string;
  windows: Window[];
  /** The last window's main thread, exclusive instructions a request by function. */
  functions: Map<string, number>;
}

async function measure(
  node: string,
  v: Variant,
  opts: { requests: number; warmup: number; windows: number; connections: number; configFile: string },
): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), `periscope-instructions-${v.name}-`));
  const [port, adminPort] = await freePorts(2);
  // callgrind_control finds the process through files named after HOST: same env for both.
  const env = {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    PORT: String(port),
    ADMIN_PORT: String(adminPort),
    CONFIG_FILE: opts.configFile,
    ...v.env,
  };
  const proc: ChildProcess = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--separate-threads=yes',
      '--instr-atstart=no',
      // V8 writes the code it runs: valgrind must look for that everywhere but in files.
      '--smc-check=all-non-file',
      `--callgrind-out-file=${join(dir, 'cg.%p')}`,
      node,
      '--perf-basic-prof',
      ...v.args,
    ],
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr?.on('data', (c) => {
    stderr = (stderr + c).slice(-4000);
  });
  let pid = 0;
  try {
    const state = await pollReady(`http://127.0.0.1:${adminPort}`, {
      timeoutMs: 300_000,
      intervalMs: 500,
      gone: () => proc.exitCode !== null,
    });
    if (state !== 'ready') throw new Error(`${v.name} did not get ready under valgrind (${state}): ${stderr}`);
    // valgrind is a wrapper script: the process callgrind counts is the one its output file is named after.
    pid = Number(
      readdirSync(dir)
        .find((f) => /^cg\.\d+$/.test(f))
        ?.slice(3),
    );
    if (!pid) throw new Error(`${v.name}: no callgrind output in ${dir}`);
    const control = (...args: string[]) => run('callgrind_control', [...args, String(pid)], { env });
    await load(port, opts.warmup, opts.connections);
    for (let w = 1; w <= opts.windows; w++) {
      await control('--zero');
      await control('--instr=on');
      await load(port, opts.requests, opts.connections);
      await control(`--dump=window${w}`);
      await control('--instr=off');
    }
  } finally {
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    if (proc.exitCode === null) await once(proc, 'exit');
    clearTimeout(timer);
  }
  const mapFile = `/tmp/perf-${pid}.map`;
  try {
    const map = new PerfMap(mapFile);
    const windows: Window[] = [];
    let functions = new Map<string, number>();
    for (let w = 1; w <= opts.windows; w++) {
      // One file a thread: cg.<pid>.<dump>-<thread>, thread 01 the main one.
      const files = readdirSync(dir).filter((f) => f.startsWith(`cg.${pid}.${w}-`));
      const main = join(dir, `cg.${pid}.${w}-01`);
      if (!files.length || !existsSync(main)) throw new Error(`${v.name}: window ${w} was not dumped (${dir})`);
      const all = files.reduce((sum, f) => sum + totalOf(join(dir, f)), 0);
      const inclusive = await byFunction(main, map, opts.requests, true);
      const nextTick = [...inclusive].filter(([name]) => NEXT_TICK.test(name)).reduce((s, [, n]) => s + n, 0);
      windows.push({
        window: w,
        perRequest: all / opts.requests,
        mainThreadPerRequest: totalOf(main) / opts.requests,
        nextTickPerRequest: nextTick,
      });
      if (w === opts.windows) functions = await byFunction(main, map, opts.requests, false);
    }
    return { variant: v.name, windows, functions };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(mapFile, { force: true });
  }
}

const k = (n: number) => `${(n / 1000).toFixed(1)}k`;

async function main() {
  const { values } = parseArgs({
    options: {
      variants: { type: 'string', default: 'bare,notracing,periscope' },
      requests: { type: 'string', default: '5000' },
      warmup: { type: 'string', default: '20000' },
      windows: { type: 'string', default: '2' },
      connections: { type: 'string', default: '20' },
      top: { type: 'string', default: '0' },
      node: { type: 'string' },
      out: { type: 'string', default: join(REPO_ROOT, 'results', 'bench') },
    },
  });
  const opts = {
    requests: Number(values.requests),
    warmup: Number(values.warmup),
    windows: Number(values.windows),
    connections: Number(values.connections),
  };
  for (const [name, n] of Object.entries(opts)) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a whole number above 0, not ${n}`);
  }
  try {
    execFileSync('bash', [join(REPO_ROOT, 'infra/tools/install-bench.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('callgrind_control', ['--version'], { stdio: 'ignore' });
  } catch {
    console.error(
      'valgrind is missing and could not be installed: `bash infra/tools/install-bench.sh` (Debian package valgrind, needs root or sudo)',
    );
    process.exit(2);
  }
  const node =
    values.node ??
    join(execFileSync('bash', [join(REPO_ROOT, 'infra/tools/install-node24.sh')], { encoding: 'utf8' }).trim(), 'node');
  const nodeVersion = execFileSync(node, ['-v'], { encoding: 'utf8' }).trim();

  const work = mkdtempSync(join(tmpdir(), 'periscope-instructions-'));
  const configFile = join(work, 'config.yaml');
  writeFileSync(configFile, NO_SHEDDING);
  const sinkPort = await freePort();
  // No compile cache: start-up is not what this counts.
  const chosen = chooseVariants(allVariants(''), values.variants as string, `http://127.0.0.1:${sinkPort}`).map(
    (v) => ({ ...v, env: Object.fromEntries(Object.entries(v.env).filter(([key]) => key !== 'NODE_COMPILE_CACHE')) }),
  );
  const sink = chosen.some(exportsSpans)
    ? spawn(node, [join(SERVERS, 'otlp-sink.mjs')], {
        env: { PORT: String(sinkPort) },
        stdio: ['ignore', 'pipe', 'inherit'],
      })
    : undefined;
  const cleanUp = () => {
    if (sink && sink.exitCode === null) sink.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  };
  process.once('exit', cleanUp);

  console.log(
    `instructions a request under callgrind: ${nodeVersion}, GET / over ${opts.connections} keep-alive connections, ${opts.warmup} to warm up, then ${opts.windows} windows of ${opts.requests}`,
  );
  const results: Measured[] = [];
  for (const v of chosen) {
    const m = await measure(node, v, { ...opts, configFile });
    results.push(m);
    for (const w of m.windows) {
      const flag = w.nextTickPerRequest > SLOW_NEXT_TICK ? '  (nextTick on the runtime path: see the header)' : '';
      console.log(
        `  ${v.name.padEnd(12)} window ${w.window}  ${k(w.perRequest).padStart(7)} a request (main thread ${k(w.mainThreadPerRequest)}, nextTick ${k(w.nextTickPerRequest)})${flag}`,
      );
    }
  }
  const received = sink ? await stopSink(sink) : {};
  cleanUp();

  const top = Number(values.top);
  const [base, ...others] = results;
  if (top > 0 && base) {
    for (const other of others) {
      const names = new Set([...base.functions.keys(), ...other.functions.keys()]);
      const diff = [...names]
        .map((name) => ({ name, a: base.functions.get(name) ?? 0, b: other.functions.get(name) ?? 0 }))
        .sort((x, y) => y.b - y.a - (x.b - x.a));
      console.log(`\n${other.variant} against ${base.variant}, main thread, own instructions a request (last window):`);
      console.log(`  ${'more'.padStart(8)} ${base.variant.padStart(8)} ${other.variant.padStart(8)}  function`);
      for (const d of diff.slice(0, top)) {
        console.log(
          `  ${(d.b - d.a).toFixed(0).padStart(8)} ${d.a.toFixed(0).padStart(8)} ${d.b.toFixed(0).padStart(8)}  ${d.name}`,
        );
      }
    }
  }
  if (Object.keys(received).length) {
    console.log(
      `\nspans received by the OTLP sink: ${Object.entries(received)
        .map(([n, r]) => `${n} ${r.batches} batches`)
        .join(', ')}`,
    );
  }
  mkdirSync(values.out as string, { recursive: true });
  const file = join(values.out as string, `instructions-${new Date().toISOString().replaceAll(':', '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        node: nodeVersion,
        ...opts,
        results: results.map((r) => ({
          variant: r.variant,
          windows: r.windows,
          functions: Object.fromEntries([...r.functions].filter(([, n]) => n >= 1).sort((a, b) => b[1] - a[1])),
        })),
        received,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nraw results: ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
