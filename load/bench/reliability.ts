// npm run bench:reliability — how the service behaves when things go wrong.
//
// 1. Overload: the capacity of GET /api/report?rows=2000 (a few ms of
//    JavaScript per request) is measured closed-loop; then an open-loop client
//    sends 3× that for 15 s. Reported: the accepted requests' p50/p99, the share
//    shed (503 + Retry-After), peak RSS, and the seconds until the service
//    answers normally again after the load stops.
// 2. SIGTERM under load: two instances behind a client-side balancer that, like
//    kube-proxy, stops sending to an instance once its /readyz fails (probed
//    every 200 ms). One instance gets SIGTERM mid-run. Reported: failed requests
//    for a client that honours `Connection: close` (undici does), and for one
//    that also retries once on 503 or a connection error.
//
// Server on CPU 0, this generator on CPU 1, Node 24 for the service.
//   npm run bench:reliability -- [--node /path/to/node] [--overload 3] [--seconds 15]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePorts } from '../../scripts/lib/free-port.js';
import { productionArgs } from '../../scripts/lib/production-command.js';
import { REPO_ROOT } from '../lib/service.js';
import { closePools, type Outcome, openLoop, percentile } from './open-loop.js';

const ROUTE = '/api/report?rows=2000';
// The overload's client connections: enough that requests wait at the server, not in the client.
const OVERLOAD_CONNECTIONS = 1024;

interface Instance {
  proc: ChildProcess;
  origin: string;
  admin: string;
  logs: string[];
}

async function start(node: string, env: Record<string, string> = {}): Promise<Instance> {
  const [port, adminPort] = await freePorts(2);
  // What `npm start` and the image run.
  const args = productionArgs();
  const cmd = cpus().length >= 2 ? 'taskset' : node;
  const proc = spawn(cmd, cpus().length >= 2 ? ['-c', '0', node, ...args] : args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ADMIN_PORT: String(adminPort), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: string[] = [];
  proc.stdout?.setEncoding('utf8').on('data', (c: string) => logs.push(...c.split('\n').filter(Boolean)));
  const admin = `http://127.0.0.1:${adminPort}`;
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`service exited ${proc.exitCode}`);
    if (
      await fetch(`${admin}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, origin: `http://127.0.0.1:${port}`, admin, logs };
}

async function stop(i: Instance, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (i.proc.exitCode !== null) return i.proc.exitCode;
  i.proc.kill(signal);
  const [code] = (await once(i.proc, 'exit')) as [number | null];
  return code;
}

interface RouteSnapshot {
  /** Cumulative bucket counts of the service's own latency histogram for 200s of the route. */
  buckets: Array<[number, number]>;
  /** Requests the service has answered on the route, any status (the histogram's counts). */
  answered: number;
}

/** One scrape of the service's own histogram for the overload route. */
async function routeSnapshot(admin: string): Promise<RouteSnapshot> {
  const m = await (await fetch(`${admin}/metrics`)).text();
  const buckets =
    /^http_server_request_duration_seconds_bucket\{http_request_method="GET",http_route="\/api\/report",http_response_status_code="200",le="([^"]+)"\} (\S+)$/gm;
  const counts = /^http_server_request_duration_seconds_count\{[^}]*http_route="\/api\/report"[^}]*\} (\S+)$/gm;
  return {
    buckets: [...m.matchAll(buckets)].map((x) => [
      x[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(x[1]),
      Number(x[2]),
    ]),
    answered: [...m.matchAll(counts)].reduce((sum, x) => sum + Number(x[1]), 0),
  };
}

/** histogram_quantile() over the difference of two bucket snapshots (ms). */
function serverQuantile(before: Array<[number, number]>, after: Array<[number, number]>, q: number): number {
  const delta = after.map(([le, c], i) => [le, c - (before[i]?.[1] ?? 0)] as [number, number]);
  const total = delta.at(-1)?.[1] ?? 0;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of delta) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe * 1000;
      return (prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, count - prevCount)) * 1000;
    }
    prevLe = le;
    prevCount = count;
  }
  return Number.NaN;
}

function countBy(keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const k of keys) counts[k] = (counts[k] ?? 0) + 1;
  return counts;
}

const peakRssMb = (pid: number) =>
  Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) / 1024;

