// The chart against the real service: the built dist/ runs with the rendered
// pod's env and ConfigMap, and must answer the rendered probes, accept the
// rendered config, reload a ConfigMap edit, and shut down inside the grace
// period the chart gives it.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort, freePorts } from '../../scripts/lib/free-port.js';
import { ConfigMapVolume, type Pod, startPod, stopPod, waitFor } from '../tools/pod.js';
import { find, type K8sObject, objects, render } from './helpers/render.js';

const SECRETS = {
  'periscope-profiling/token': 'test-profiling-token-0123456789',
  'periscope-auth/tokens': 'test-token',
};

interface Started {
  deployment: K8sObject;
  pod: Pod;
  volume: ConfigMapVolume;
  /** Container port name → the local port it runs on here. */
  ports: Record<string, number>;
  get(port: string, path: string, init?: RequestInit): Promise<Response>;
}

/** Starts the service the way the rendered stable pod of `set` would run. */
async function startRendered(set: string): Promise<Started> {
  const objs = objects(set);
  const deployment = find(objs, 'Deployment', 'periscope');
  const cm = find(objs, 'ConfigMap', 'periscope-config');
  const container = deployment.spec.template.spec.containers[0];
  const volume = new ConfigMapVolume(cm.data);
  const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'config');

  // Each container port runs on a free local port instead: the env variable
  // that carries its number (PORT, ADMIN_PORT) gets the free one.
  const rendered = Object.fromEntries(
    container.env
      .filter((e: { value?: string }) => e.value !== undefined)
      .map((e: { name: string; value: string }) => [e.name, e.value]),
  );
  const ports: Record<string, number> = {};
  const overrides: Record<string, string> = {};
  for (const p of container.ports as { name: string; containerPort: number }[]) {
    const envName = Object.keys(rendered).find((k) => /PORT$/.test(k) && rendered[k] === String(p.containerPort));
    if (!envName) throw new Error(`no env variable carries container port ${p.name} (${p.containerPort})`);
    ports[p.name] = await freePort();
    overrides[envName] = String(ports[p.name]);
  }
  overrides.CONFIG_FILE = String(rendered.CONFIG_FILE).replace(mount.mountPath, volume.dir);
  // A rendered OTLP endpoint points into a cluster; send spans nowhere here.
  if (rendered.OTEL_EXPORTER_OTLP_ENDPOINT)
    overrides.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${await freePort()}`;

  const pod = startPod(deployment, overrides, { secrets: SECRETS });
  const get = (port: string, path: string, init?: RequestInit) =>
    fetch(`http://127.0.0.1:${ports[port]}${path}`, { ...init, signal: AbortSignal.timeout(5000) });
  await waitFor('/readyz 200', async () => (await get('admin', '/readyz')).status === 200, pod);
  return { deployment, pod, volume, ports, get };
}

describe.each(['defaults', 'everything-on'])('the service started as the %s render runs it', (set) => {
  let s: Started;
  beforeAll(async () => {
    s = await startRendered(set);
  });
  afterAll(async () => {
    if (s) {
      await stopPod(s.pod);
      s.volume.remove();
    }
  });

  it('answers 200 on every probe path and port of the render', async () => {
    const c = s.deployment.spec.template.spec.containers[0];
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      const { path, port } = c[probe].httpGet;
      const res = await s.get(port, path);
      expect(res.status, `${probe} ${port}${path}`).toBe(200);
    }
  });

  it('serves / on the app port', async () => {
    // Right after start on a busy machine, load shedding (a 503 with
    // Retry-After) may still be tripped by the start-up's event-loop delay.
    await waitFor('GET / 200', async () => (await s.get('http', '/')).status === 200, s.pod, 15_000);
  });

  it('exports on the ServiceMonitor path the series the HPA and the rules use', async () => {
    const text = await (await s.get('admin', '/metrics')).text();
    expect(text).toContain('nodejs_eventloop_active_seconds_total');
    expect(text).toContain('http_server_request_duration_seconds_bucket');
  });

  it('accepted the rendered config file and the env (no warning at start)', () => {
    expect(s.pod.stderr()).toBe('');
    const warnings = s.pod
      .logs()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.level >= 40);
    expect(warnings.map((w) => w.msg)).toEqual([]);
  });
});

