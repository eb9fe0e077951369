// Programmatic API of the load tests. The CLI (load/cli.ts) is a thin layer
// over it; other tools (profiling, benchmarks) drive load with it too.
//
//   import { runScenario, startService, scenarios } from './load/lib/run.ts';
//
//   // Start the service (dist/, free loopback ports, /readyz 200), or bring your own:
//   const svc = await startService({ nodeBin, env: { ACCESS_LOG: 'off' }, prefix: ['taskset', '-c', '0'] });
//
//   // Run a scenario against it (or, with no target, the runner starts and stops one itself):
//   const { result, exitCode, files } = await runScenario('steady', {
//     target: svc.url, adminUrl: svc.adminUrl, durationS: 20, connections: 50,
//   });
//   await svc.stop();
//
// runScenario(name, options) → Promise<{ result: LoadResult, exitCode: 0 | 1, files: { json, html } }>
//   options (all optional):
//     target        application origin (http://host:port); absent = start the service locally
//     adminUrl      admin origin for /metrics scraping (local service: set automatically; null = no scraping)
//     route         request path (e.g. /api/sleep?ms=50), replacing the scenario's requests
//     method, body, headers   for --route (body implies content-type: application/json unless given)
//     connections, durationS (measured seconds, warm-up on top), rate (overall req/s), timeoutS
//     baselineConnections (c10k reference step; 0 skips), maxSteps (stress)
//     sloFile       YAML/JSON objectives (default load/slo.yaml; null = no verdict)
//     outDir        where result.json, report.html and service.log go (default results/<scenario>-<time>)
//     nodeBin       node for a locally started service (default $LOAD_SERVICE_NODE or this node)
//     generatorNodeBin  node for the load generator (default this node); load:figures gives it Node 24 too
//     serviceEnv    extra environment for a locally started service
//     serviceConfig CONFIG_FILE for a locally started service ('default' = none; default: the scenario's, if any)
//     pin, serviceCpus, generatorCpus   CPU pinning (default: service CPU 0, generator CPU 1 with ≥ 2 cores;
//                   with a target, the generator is pinned only when generatorCpus is given)
//     progress      print the live line (default true); silent: print nothing at all (default false)
//     signal        AbortSignal: stop early, keep what was measured (result.complete = false)
//     command       how to reproduce the run, shown in the report
//   exitCode: 1 when an SLO objective failed; 0 otherwise (also when the scenario has none).
//   Throws UsageError (bad option), LimitError (not enough open files or ports for the
//   connections asked), ServiceStartError, or RunError (target unreachable, generator failed).
//
// startService(options) → Promise<ServiceHandle> (service.ts): options nodeBin, nodeArgs (e.g. --cpu-prof),
//   command (replaces `node … dist/main.js`, e.g. a profiler wrapper), prefix (taskset/prlimit), env, logFile,
//   readyTimeoutMs, build (run scripts/ensure-build.mjs first; default true). The handle: url, adminUrl, pid,
//   nodeVersion, logFile, fdLimits(), peakRssBytes() (VmHWM), cpuSeconds(), stop(timeoutMs) → exit status.
//
// The result JSON's shape is `LoadResult` in types.ts.
import { mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { hostname, loadavg, cpus as osCpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { renderReport } from '../report/render.js';
import { scenarios } from '../scenarios/index.js';
import { haveCommand, planCpus, tasksetPrefix } from './cpus.js';
import { LimitError, RunError, UsageError } from './errors.js';
import { Generator } from './generator/client.js';
import type { RawSample } from './generator/protocol.js';
import { explainFdShortfall, explainPortShortfall, FD_HEADROOM, planNofile, prlimitPrefix } from './limits.js';
import { cpuSnapshot, listenOverflows, otherCpuShare } from './machine.js';
import { formatMiB, memoryCgroupPrefix } from './memory-limit.js';
import { parseOrigin, peakConnections, resolveOptions } from './options.js';
import { formatProgress, ProgressPrinter } from './progress.js';
import { MetricsScraper } from './scraper.js';
import { REPO_ROOT, type ServiceHandle, startService } from './service.js';
import { evaluateSlo, loadSloFile } from './slo.js';
import { emptySummary, printSummary, serverSide, totalToSummary } from './summary.js';
import { type ClientSample, type LoadResult, type PhaseSummary, RESULT_SCHEMA, type SloVerdict } from './types.js';

export { scenarios } from '../scenarios/index.js';
export { LimitError, RunError, UsageError } from './errors.js';
export { MAX_CONNECTIONS, MAX_DURATION_S, resolveOptions } from './options.js';
export { type ServiceHandle, ServiceStartError, type StartServiceOptions, startService } from './service.js';
export { serverSide } from './summary.js';
export type { LoadResult } from './types.js';

export const DEFAULT_SLO_FILE = join(REPO_ROOT, 'load', 'slo.yaml');

export interface RunOptions {
  target?: string;
  adminUrl?: string | null;
  route?: string;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  connections?: number;
  durationS?: number;
  rate?: number;
  timeoutS?: number;
  baselineConnections?: number;
  maxSteps?: number;
  sloFile?: string | null;
  outDir?: string;
  nodeBin?: string;
  /** Node binary for the load generator (default: the one running this). */
  generatorNodeBin?: string;
  serviceEnv?: Record<string, string>;
  /** Runtime config file for a locally started service: a path, or 'default' for none (the service's defaults). */
  serviceConfig?: string;
  /** Run the local service in a memory cgroup with this limit (bytes), as a pod's memory limit does. */
  serviceMemoryBytes?: number;
  pin?: boolean;
  serviceCpus?: string;
  generatorCpus?: string;
  progress?: boolean;
  /** Print nothing at all (default false). */
  silent?: boolean;
  signal?: AbortSignal;
  command?: string;
}

export interface RunOutcome {
  result: LoadResult;
  exitCode: 0 | 1;
  files: { json: string; html: string };
}

/** Fails fast, with the reason, when a given target (or its admin port) does not answer at all. */
async function preflight(origin: string, adminUrl: string | null): Promise<void> {
  for (const [what, url] of [
    ['target', origin],
    ['admin', adminUrl ? `${adminUrl}/metrics` : null],
  ] as const) {
    if (!url) continue;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      await res.body?.cancel();
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message ?? (err as Error).message;
      throw new RunError(`cannot reach the ${what} at ${url}: ${cause}`);
    }
  }
}

/** A path relative to the working directory when it is below it, else absolute. */
function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[:]/g, '').replace(/\..+/, '').replace('T', '-');
}