function summarize(outcomes: Outcome[]) {
  const ok = outcomes
    .filter((o) => o.status !== undefined && o.status < 400)
    .map((o) => o.latencyMs)
    .sort((a, b) => a - b);
  const shed = outcomes.filter((o) => o.status === 503).length;
  const failed = outcomes.filter((o) => o.status === undefined || (o.status >= 400 && o.status !== 503)).length;
  return {
    sent: outcomes.length,
    ok: ok.length,
    shed,
    failed,
    shedShare: outcomes.length ? shed / outcomes.length : 0,
    p50: percentile(ok, 0.5),
    p99: percentile(ok, 0.99),
  };
}

/** Highest sustained rate: closed-loop with 32 connections for `seconds`. */
async function capacity(origin: string, seconds: number): Promise<{ rps: number; p50: number }> {
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        const res = await fetch(`${origin}${ROUTE}`);
        await res.arrayBuffer();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const sorted = latencies.sort((a, b) => a - b);
  // the single-request latency (no queueing) is the recovery baseline
  const single: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await (await fetch(`${origin}${ROUTE}`)).arrayBuffer();
    single.push(performance.now() - t);
  }
  return {
    rps: sorted.length / seconds,
    p50: percentile(
      single.sort((a, b) => a - b),
      0.5,
    ),
  };
}