describe('a ConfigMap edit', () => {
  let s: Started;
  beforeAll(async () => {
    s = await startRendered('defaults');
  });
  afterAll(async () => {
    if (s) {
      await stopPod(s.pod);
      s.volume.remove();
    }
  });

  it('is reloaded without a restart when the kubelet swaps ..data', async () => {
    const text = stringify({ logLevel: 'debug', features: { reloaded: true } });
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
    s.volume.update({ 'config.yaml': text });
    await waitFor(
      `config_info{hash="${hash}"}`,
      async () => (await (await s.get('admin', '/metrics')).text()).includes(`config_info{hash="${hash}"} 1`),
      s.pod,
      20_000,
    );
    expect(s.pod.proc.exitCode).toBeNull();
  });
});

describe('SIGTERM', () => {
  it('fails readiness at once, keeps serving for SHUTDOWN_DELAY_MS, and exits 0 inside terminationGracePeriodSeconds', async () => {
    const s = await startRendered('defaults');
    try {
      const spec = s.deployment.spec.template.spec;
      const delayMs = Number(s.pod.env.SHUTDOWN_DELAY_MS);
      const graceMs = spec.terminationGracePeriodSeconds * 1000;
      const sent = performance.now();
      s.pod.proc.kill('SIGTERM');
      await waitFor('/readyz 503', async () => (await s.get('admin', '/readyz')).status === 503, s.pod, 5000);
      // Still answering (a 503 with Retry-After would be load shedding on a
      // busy machine, not the drain), and telling keep-alive clients to go.
      const during = await s.get('http', '/');
      expect(during.status === 200 || (during.status === 503 && during.headers.has('retry-after'))).toBe(true);
      expect(during.headers.get('connection')).toBe('close');
      const { code, signal, at } = await s.pod.exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(at - sent).toBeGreaterThanOrEqual(delayMs);
      expect(at - sent).toBeLessThan(graceMs);
      expect(s.pod.logs()).toContain('shutdown complete');
    } finally {
      await stopPod(s.pod);
      s.volume.remove();
    }
  });
});

describe('config the values schema rejects', () => {
  const dir = mkdtempSync(join(tmpdir(), 'periscope-config-values-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // The chart and the service must agree: what values.schema.json refuses,
  // the running service refuses too (exit 1, one line), and vice versa.
  it.each([
    ['an unknown level', { logLevel: 'loud' }],
    ['an unknown key', { rateLimitt: { max: 10 } }],
    // (1, not 'yes': Helm reads values as YAML 1.1, where yes is a boolean.)
    ['a non-boolean feature', { features: { checkout: 1 } }],
    ['a utilization above 1', { shedding: { maxEventLoopUtilization: 1.5 } }],
  ])('%s is refused by helm and by the service', async (_what, config) => {
    const values = join(dir, `${_what.replaceAll(' ', '-')}.yaml`);
    writeFileSync(values, stringify({ config }));
    expect(() => render({ valuesFiles: [values] })).toThrow(/at '\/config/);

    const file = join(dir, `${_what.replaceAll(' ', '-')}-config.yaml`);
    writeFileSync(file, stringify(config));
    const d = find(objects('defaults'), 'Deployment', 'periscope');
    const [port, adminPort] = await freePorts(2);
    const pod = startPod(d, { PORT: String(port), ADMIN_PORT: String(adminPort), CONFIG_FILE: file });
    const { code } = await pod.exited;
    expect(code).toBe(1);
    const lines = pod.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(file);
  });
});
