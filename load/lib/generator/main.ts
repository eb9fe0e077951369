// The load-generator process: runs autocannon instances on the runner's
// command and streams one sample per second back over IPC. Started by
// generator/client.ts (pinned to its own core when the machine has two).
// It owns no policy: which steps to run, and when to stop, is the runner's.
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { readFdLimits } from '../limits.js';
import type { PhaseSpec, PhaseSummary, StepSpec } from '../types.js';
import type { FromGenerator, RawSample, ToGenerator } from './protocol.js';
import { rampChunks } from './ramp.js';
import { errorKind, Recorder } from './recorder.js';
import { clientRequests } from './requests.js';

function send(msg: FromGenerator): void {
  process.send?.(msg);
}

const total = new Recorder();
let totalMeasuredS = 0;
let current: { stop: () => void } | null = null;

interface PhaseRun {
  spec: PhaseSpec;
  recorder: Recorder;
  measuring: boolean;
  measuredFrom: number;
  /** Connections of the autocannon instances started so far (a ramp starts them in chunks). */
  open: number;
  instances: autocannon.Instance[];
  results: autocannon.Result[];
  /** Chunks scheduled but not started; stop() runs these to settle them. */
  unstarted: Set<() => void>;
  started: boolean;
  ended: boolean;
  finish: () => void;
}

function summarize(step: string, run: PhaseRun, endedAt: number): PhaseSummary {
  const { spec, recorder } = run;
  const measuredFrom = run.measuring ? run.measuredFrom : endedAt;
  const measuredS = Math.max(0, (endedAt - measuredFrom) / 1000);
  const failures = recorder.failures;
  const attempts = recorder.responses + recorder.errorCount;
  return {
    name: spec.name,
    step,
    connections: spec.connections,
    rate: spec.rate ?? null,
    route: spec.requests.map((r) => `${r.method} ${r.path}`).join(', '),
    measuredFrom,
    measuredTo: endedAt,
    measuredS: Math.round(measuredS * 1000) / 1000,
    responses: recorder.responses,
    rps: measuredS > 0 ? Math.round((recorder.responses / measuredS) * 10) / 10 : 0,
    bytesPerS: measuredS > 0 ? Math.round(recorder.bytes / measuredS) : 0,
    latencyMs: recorder.latency(),
    status: { ...recorder.status },
    errors: { ...recorder.errors },
    failures,
    errorRatio: attempts > 0 ? failures / attempts : 0,
    autocannon: {
      requests: run.results.reduce((n, r) => n + r.requests.total, 0),
      errors: run.results.reduce((n, r) => n + r.errors, 0),
      timeouts: run.results.reduce((n, r) => n + r.timeouts, 0),
      non2xx: run.results.reduce((n, r) => n + r.non2xx, 0),
      latencyP99Ms: Math.max(0, ...run.results.map((r) => r.latency.p99)),
    },
  };
}