export async function runScenario(name: string, options: RunOptions = {}): Promise<RunOutcome> {
  const scenario = scenarios[name];
  if (!scenario) throw new UsageError(`unknown scenario "${name}"; one of: ${Object.keys(scenarios).join(', ')}`);
  const local = options.target === undefined;
  // Validate everything that can be validated before starting anything.
  const preOrigin = local ? 'http://127.0.0.1:1' : parseOrigin('target', options.target as string);
  const adminGiven = options.adminUrl ? parseOrigin('admin', options.adminUrl) : null;
  resolveOptions(scenario, options, preOrigin);
  const sloPath = options.sloFile === null ? null : resolve(options.sloFile ?? DEFAULT_SLO_FILE);
  const slo = sloPath ? loadSloFile(sloPath) : null;

  const out = new ProgressPrinter(process.stdout, options.progress !== false && !options.silent, !options.silent);
  const startedAt = new Date();
  const outDir = resolve(options.outDir ?? join(REPO_ROOT, 'results', `${name}-${stamp(startedAt)}`));
  mkdirSync(outDir, { recursive: true });
  const files = { json: join(outDir, 'result.json'), html: join(outDir, 'report.html') };
  const notes: string[] = [];

  // A remote target's generator is pinned only when asked (--generator-cpus), e.g. when the
  // caller started the service itself on another core of this machine.
  const cpuPlan = local
    ? planCpus({ pin: options.pin, serviceCpus: options.serviceCpus, generatorCpus: options.generatorCpus })
    : options.generatorCpus && options.pin !== false
      ? planCpus({ generatorCpus: options.generatorCpus })
      : { service: null, generator: null, note: 'target given: generator unpinned (--generator-cpus to pin it)' };
  notes.push(cpuPlan.note);
  const havePrlimit = haveCommand('prlimit');

  let service: ServiceHandle | null = null;
  let generator: Generator | null = null;
  let scraper: MetricsScraper | null = null;
  let interruption: string | null = null;
  // Ctrl-C reaches the runner (and, through npm/tsx, possibly twice) but not the service or the
  // generator (their own process groups): stop the load, write what was measured, stop the service.
  const onSignal = (sig: NodeJS.Signals) => {
    if (interruption !== null) return;
    interruption = `${sig} received`;
    out.log(`${sig}: stopping the load, then the service; the partial result will be written`);
    generator?.stop();
  };
  const abort = () => {
    interruption = 'aborted by the caller';
    generator?.stop();
  };
  options.signal?.addEventListener('abort', abort, { once: true });
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);

  try {
    // 1. The service.
    const probeOpts = resolveOptions(scenario, options, preOrigin);
    const peak = peakConnections(scenario, probeOpts);
    const nofile = planNofile(peak + FD_HEADROOM);
    if (local) {
      const env: Record<string, string> = { ...options.serviceEnv };
      if (options.serviceConfig && options.serviceConfig !== 'default') {
        env.CONFIG_FILE = resolve(options.serviceConfig);
        notes.push(`service runtime config: ${display(env.CONFIG_FILE)}`);
      } else if (!options.serviceConfig && scenario.serviceConfig && !env.CONFIG_FILE) {
        env.CONFIG_FILE = join(outDir, 'service-config.json');
        writeFileSync(env.CONFIG_FILE, `${JSON.stringify(scenario.serviceConfig.config, null, 2)}\n`);
        notes.push(`${scenario.serviceConfig.why} [${JSON.stringify(scenario.serviceConfig.config)}]`);
        out.log(`note: ${scenario.serviceConfig.why}`);
      }
      if (options.serviceMemoryBytes) {
        notes.push(
          `service run in a ${formatMiB(options.serviceMemoryBytes)} memory cgroup (as a pod's resources.limits.memory): V8 sizes its heap from it, the kernel OOM-kills above it`,
        );
      }
      out.log(`starting the service (${options.nodeBin ?? process.env.LOAD_SERVICE_NODE ?? process.execPath}) ...`);
      service = await startService({
        ...(options.nodeBin ? { nodeBin: options.nodeBin } : {}),
        prefix: [
          ...prlimitPrefix(nofile, havePrlimit),
          ...tasksetPrefix(cpuPlan.service),
          ...memoryCgroupPrefix(options.serviceMemoryBytes),
        ],
        logFile: join(outDir, 'service.log'),
        env,
      });
      out.log(`service ${service.nodeVersion} ready at ${service.url} (admin ${service.adminUrl}), pid ${service.pid}`);
    }
    const origin = service ? service.url : preOrigin;
    const adminUrl = service ? service.adminUrl : adminGiven;
    const opts = resolveOptions(scenario, options, origin);
    if (!service) await preflight(origin, adminUrl);
    if (!service && scenario.serviceConfig) {
      notes.push(
        `${scenario.name} expects this runtime config at the target: ${JSON.stringify(scenario.serviceConfig.config)} (${scenario.serviceConfig.why})`,
      );
    }
    if (!adminUrl) notes.push('no --admin URL: server-side series not collected');

    // 2. The generator, pinned, with its open-files limit raised.
    // t = 0 is when the load starts (set below, once the generator is up and checked).
    let runStart = Date.now();
    const client: ClientSample[] = [];
    let plannedS = scenario.maxDurationS(opts);
    const errors: string[] = [];
    generator = new Generator({
      ...(options.generatorNodeBin ? { nodeBin: options.generatorNodeBin } : {}),
      prefix: [...prlimitPrefix(nofile, havePrlimit), ...tasksetPrefix(cpuPlan.generator)],
      onSample: (raw: RawSample) => {
        const { at, ...measured } = raw;
        const sample: ClientSample = {
          t: Math.round((at - runStart) / 10) / 100,
          ...measured,
          rps: Math.round((raw.responses / (raw.windowS || 1)) * 10) / 10,
        };
        client.push(sample);
        out.update(formatProgress(name, sample, plannedS, scraper?.last), sample.t, sample.step);
      },
      onError: (m) => errors.push(m),
    });
    const gen = await generator.ready;

    // 3. Enough descriptors and ports for the peak connection count? Checked on the live processes.
    const genFd = gen.nofile;
    const svcFd = service?.fdLimits() ?? null;
    const shortfalls = [
      explainFdShortfall('generator', genFd, peak),
      service ? explainFdShortfall('service', svcFd, peak) : null,
      explainPortShortfall(peak),
    ].filter((s): s is string => s !== null);
    if (shortfalls.length) {
      throw new LimitError(
        `${shortfalls.join('\n')}\nThis run needs ${peak.toLocaleString('en-US')} connections at its peak; ask for fewer (--connections${scenario.name === 'stress' ? ', --max-steps' : ''}) or raise the limits.`,
      );
    }
    if (peak >= 1000) {
      notes.push(
        `open-files limit checked for ${peak.toLocaleString('en-US')} connections: generator ${genFd?.soft ?? '?'}${service ? `, service ${svcFd?.soft ?? '?'}` : ''}`,
      );
    }

    // 4. Scrape, load, collect.
    const cpuBefore = cpuSnapshot();
    const overflowsBefore = listenOverflows();
    const loadBefore = loadavg();
    const ownBefore = { service: service?.cpuSeconds() ?? 0, runner: process.cpuUsage() };
    runStart = Date.now();
    if (adminUrl) {
      scraper = new MetricsScraper(`${adminUrl}/metrics`, runStart);
      scraper.start();
    }
    out.log(`${name}: ${scenario.description}`);
    out.log(`target ${origin}${opts.requests.map((r) => ` ${r.method} ${r.path}`).join(',')}; up to ${plannedS} s`);

    const phases: PhaseSummary[] = [];
    const plan = scenario.plan(opts);
    let sent: PhaseSummary[] = [];
    const deadline = Date.now() + plannedS * 1000 + 30_000;
    for (let next = plan.next(); !next.done && interruption === null; next = plan.next(sent)) {
      const step = next.value;
      const stepMax = Math.max(...step.phases.map((p) => p.startS + p.durationS)) + 30;
      const watchdog = setTimeout(() => {
        errors.push(`step ${step.name} overran its ${stepMax} s bound`);
        generator?.stop();
      }, stepMax * 1000);
      try {
        sent = await generator.runStep(step);
      } finally {
        clearTimeout(watchdog);
      }
      phases.push(...sent);
      if (Date.now() > deadline) {
        interruption = `run overran its ${plannedS} s bound`;
        break;
      }
      plannedS = Math.max(plannedS, (Date.now() - runStart) / 1000);
    }
    const total = await generator.finish();
    const ownAfter = { service: service?.cpuSeconds() ?? 0, runner: process.cpuUsage(ownBefore.runner) };
    const cpuAfter = cpuSnapshot();
    const overflowsAfter = listenOverflows();
    if (scraper) await scraper.stop();
    out.end();
    if (errors.length) notes.push(...errors.map((e) => `generator: ${e}`));

    // 5. Peak RSS from the kernel while the process still exists, then stop it.
    const vmHwm = service?.peakRssBytes() ?? null;
    const scrapedPeak = scraper?.samples.reduce((m, s) => Math.max(m, s.rssBytes ?? 0), 0) || null;
    const serviceNode = service?.nodeVersion ?? null;
    const serviceLog = service?.logFile ?? null;
    if (service) {
      const status = await service.stop();
      if (status.code !== 0)
        notes.push(`the service exited with code ${status.code ?? status.signal} on SIGTERM (see ${serviceLog})`);
      service = null;
    }
    // CPU our three processes used during the load; the rest of the machine's busy time was others'.
    const ownSeconds =
      ownAfter.service -
      ownBefore.service +
      (ownAfter.runner.user + ownAfter.runner.system) / 1e6 +
      (total.cpuSeconds - gen.cpuSeconds);

    const summary = phases.length ? totalToSummary(total, phases, phases[0]?.route ?? '') : emptySummary('all');
    const serverSamples = scraper?.samples ?? [];
    for (const p of [...phases, summary]) p.server = serverSide(p, serverSamples, runStart);
    const analysis = scenario.analyze?.({ options: opts, phases, client, server: serverSamples, runStart }) ?? {
      kind: 'none' as const,
    };
    const subject =
      scenario.sloSubject?.(phases, analysis) ??
      (phases.length ? { subject: 'the whole run (warm-ups excluded)', summary } : null);
    const sloVerdict: SloVerdict = evaluateSlo(
      slo?.scenarios[name],
      subject,
      analysis,
      sloPath ? display(sloPath) : null,
    );

    const result: LoadResult = {
      schema: RESULT_SCHEMA,
      scenario: name,
      description: scenario.description,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      complete: interruption === null,
      interruption,
      settings: {
        target: origin,
        adminUrl,
        localService: local,
        route: opts.requests.map((r) => `${r.method} ${r.path}`).join(', '),
        connections: opts.connections,
        durationS: opts.durationS,
        rate: opts.rate,
        command:
          options.command ??
          `runScenario(${JSON.stringify(name)}, ${JSON.stringify({ ...options, signal: undefined })})`,
      },
      environment: {
        hostname: hostname(),
        cpus: osCpus().length,
        cpuModel: osCpus()[0]?.model.trim() ?? 'unknown',
        generatorNode: gen.node,
        serviceNode,
        serviceCpus: cpuPlan.service,
        generatorCpus: cpuPlan.generator,
        serviceMemoryLimitBytes: local ? (options.serviceMemoryBytes ?? null) : null,
        fdLimits: { generator: genFd, service: svcFd },
        loadAvgBefore: loadBefore.map((v) => Math.round(v * 100) / 100),
        loadAvgAfter: loadavg().map((v) => Math.round(v * 100) / 100),
        otherCpuShare: otherCpuShare(cpuBefore, cpuAfter, ownSeconds),
        listenOverflows: overflowsBefore === null || overflowsAfter === null ? null : overflowsAfter - overflowsBefore,
        notes,
      },
      phases,
      summary,
      client,
      server: {
        samples: serverSamples,
        scrapeErrors: scraper?.errors ?? 0,
        peakRssBytes: vmHwm ?? scrapedPeak,
        peakRssSource: vmHwm !== null ? 'VmHWM' : scrapedPeak !== null ? 'scrape' : null,
      },
      analysis,
      slo: sloVerdict,
      files: { ...files, serverLog: serviceLog },
    };
    writeFileSync(files.json, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(files.html, renderReport(result));
    printSummary(out, result);
    out.log(`\nresult: ${display(files.json)}`);
    out.log(`report: ${display(files.html)}`);
    return { result, exitCode: sloVerdict.verdict === 'fail' ? 1 : 0, files };
  } finally {
    // A run that failed before writing anything leaves no empty folder behind.
    try {
      if (readdirSync(outDir).length === 0) rmdirSync(outDir);
    } catch {}
    for (const s of signals) process.off(s, onSignal);
    options.signal?.removeEventListener('abort', abort);
    generator?.kill();
    if (scraper) await scraper.stop().catch(() => {});
    if (service) await service.stop();
  }
}
