// What the live-profiling hooks cost, measured:
//
//   npx tsx load/profiling/overhead.ts [--rounds 5] [--duration 15] [--connections 100] [--node PATH]
//
// Conditions, each under the same fixed load (steady scenario from load/: N
// keep-alive connections on GET /, closed loop, warm-up excluded), service
// pinned to CPU 0 and the load generator to CPU 1 when the machine has two:
//   disabled       PROFILING_ENABLED unset (the default)
//   enabled-idle   PROFILING_ENABLED=true, no profile running
//   cpu-profile    the same process while /debug/pprof/profile samples the whole run
//   heap-profile   the same process while /debug/pprof/heap samples the whole run
// Rounds interleave the conditions (rotating their order) so drift on a shared
// machine spreads over all of them; the summary gives median and range.
// Besides req/s and p99 (which a shared machine makes noisy), it reports the
// service's CPU time per request (/proc, all threads): the profiler's cost shows
// there even when neighbours steal cycles.
// Writes profiles/overhead-<time>/overhead.json and prints a Markdown table.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runScenario } from '../lib/run.js';
import { type ServiceHandle, startService } from '../lib/service.js';
import { display, PROFILES_DIR, stamp } from './lib/paths.js';

type Condition = 'disabled' | 'enabled-idle' | 'cpu-profile' | 'heap-profile';
const CONDITIONS: Condition[] = ['disabled', 'enabled-idle', 'cpu-profile', 'heap-profile'];
const TOKEN = 'overhead-benchmark-token-0123456789';
const WARMUP_S = 5; // the steady scenario's warm-up

interface Sample {
  condition: Condition;
  round: number;
  rps: number;
  p50: number;
  p99: number;
  failures: number;
  /** Service CPU time (user+system, all threads, the sampler's included) per request, µs. */
  cpuUsPerRequest: number;
  /** RSS of this sample's process right after start-up (ready, no traffic yet), MB: the idle memory cost. */
  startRssMB: number;
  /** 1-minute load average after the run (2 = both cores busy with this benchmark alone). */
  loadAvg1: number;
}

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '100' },
    node: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const durationS = Number(values.duration);
const connections = Number(values.connections);
if (durationS + WARMUP_S + 2 > 60)
  throw new Error('--duration: a profile covers warm-up + duration and is at most 60 s');
const nodeBin = values.node ?? process.env.LOAD_SERVICE_NODE ?? process.execPath;
const outDir = join(PROFILES_DIR, `overhead-${stamp()}`);
mkdirSync(outDir, { recursive: true });

