/**
 * A real Prometheus for tests: Debian's `prometheus` binary on a free
 * loopback port, a generated config, a temporary data dir, and typed helpers
 * for the HTTP API.
 *
 *   const prom = await startPrometheus({
 *     scrapeConfigs: [staticJob('periscope', ['127.0.0.1:9464'], { namespace: 'test' })],
 *     ruleFiles: ['infra/prometheus/rules/recording-rules.yaml'],   // relative to the repo root, or absolute
 *   });
 *   try {
 *     await prom.waitForTargets();                     // every target up
 *     await prom.waitForScrapes('periscope', 5);       // enough samples for rate()
 *     const v = await prom.query('up');                // instant vector (or scalar/matrix) result
 *     const m = await prom.queryRange('rate(x[10s])', start, end, 1);
 *     const e = await prom.queryExemplars('http_server_request_duration_seconds_bucket', start, end);
 *     const groups = await prom.rules();               // loaded groups, health and last errors
 *   } finally {
 *     await prom.stop();                               // SIGTERM, wait, remove the data dir
 *   }
 *
 * Defaults: scrape and evaluation every 1 s (tests stay short), exemplar
 * storage on (`--enable-feature=exemplar-storage`, so OpenMetrics exemplars
 * are kept and /api/v1/query_exemplars answers). The binary is
 * `$PROMETHEUS_BIN` or `prometheus` on PATH (Debian package `prometheus`,
 * installed by infra/test/install-prometheus.sh). Nothing binds a fixed port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { freePort } from '../../../scripts/lib/free-port.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** One entry of scrape_configs, as Prometheus' YAML has it. */
export type ScrapeConfig = Record<string, unknown> & { job_name: string };

/** A scrape job over fixed host:port targets with extra target labels. */
export function staticJob(
  job: string,
  targets: readonly string[],
  labels: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): ScrapeConfig {
  return { job_name: job, static_configs: [{ targets: [...targets], labels }], ...extra };
}

export interface PrometheusOptions {
  scrapeConfigs: readonly ScrapeConfig[];
  /** Rule files (absolute, or relative to the repository root). */
  ruleFiles?: readonly string[];
  /** Global scrape interval (default 1s); a job can set its own. */
  scrapeInterval?: string;
  /** Rule evaluation interval (default 1s). */
  evaluationInterval?: string;
  /** Extra command-line flags. */
  flags?: readonly string[];
  /** How long to wait for /-/ready (default 30 s). */
  startTimeoutMs?: number;
}