async function overload(node: string, factor: number, seconds: number) {
  const svc = await start(node, { LOG_LEVEL: 'warn' });
  try {
    const cap = await capacity(svc.origin, 8);
    console.log(`capacity of GET ${ROUTE}: ${cap.rps.toFixed(0)} req/s (unloaded p50 ${cap.p50.toFixed(1)} ms)`);
    const rate = Math.round(cap.rps * factor);
    console.log(`overload: ${rate} req/s (${factor}×) open-loop for ${seconds} s ...`);
    const origin = svc.origin;
    // What the server saw, once a second: event-loop delay and utilization,
    // and whether admission control held connections (and at what limit).
    const seen: Array<{ lagMeanMs: number; elu: number; held: number; limit: number }> = [];
    const sampler = setInterval(async () => {
      const m = await fetch(`${svc.admin}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      const g = (name: string) => Number(m.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1]);
      seen.push({
        lagMeanMs: g('nodejs_eventloop_lag_mean_seconds') * 1000,
        elu: g('nodejs_eventloop_utilization_ratio'),
        held: g('http_server_held_connections'),
        limit: g('http_server_admission_limit'),
      });
    }, 1000);
    const before = await routeSnapshot(svc.admin);
    const loadStart = performance.now();
    const outcomes = await openLoop({
      rate,
      durationMs: seconds * 1000,
      connectionsPerOrigin: OVERLOAD_CONNECTIONS,
      pick: () => ({ origin, path: ROUTE }),
    });
    clearInterval(sampler);
    // The schedule ends after `seconds`; the last answer can come much later
    // when requests queue (in the service's sockets, or in this client's pool
    // waiting for a connection), so the run's real length is reported too.
    const lastAnswerSeconds = (performance.now() - loadStart) / 1000;
    const after = await routeSnapshot(svc.admin);
    const stoppedAt = performance.now();
    // Recovery: five normal answers in a row (200, under 3× the unloaded p50).
    let streak = 0;
    let recoveredMs = Number.NaN;
    while (performance.now() - stoppedAt < 60_000) {
      const t = performance.now();
      const res = await fetch(`${svc.origin}${ROUTE}`);
      await res.arrayBuffer();
      const ms = performance.now() - t;
      streak = res.status === 200 && ms < 3 * cap.p50 ? streak + 1 : 0;
      if (streak === 5) {
        recoveredMs = performance.now() - stoppedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const metrics = await (await fetch(`${svc.admin}/metrics`)).text();
    const shedCounted = [...metrics.matchAll(/^http_server_shed_requests_total\{reason="(\w+)"\} (\d+)/gm)]
      .filter((m) => m[2] !== '0')
      .map((m) => `${m[1]}=${m[2]}`);
    // Each start of shedding is logged once (resilience/load-shedding.ts).
    const shedEpisodes = svc.logs.filter((l) => l.includes('"load shedding started')).length;
    const lags = seen
      .map((x) => x.lagMeanMs)
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    return {
      capacityRps: cap.rps,
      unloadedP50Ms: cap.p50,
      offeredRps: rate,
      ...summarize(outcomes),
      clientErrors: countBy(outcomes.filter((o) => o.error).map((o) => o.error as string)),
      reachedService: after.answered - before.answered,
      lastAnswerSeconds,
      shedEpisodes,
      shedReasons: shedCounted,
      serverP50Ms: serverQuantile(before.buckets, after.buckets, 0.5),
      serverP99Ms: serverQuantile(before.buckets, after.buckets, 0.99),
      maxEventLoopLagMeanMs: lags.at(-1) ?? Number.NaN,
      // The steady state, which the worst (often the first seconds) hides.
      medianEventLoopLagMeanMs: percentile(lags, 0.5),
      maxElu: Math.max(...seen.map((x) => x.elu).filter(Number.isFinite)),
      maxHeldConnections: Math.max(0, ...seen.map((x) => x.held).filter(Number.isFinite)),
      minAdmissionLimit: Math.min(...seen.map((x) => x.limit).filter(Number.isFinite)),
      peakRssMb: peakRssMb(svc.proc.pid as number),
      recoverySeconds: recoveredMs / 1000,
    };
  } finally {
    await stop(svc);
    await closePools();
  }
}

/** Saturate the worker pool and watch the event loop and a probe while it is. */
async function poolSaturation(node: string, seconds: number) {
  const svc = await start(node, { LOG_LEVEL: 'warn' });
  try {
    const body = JSON.stringify({ text: 'lorem ipsum dolor sit amet '.repeat(2400), rounds: 500 });
    const statuses: number[] = [];
    const until = performance.now() + seconds * 1000;
    const probe: number[] = [];
    const lag: number[] = [];
    const prober = (async () => {
      while (performance.now() < until) {
        const t = performance.now();
        await (await fetch(`${svc.admin}/livez`)).arrayBuffer();
        probe.push(performance.now() - t);
        const m = await (await fetch(`${svc.admin}/metrics`)).text();
        lag.push(Number(m.match(/^nodejs_eventloop_lag_p99_seconds (\S+)$/m)?.[1]) * 1000);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    // More concurrent submitters than threads + queue: the pool stays full.
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (performance.now() < until) {
          const res = await fetch(`${svc.origin}/api/work`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          });
          await res.arrayBuffer();
          statuses.push(res.status);
        }
      }),
    );
    await prober;
    const sortedProbe = probe.sort((a, b) => a - b);
    return {
      tasks: statuses.length,
      refused: statuses.filter((s) => s === 503).length,
      completed: statuses.filter((s) => s === 200).length,
      livezP99Ms: percentile(sortedProbe, 0.99),
      maxEventLoopLagP99Ms: Math.max(...lag.filter(Number.isFinite)),
    };
  } finally {
    await stop(svc);
  }
}

async function sigterm(node: string, retry: boolean) {
  const env = { LOG_LEVEL: 'info', SHUTDOWN_DELAY_MS: '3000' };
  const [a, b] = [await start(node, env), await start(node, env)];
  const ready = new Map([
    [a.origin, true],
    [b.origin, true],
  ]);
  // kube-proxy stand-in: an instance leaves the rotation when its readiness fails.
  const probe = setInterval(async () => {
    for (const i of [a, b])
      ready.set(
        i.origin,
        await fetch(`${i.admin}/readyz`).then(
          (r) => r.ok,
          () => false,
        ),
      );
  }, 200);
  let rr = 0;
  const pick = () => {
    const live = [a.origin, b.origin].filter((o) => ready.get(o));
    const origin = live[rr++ % Math.max(1, live.length)];
    return origin ? { origin, path: '/api/report?rows=200' } : undefined;
  };
  try {
    const run = openLoop({ rate: 400, durationMs: 12_000, pick, retry });
    await new Promise((r) => setTimeout(r, 4_000));
    a.proc.kill('SIGTERM');
    const outcomes = await run;
    const exitCode = a.proc.exitCode ?? (await once(a.proc, 'exit'))[0];
    const s = summarize(outcomes);
    return {
      client: retry ? 'retries once on 503 / connection error' : 'honours Connection: close, no retries',
      sent: s.sent,
      failed: s.failed + s.shed,
      retried: outcomes.filter((o) => o.retried).length,
      p99: s.p99,
      terminatedExitCode: exitCode,
      shutdownLogged: a.logs.some((l) => l.includes('"shutdown complete"')),
    };
  } finally {
    clearInterval(probe);
    await stop(a);
    await stop(b);
    await closePools();
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      node: { type: 'string' },
      overload: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '15' },
      out: { type: 'string', default: join(REPO_ROOT, 'results', 'bench') },
    },
  });
  const node =
    values.node ??
    join(execFileSync('bash', [join(REPO_ROOT, 'infra/tools/install-node24.sh')], { encoding: 'utf8' }).trim(), 'node');
  const nodeVersion = execFileSync(node, ['-v'], { encoding: 'utf8' }).trim();
  if (cpus().length >= 2) {
    try {
      execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
    } catch {}
  }
  console.log(`reliability scenarios: service on ${nodeVersion}, CPU 0; generator on CPU 1`);
  const over = await overload(node, Number(values.overload), Number(values.seconds));
  const pool = await poolSaturation(node, 8);
  const term = [await sigterm(node, false), await sigterm(node, true)];

  const lines = [
    '| overload scenario | value |',
    '| --- | --- |',
    `| capacity (closed loop, 32 connections) | ${over.capacityRps.toFixed(0)} req/s |`,
    `| offered (open loop) | ${over.offeredRps} req/s for ${values.seconds} s (${values.overload}×); last answer after ${over.lastAnswerSeconds.toFixed(1)} s |`,
    `| answered by the service (its own count, any status) | ${over.reachedService} |`,
    `| accepted (2xx) | ${over.ok} of ${over.sent} |`,
    `| shed (503 + Retry-After) | ${(over.shedShare * 100).toFixed(1)} % (${over.shedReasons.join(', ') || 'none'}; shedding switched on ${over.shedEpisodes}×) |`,
    `| other failures | ${over.failed}${
      Object.keys(over.clientErrors).length
        ? ` (${Object.entries(over.clientErrors)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')})`
        : ''
    } |`,
    `| accepted p50 / p99, as the client saw them (from when each request was due) | ${over.p50.toFixed(1)} ms / ${over.p99.toFixed(1)} ms |`,
    `| accepted p50 / p99, the service's own histogram (in the service) | ${over.serverP50Ms.toFixed(1)} ms / ${over.serverP99Ms.toFixed(1)} ms |`,
    `| peak RSS | ${over.peakRssMb.toFixed(0)} MB |`,
    `| event-loop delay (mean per scrape; shedding compares the same mean over 1 s), median / worst; worst ELU | ${over.medianEventLoopLagMeanMs.toFixed(0)} ms / ${over.maxEventLoopLagMeanMs.toFixed(0)} ms; ${over.maxElu.toFixed(2)} |`,
    `| connections held by admission control (most at once); lowest admission limit | ${over.maxHeldConnections} of ${OVERLOAD_CONNECTIONS}; ${over.minAdmissionLimit} |`,
    `| recovery after the load stops | ${over.recoverySeconds.toFixed(1)} s |`,
    '',
    '| worker pool saturated (16 submitters, 8 s) | value |',
    '| --- | --- |',
    `| tasks completed / refused (503) | ${pool.completed} / ${pool.refused} |`,
    `| /livez p99 while saturated | ${pool.livezP99Ms.toFixed(1)} ms |`,
    `| worst event-loop delay p99 (scrape) | ${pool.maxEventLoopLagP99Ms.toFixed(1)} ms |`,
    '',
    '| SIGTERM during steady load (400 req/s over 2 instances) | sent | failed | retried | p99 ms | exit code |',
    '| --- | --- | --- | --- | --- | --- |',
    ...term.map(
      (t) => `| ${t.client} | ${t.sent} | ${t.failed} | ${t.retried} | ${t.p99.toFixed(1)} | ${t.terminatedExitCode} |`,
    ),
  ];
  console.log(`\n${lines.join('\n')}`);
  mkdirSync(values.out as string, { recursive: true });
  const file = join(values.out as string, `reliability-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ node: nodeVersion, overload: over, workerPool: pool, sigterm: term }, null, 2));
  console.log(`\nraw results: ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