async function runStep(step: StepSpec): Promise<PhaseSummary[]> {
  const window = new Recorder();
  const timers: NodeJS.Timeout[] = [];
  let windowStart = Date.now();
  let cpuMark = process.cpuUsage();
  let eluMark = performance.eventLoopUtilization();
  let stopped = false;

  const runs: PhaseRun[] = [];
  const done = step.phases.map(
    (spec) =>
      new Promise<PhaseSummary>((resolve) => {
        const run: PhaseRun = {
          spec,
          recorder: new Recorder(),
          measuring: false,
          measuredFrom: 0,
          open: 0,
          instances: [],
          results: [],
          unstarted: new Set(),
          started: false,
          ended: false,
          finish: () => {
            if (run.ended) return;
            run.ended = true;
            resolve(summarize(step.name, run, Date.now()));
          },
        };
        runs.push(run);
      }),
  );

  const flush = (final = false) => {
    const now = Date.now();
    const windowS = (now - windowStart) / 1000;
    // The last window is the tail after autocannon stopped; a sliver of it would chart as a bogus dip.
    if (windowS < (final ? 0.5 : 0.05)) return;
    const active = runs.filter((r) => r.started && !r.ended);
    const cpu = process.cpuUsage(cpuMark);
    const elu = performance.eventLoopUtilization(eluMark);
    cpuMark = process.cpuUsage();
    eluMark = performance.eventLoopUtilization();
    const sample: RawSample = {
      at: now,
      windowS: Math.round(windowS * 1000) / 1000,
      step: step.name,
      connections: active.reduce((n, r) => n + r.open, 0),
      responses: window.responses,
      latencyMs: window.responses > 0 ? pick(window.latency()) : null,
      status: window.status,
      errors: window.errors,
      warmup: active.some((r) => !r.measuring),
      generatorCpu: Math.round(((cpu.user + cpu.system) / 1e6 / windowS) * 1000) / 1000,
      generatorElu: Math.round(elu.utilization * 1000) / 1000,
    };
    send({ type: 'sample', sample });
    window.reset();
    windowStart = now;
  };
  const ticker = setInterval(() => flush(), 1000);

  const startInstance = (run: PhaseRun, connections: number, durationS: number, onDone: () => void) => {
    const { spec } = run;
    const instance = autocannon(
      {
        url: spec.origin,
        connections,
        duration: durationS,
        // A ramped phase's rate is shared out in proportion to each chunk's connections.
        ...(spec.rate ? { overallRate: Math.max(1, Math.round((spec.rate * connections) / spec.connections)) } : {}),
        ...clientRequests(spec, Date.now()),
        timeout: spec.timeoutS,
      },
      (err, result) => {
        if (err) send({ type: 'error', message: `phase ${spec.name}: ${errorKind(err)}` });
        else run.results.push(result);
        onDone();
      },
    );
    run.instances.push(instance);
    run.open += connections;
    instance.on('response', (_client, statusCode, bytes, latencyMs) => {
      window.response(statusCode, bytes, latencyMs);
      if (run.measuring) {
        run.recorder.response(statusCode, bytes, latencyMs);
      }
    });
    instance.on('reqError', (err) => {
      const kind = errorKind(err);
      window.error(kind);
      if (run.measuring) {
        run.recorder.error(kind);
      }
    });
  };

  const begin = (run: PhaseRun) => {
    const { spec } = run;
    run.started = true;
    const chunks = rampChunks(spec);
    let pending = chunks.length;
    const chunkDone = () => {
      if (--pending === 0) run.finish();
    };
    for (const chunk of chunks) {
      const start = () => {
        run.unstarted.delete(start);
        if (stopped) return chunkDone();
        // Every chunk ends when the phase does.
        startInstance(run, chunk.connections, spec.durationS - chunk.offsetS, chunkDone);
      };
      if (chunk.offsetS > 0) {
        run.unstarted.add(start);
        timers.push(setTimeout(start, chunk.offsetS * 1000));
      } else start();
    }
    timers.push(
      setTimeout(() => {
        run.measuring = true;
        run.measuredFrom = Date.now();
      }, spec.warmupS * 1000),
    );
  };

  for (const run of runs) {
    if (run.spec.startS > 0) timers.push(setTimeout(() => begin(run), run.spec.startS * 1000));
    else begin(run);
  }

  current = {
    stop: () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      for (const r of runs) {
        if (!r.started) r.finish();
        // Cancelled chunks settle at once; running instances report (and
        // call back) at autocannon's next one-second tick.
        for (const start of [...r.unstarted]) start();
        for (const i of r.instances) i.stop();
      }
    },
  };
  const summaries = await Promise.all(done);
  for (const r of runs) total.add(r.recorder);
  clearInterval(ticker);
  flush(true);
  for (const t of timers) clearTimeout(t);
  current = null;
  return summaries;
}

function pick(l: ReturnType<Recorder['latency']>) {
  return { p50: l.p50, p90: l.p90, p99: l.p99, max: l.max };
}

process.on('message', (msg: ToGenerator) => {
  if (msg.type === 'run') {
    runStep(msg.step)
      .then((phases) => {
        // The run's measured time is the union of its steps' measured windows
        // (phases inside a step overlap; steps follow one another).
        const from = Math.min(...phases.map((p) => p.measuredFrom));
        const to = Math.max(...phases.map((p) => p.measuredTo));
        if (Number.isFinite(from) && Number.isFinite(to)) totalMeasuredS += Math.max(0, to - from) / 1000;
        send({ type: 'step-done', step: msg.step.name, phases });
      })
      .catch((err: unknown) => send({ type: 'error', message: `step ${msg.step.name}: ${errorKind(err)}` }));
  } else if (msg.type === 'stop') {
    current?.stop();
  } else if (msg.type === 'finish') {
    const latency = total.latency();
    send({
      type: 'total',
      total: {
        measuredS: Math.round(totalMeasuredS * 1000) / 1000,
        responses: total.responses,
        bytes: total.bytes,
        latencyMs: latency,
        status: total.status,
        errors: total.errors,
        failures: total.failures,
        cpuSeconds: cpuSeconds(),
      },
    });
    process.disconnect?.();
  }
});

// The runner going away (killed, crashed) must not leave load running.
process.on('disconnect', () => {
  current?.stop();
  setTimeout(() => process.exit(0), 200).unref();
});

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

send({ type: 'ready', node: process.version, pid: process.pid, nofile: readFdLimits(), cpuSeconds: cpuSeconds() });