export interface Sample {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

export interface QueryResult {
  resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  /** Vector and matrix results; a scalar becomes one sample without labels. */
  samples: Sample[];
}

export interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

export interface RuleGroup {
  name: string;
  file: string;
  rules: Array<{
    type: 'recording' | 'alerting';
    name: string;
    query: string;
    health: string;
    lastError?: string;
    state?: string;
  }>;
}

export interface Target {
  scrapePool: string;
  scrapeUrl: string;
  labels: Record<string, string>;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape: string;
}

export interface RunningPrometheus {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** The generated prometheus.yml, as written. */
  config: string;
  query(expr: string, time?: number): Promise<QueryResult>;
  queryRange(expr: string, start: number, end: number, stepSeconds: number): Promise<QueryResult>;
  queryExemplars(expr: string, start: number, end: number): Promise<ExemplarSeries[]>;
  /** label values for `label` among series matching `match` (/api/v1/label/<label>/values). */
  labelValues(label: string, match: string, start?: number, end?: number): Promise<string[]>;
  rules(): Promise<RuleGroup[]>;
  targets(): Promise<Target[]>;
  /** Resolves when every configured target has been scraped successfully. */
  waitForTargets(timeoutMs?: number): Promise<void>;
  /** Resolves once `job` has at least `count` samples of `up` (i.e. scrapes) in storage. */
  waitForScrapes(job: string, count: number, timeoutMs?: number): Promise<void>;
  /** Prometheus' own log (stderr), for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startPrometheus(opts: PrometheusOptions): Promise<RunningPrometheus> {
  const binary = process.env.PROMETHEUS_BIN ?? 'prometheus';
  const dir = await mkdtemp(join(tmpdir(), 'periscope-prometheus-'));
  const config = toYaml({
    global: {
      scrape_interval: opts.scrapeInterval ?? '1s',
      scrape_timeout: '1s',
      evaluation_interval: opts.evaluationInterval ?? '1s',
    },
    rule_files: (opts.ruleFiles ?? []).map((f) => (isAbsolute(f) ? f : resolve(REPO_ROOT, f))),
    scrape_configs: opts.scrapeConfigs,
  });
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, config);

  // A port picked free can be taken before Prometheus binds it: retry.
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const proc = spawn(
      binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--enable-feature=exemplar-storage',
        '--storage.tsdb.retention.time=1d',
        '--log.level=info',
        ...(opts.flags ?? []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    proc.stderr?.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const spawnError = new Promise<Error>((r) => proc.once('error', r));
    const url = `http://127.0.0.1:${port}`;
    const ready = await waitReady(url, proc, spawnError, opts.startTimeoutMs ?? 30_000);
    if (ready === true) return running(url, port, config, proc, () => stderr, dir);
    lastError = `${ready}\n${stderr.split('\n').slice(-15).join('\n')}`;
    await stopProcess(proc);
    if (!/address already in use/.test(stderr)) break;
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`prometheus (${binary}) did not become ready: ${lastError}`);
}

async function waitReady(
  url: string,
  proc: ChildProcess,
  spawnError: Promise<Error>,
  timeoutMs: number,
): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  let failed: string | undefined;
  void spawnError.then((e) => {
    failed = `cannot start it: ${e.message} (install it with infra/test/install-prometheus.sh or set PROMETHEUS_BIN)`;
  });
  while (Date.now() < deadline) {
    if (failed) return failed;
    if (proc.exitCode !== null) return `exited with code ${proc.exitCode}`;
    try {
      if ((await fetch(`${url}/-/ready`)).status === 200) return true;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return `not ready within ${timeoutMs} ms`;
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function api<T>(url: string, path: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
  if (body.status !== 'success') {
    throw new Error(`${path} ${JSON.stringify(params)}: ${body.errorType ?? res.status}: ${body.error ?? ''}`);
  }
  return body.data;
}

function toResult(data: { resultType: QueryResult['resultType']; result: unknown }): QueryResult {
  if (data.resultType === 'scalar' || data.resultType === 'string') {
    return { resultType: data.resultType, samples: [{ metric: {}, value: data.result as [number, string] }] };
  }
  return { resultType: data.resultType, samples: data.result as Sample[] };
}

function running(
  url: string,
  port: number,
  config: string,
  proc: ChildProcess,
  logs: () => string,
  dir: string,
): RunningPrometheus {
  const self: RunningPrometheus = {
    url,
    port,
    config,
    logs,
    async query(expr, time) {
      const params: Record<string, string> = { query: expr };
      if (time !== undefined) params.time = String(time);
      return toResult(await api(url, '/api/v1/query', params));
    },
    async queryRange(expr, start, end, step) {
      const params = { query: expr, start: String(start), end: String(end), step: String(step) };
      return toResult(await api(url, '/api/v1/query_range', params));
    },
    async queryExemplars(expr, start, end) {
      return api<ExemplarSeries[]>(url, '/api/v1/query_exemplars', {
        query: expr,
        start: String(start),
        end: String(end),
      });
    },
    async labelValues(label, match, start, end) {
      const q = new URLSearchParams({ 'match[]': match });
      if (start !== undefined) q.set('start', String(start));
      if (end !== undefined) q.set('end', String(end));
      const res = await fetch(`${url}/api/v1/label/${encodeURIComponent(label)}/values?${q}`);
      const body = (await res.json()) as { status: string; data: string[]; error?: string };
      if (body.status !== 'success') throw new Error(`label values ${label} ${match}: ${body.error}`);
      return body.data;
    },
    async rules() {
      const res = await fetch(`${url}/api/v1/rules`);
      return ((await res.json()) as { data: { groups: RuleGroup[] } }).data.groups;
    },
    async targets() {
      const res = await fetch(`${url}/api/v1/targets?state=active`);
      return ((await res.json()) as { data: { activeTargets: Target[] } }).data.activeTargets;
    },
    async waitForTargets(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: Target[] = [];
      while (Date.now() < deadline) {
        last = await self.targets();
        if (last.length && last.every((t) => t.health === 'up')) return;
        await sleep(200);
      }
      const state = last.map((t) => `${t.scrapePool} ${t.scrapeUrl}: ${t.health} ${t.lastError}`).join('; ');
      throw new Error(`targets not all up within ${timeoutMs} ms: ${state || 'no targets'}`);
    },
    async waitForScrapes(job, count, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      const expr = `count_over_time(up{job="${job}"}[1h])`;
      let seen = 0;
      while (Date.now() < deadline) {
        const r = await self.query(expr);
        seen = Math.min(...r.samples.map((s) => Number(s.value?.[1] ?? 0)), Number.POSITIVE_INFINITY);
        if (r.samples.length && seen >= count) return;
        await sleep(250);
      }
      throw new Error(`job ${job}: ${Number.isFinite(seen) ? seen : 0} of ${count} scrapes within ${timeoutMs} ms`);
    },
    async stop() {
      await stopProcess(proc);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return self;
}