async function measure(svc: ServiceHandle, condition: Condition, round: number): Promise<Sample> {
  let profiling: Promise<Response> | undefined;
  if (condition === 'cpu-profile' || condition === 'heap-profile') {
    const path = condition === 'cpu-profile' ? 'profile' : 'heap';
    // Covers the warm-up and the measured window.
    profiling = fetch(`${svc.adminUrl}/debug/pprof/${path}?seconds=${WARMUP_S + durationS + 2}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
  }
  const cpuBefore = svc.cpuSeconds();
  const { result } = await runScenario('steady', {
    target: svc.url,
    adminUrl: null,
    durationS,
    connections,
    sloFile: null,
    generatorCpus: '1',
    progress: false,
    outDir: join(outDir, `${round}-${condition}`),
  });
  // Read before the profile ends: its encoding, after the load, is not the sampling cost.
  const cpuAfter = svc.cpuSeconds();
  if (cpuBefore === null || cpuAfter === null) throw new Error('cannot read the service CPU time (/proc)');
  const requests = result.phases.reduce((n, ph) => n + ph.autocannon.requests, 0);
  if (profiling) {
    const res = await profiling;
    if (res.status !== 200) throw new Error(`${condition}: the profile request answered ${res.status}`);
    await res.arrayBuffer();
  }
  const p = result.summary;
  return {
    condition,
    round,
    rps: p.rps,
    p50: p.latencyMs.p50,
    p99: p.latencyMs.p99,
    failures: p.failures,
    cpuUsPerRequest: ((cpuAfter - cpuBefore) * 1e6) / requests,
    loadAvg1: result.environment.loadAvgAfter[0] ?? Number.NaN,
    startRssMB: startRss.get(svc.pid) ?? Number.NaN,
  };
}

const startRss = new Map<number, number>();
async function start(env: Record<string, string>): Promise<ServiceHandle> {
  const svc = await startService({
    nodeBin,
    env: { ACCESS_LOG: 'off', LOG_LEVEL: 'warn', ...env },
    prefix: ['taskset', '-c', '0'],
  });
  // taskset execs node: the pid is the service's.
  const line = readFileSync(`/proc/${svc.pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  startRss.set(svc.pid, line ? Number(line[1]) / 1024 : Number.NaN);
  return svc;
}

// Interrupted: exit through 'exit', where load/lib/service.ts stops the services it started.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

const samples: Sample[] = [];
for (let round = 1; round <= rounds; round++) {
  const order = [...CONDITIONS.slice(round % 4), ...CONDITIONS.slice(0, round % 4)];
  // One process for the enabled conditions (same JIT state, heap, sockets), another for disabled.
  let enabled: ServiceHandle | undefined;
  for (const condition of order) {
    let svc: ServiceHandle;
    if (condition === 'disabled') svc = await start({});
    else {
      enabled ??= await start({ PROFILING_ENABLED: 'true', PROFILING_TOKEN: TOKEN });
      svc = enabled;
    }
    const s = await measure(svc, condition, round);
    samples.push(s);
    console.log(
      `round ${round} ${condition.padEnd(13)} ${Math.round(s.rps).toLocaleString('en').padStart(7)} req/s  p99 ${s.p99.toFixed(2)} ms  CPU ${s.cpuUsPerRequest.toFixed(1)} µs/req  load ${s.loadAvg1.toFixed(1)}`,
    );
    if (condition === 'disabled') await svc.stop();
  }
  await enabled?.stop();
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const base = median(samples.filter((s) => s.condition === 'disabled').map((s) => s.rps));
const rows = CONDITIONS.map((c) => {
  const of = samples.filter((s) => s.condition === c);
  const rps = of.map((s) => s.rps);
  const p99 = of.map((s) => s.p99);
  const cpu = of.map((s) => s.cpuUsPerRequest);
  return {
    condition: c,
    rpsMedian: median(rps),
    rpsMin: Math.min(...rps),
    rpsMax: Math.max(...rps),
    ratio: median(rps) / base,
    p99Median: median(p99),
    p99Min: Math.min(...p99),
    p99Max: Math.max(...p99),
    startRssMB: median(of.map((s) => s.startRssMB)),
    cpuMedian: median(cpu),
    cpuMin: Math.min(...cpu),
    cpuMax: Math.max(...cpu),
    failures: of.reduce((n, s) => n + s.failures, 0),
  };
});
const baseCpu = rows[0]?.cpuMedian ?? Number.NaN;
const file = join(outDir, 'overhead.json');
writeFileSync(
  file,
  JSON.stringify({ nodeBin, rounds, durationS, connections, route: 'GET /', samples, summary: rows }, null, 2),
);
const k = (n: number) => Math.round(n).toLocaleString('en');
console.log(
  '\n| condition | service CPU µs/request, median (min–max) | vs disabled | req/s, median (min–max) | vs disabled | p99 ms, median (min–max) | RSS after start-up, MB |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.condition} | ${r.cpuMedian.toFixed(1)} (${r.cpuMin.toFixed(1)}–${r.cpuMax.toFixed(1)}) | ${(r.cpuMedian / baseCpu).toFixed(3)} | ${k(r.rpsMedian)} (${k(r.rpsMin)}–${k(r.rpsMax)}) | ${r.ratio.toFixed(3)} | ${r.p99Median.toFixed(2)} (${r.p99Min.toFixed(2)}–${r.p99Max.toFixed(2)}) | ${r.startRssMB.toFixed(1)} |`,
  );
}
// Paired: the same process, the same round, with and without a profile running.
// Drift between rounds cancels out; what is left is the profiler (and noise within a round).
for (const c of ['cpu-profile', 'heap-profile'] as const) {
  const ratios = (metric: 'cpuUsPerRequest' | 'rps' | 'p99') =>
    samples
      .filter((s) => s.condition === c)
      .map((s) => {
        const idle = samples.find((x) => x.round === s.round && x.condition === 'enabled-idle');
        return idle ? s[metric] / idle[metric] : Number.NaN;
      });
  const line = (metric: 'cpuUsPerRequest' | 'rps' | 'p99', label: string) => {
    const r = ratios(metric);
    return `${label} ×${median(r).toFixed(2)} (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})`;
  };
  console.log(
    `${c} vs enabled-idle, same process, per round: ${line('cpuUsPerRequest', 'CPU/request')}, ${line('rps', 'req/s')}, ${line('p99', 'p99')}`,
  );
}
const loads = samples.map((s) => s.loadAvg1);
console.log(
  `\nMachine load average (1 min) after the runs: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (the benchmark alone keeps it near 2).`,
);
console.log(`${rounds} rounds × ${durationS} s, ${connections} connections, GET /; raw: ${display(file)}`);
