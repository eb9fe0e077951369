// The production image, built by infra/container/build-image.sh (`npm run
// test:container` builds it first), inspected and run the way a cluster runs it:
// non-root, read-only root filesystem with only /tmp writable, no capabilities,
// no privilege escalation, then stopped with SIGTERM.
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseMemoryLimit } from '../../load/lib/memory-limit.js';
import {
  PRODUCTION_ENTRY,
  PRODUCTION_NODE_FLAGS,
  YOUNG_GENERATION_PROBE,
} from '../../scripts/lib/production-command.js';
import { http } from './http-client.js';
import { CONTAINER_LIMITS, IMAGE, inspect, podman, podmanResult, publishedUrl, runOffline, waitFor } from './podman.js';

const repoRoot = new URL('../../', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean }>;
};

interface ImageInfo {
  Config: {
    User?: string;
    Env?: string[];
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    ExposedPorts?: Record<string, unknown>;
    Labels?: Record<string, string>;
  };
}

interface ContainerInfo {
  State: { Pid: number; Running: boolean; ExitCode: number; OOMKilled: boolean };
  HostConfig: { ReadonlyRootfs: boolean };
}

/** Every path under `dir` (files and folders), relative to it, not entering `skip`. */
function walk(dir: string, skip: (rel: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const visit = (abs: string) => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const p = join(abs, e.name);
      const rel = relative(dir, p);
      if (skip(rel)) continue;
      out.push(rel);
      if (e.isDirectory()) visit(p);
    }
  };
  visit(dir);
  return out;
}

beforeAll(async () => {
  const r = await podmanResult(['image', 'exists', IMAGE]);
  if (r.code !== 0) throw new Error(`image ${IMAGE} not found: build it with \`bash infra/container/build-image.sh\``);
});

describe('image configuration', () => {
  let config: ImageInfo['Config'];
  beforeAll(async () => {
    config = (await inspect<ImageInfo>('image', IMAGE)).Config;
  });

  it('runs as a numeric non-root user, so runAsNonRoot can verify it', () => {
    const m = /^(\d+)(?::(\d+))?$/.exec(config.User ?? '');
    expect(m, `USER is "${config.User}"`).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(0);
  });

  it('starts node directly on the production bundle (exec form, no entrypoint script)', () => {
    expect(config.Entrypoint ?? []).toEqual([]);
    expect(config.Cmd).toEqual(['node', ...PRODUCTION_NODE_FLAGS, PRODUCTION_ENTRY]);
  });

  it('sets NODE_ENV=production and NODE_COMPILE_CACHE, and exposes the app and admin ports', () => {
    expect(config.Env).toContain('NODE_ENV=production');
    expect(config.Env).toContain('NODE_COMPILE_CACHE=/app/compile-cache');
    expect(Object.keys(config.ExposedPorts ?? {}).sort()).toEqual(['3000/tcp', '9464/tcp']);
  });

  it('carries OCI labels', () => {
    const labels = config.Labels ?? {};
    expect(labels['org.opencontainers.image.title']).toBe('periscope');
    expect(labels['org.opencontainers.image.version']).toBe(pkg.version);
    expect(labels['org.opencontainers.image.licenses']).toBe('MIT');
    expect(labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}$|^unknown$/);
    expect(labels['org.opencontainers.image.base.name']).toMatch(/^node:24-/);
  });
});

describe('image contents', () => {
  let root: string;
  beforeAll(async () => {
    root = (await podman(['image', 'mount', IMAGE])).trim();
  });
  afterAll(async () => {
    await podmanResult(['image', 'unmount', IMAGE]);
  });
  const app = () => join(root, 'app');

  it('holds only the compiled service, its production modules, package.json and the compile cache in /app', () => {
    expect(readdirSync(app()).sort()).toEqual(['compile-cache', 'dist', 'node_modules', 'package.json']);
    const dist = walk(join(app(), 'dist'));
    expect(dist).toContain('main.js');
    expect(dist).toContain(join('telemetry', 'register.js'));
    expect(dist).toContain(join('bundle', 'periscope.js'));
    // The span exporters are built as CommonJS files of their own (scripts/bundle.mjs),
    // and so is the protobuf exporter's worker thread.
    expect(dist).toContain(join('bundle', 'otlp-exporter-proto.cjs'));
    expect(dist).toContain(join('bundle', 'otlp-export-worker.cjs'));
    const notCompiled = dist.filter(
      (p) => !lstatSync(join(app(), 'dist', p)).isDirectory() && !/\.c?js(\.map)?$/.test(p),
    );
    expect(notCompiled).toEqual([]);
  });

  it('ships a compile cache for the bundle, readable by the service user', () => {
    const entries = walk(join(app(), 'compile-cache')).filter((p) =>
      lstatSync(join(app(), 'compile-cache', p)).isFile(),
    );
    expect(entries.length).toBeGreaterThan(0);
    for (const p of entries) expect(lstatSync(join(app(), 'compile-cache', p)).mode & 0o004, p).toBe(0o004);
  });

  it('has no TypeScript sources, tests or build configuration outside node_modules', () => {
    const ours = walk(app(), (rel) => rel === 'node_modules');
    const offending = ours.filter((p) => /\.(c|m)?ts$|(^|\/)tests?(\/|$)|\.test\.|tsconfig|vitest|biome/.test(p));
    expect(offending).toEqual([]);
    expect(existsSync(join(root, 'app', 'service'))).toBe(false);
  });

  it('has the production dependencies and none of the development ones', () => {
    const devOnly = Object.entries(lock.packages).filter(([path, meta]) => path !== '' && meta.dev === true);
    // A lockfile with no dev packages would make the check below vacuous.
    expect(devOnly.length).toBeGreaterThan(0);
    const present = devOnly.map(([path]) => path).filter((path) => existsSync(join(app(), path)));
    expect(present).toEqual([]);
    for (const name of Object.keys(pkg.dependencies)) {
      const manifest = join(app(), 'node_modules', name, 'package.json');
      expect(existsSync(manifest), `dependency ${name}`).toBe(true);
      const installed = JSON.parse(readFileSync(manifest, 'utf8')).version;
      expect(installed, name).toBe(lock.packages[`node_modules/${name}`]?.version);
    }
  });

  it('has no package manager and no build secret', () => {
    for (const p of [
      'usr/local/lib/node_modules/npm',
      'usr/local/lib/node_modules/corepack',
      'usr/local/bin/npm',
      'usr/local/bin/npx',
      'usr/local/bin/corepack',
      'usr/local/bin/yarn',
      'root/.npmrc',
      'run/secrets/npm_ca',
      'run/secrets/npmrc',
    ]) {
      expect(existsSync(join(root, p)), `/${p}`).toBe(false);
    }
    expect(existsSync(join(root, 'usr/local/bin/node'))).toBe(true);
  });

  it('keeps the service code owned by root and not writable by its user', () => {
    const writable = walk(app()).filter((p) => {
      const st = lstatSync(join(app(), p));
      return !st.isSymbolicLink() && (st.uid !== 0 || (st.mode & 0o022) !== 0);
    });
    expect(writable).toEqual([]);
  });

  it('records no secret in its history', async () => {
    const history = await podman(['history', '--no-trunc', '--format', '{{.CreatedBy}}', IMAGE]);
    expect(history).not.toMatch(/BEGIN CERTIFICATE|_authToken|_auth=/);
  });
});

describe('a bad configuration', () => {
  it('stops the container with exit code 1 and one line naming the variable', async () => {
    const r = await runOffline(['-e', 'PORT=abc']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^periscope: invalid environment: PORT="abc"/)]);
  });
});

describe('start-up', () => {
  it('compiles the bundle from the baked-in compile cache, read-only and as the service user', async () => {
    // PORT=abc: the process loads (and compiles) the whole bundle, then stops at the env check.
    const r = await runOffline(['--read-only', '-e', 'NODE_DEBUG_NATIVE=COMPILE_CACHE', '-e', 'PORT=abc']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/V8 code cache for ESM file:\/\/\/app\/dist\/bundle\/periscope\.js was accepted/);
  });

  it('compiles the YAML parser a ConfigMap needs from the cache too', async () => {
    // A config file the parser rejects: the process loads the parser (a lazy
    // chunk of the bundle), reports the file as YAML (not as JSON: the
    // parser was found) and stops, having compiled nothing without the cache.
    const dir = mkdtempSync(join(tmpdir(), 'periscope-image-config-'));
    writeFileSync(join(dir, 'config.yaml'), 'logLevel: [unclosed\n', { mode: 0o644 });
    chmodSync(dir, 0o755);
    try {
      const r = await runOffline([
        '--read-only',
        '-v',
        `${dir}:/etc/periscope:ro`,
        '-e',
        'CONFIG_FILE=/etc/periscope/config.yaml',
        '-e',
        'NODE_DEBUG_NATIVE=COMPILE_CACHE',
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/periscope: \/etc\/periscope\/config\.yaml: not valid YAML/);
      const missed = r.stderr.split('\n').filter((l) => l.includes('was not initialized'));
      expect(missed).toEqual([]);
      expect(r.stderr).toMatch(/V8 code cache for ESM file:\/\/\/app\/dist\/bundle\/\S+\.js was accepted/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("under the chart's memory limit", () => {
  // V8 sizes its young generation from the memory it may use (Node.js reads
  // the cgroup limit): the probe reports the new space V8 grew to and the limit it saw.
  const chartLimit = () => {
    const values = parseYaml(readFileSync(join(repoRoot, 'k8s/periscope/values.yaml'), 'utf8')) as {
      resources: { limits: { memory: string } };
    };
    return parseMemoryLimit(values.resources.limits.memory);
  };
  const run = async (flags: readonly string[]) => {
    const limit = chartLimit();
    const r = await runOffline(['--memory', String(limit)], ['node', ...flags, '-e', YOUNG_GENERATION_PROBE]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { newSpace: number; limit: number };
    expect(out.limit).toBe(limit);
    return out.newSpace;
  };

  it("keeps 16 MB semi-spaces with the image's flags, where V8 alone would shrink them to 1 MB", async () => {
    expect(await run([])).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(await run(PRODUCTION_NODE_FLAGS)).toBe(2 * 16 * 1024 * 1024);
  });
});

describe('running hardened', () => {
  const name = `periscope-image-test-${process.pid}`;
  const gracePeriodS = 30;
  const profilingToken = 'container-test-token-0123456789';
  let appUrl: string;
  let adminUrl: string;
  let pid: number;
  // A stand-in OTLP/HTTP receiver on the host's loopback: the bodies of the
  // span exports the container sends (reached from inside at 10.0.2.2, slirp's
  // address for the host's loopback, opened by allow_host_loopback below).
  const received: Array<{ path: string; type: string | undefined; body: Buffer }> = [];
  let receiver: Server;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', type: req.headers['content-type'], body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const receiverPort = (receiver.address() as AddressInfo).port;
    await podman([
      'run',
      '--detach',
      '--name',
      name,
      ...CONTAINER_LIMITS,
      // What a hardened pod spec asks for: readOnlyRootFilesystem with an
      // emptyDir on /tmp, drop ALL, allowPrivilegeEscalation: false.
      '--read-only',
      '--read-only-tmpfs=false',
      '--tmpfs',
      '/tmp:rw,mode=1777,size=16m',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      // User-mode networking: the host side is a loopback port; the service is
      // reached on the container's own interface, so it must not bind loopback only.
      '--network',
      'slirp4netns:port_handler=slirp4netns,allow_host_loopback=true',
      '--publish',
      '127.0.0.1::3000',
      '--publish',
      '127.0.0.1::9464',
      '--env',
      'SHUTDOWN_DELAY_MS=3000',
      '--env',
      'SHUTDOWN_TIMEOUT_MS=5000',
      // On, to prove the native profiler loads and works in the hardened container.
      '--env',
      'PROFILING_ENABLED=true',
      '--env',
      `PROFILING_TOKEN=${profilingToken}`,
      // Traces to the receiver above, promptly (the default batch delay is 5 s).
      '--env',
      `OTEL_EXPORTER_OTLP_ENDPOINT=http://10.0.2.2:${receiverPort}`,
      '--env',
      'OTEL_BSP_SCHEDULE_DELAY=100',
      IMAGE,
    ]);
    appUrl = await publishedUrl(name, 3000);
    adminUrl = await publishedUrl(name, 9464);
    pid = (await inspect<ContainerInfo>('container', name)).State.Pid;
  }, 60_000);

  let failed = false;
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });
  afterAll(async () => {
    // The service's own log lines explain most failures here: show them then.
    const logs = await podmanResult(['logs', name]);
    if (failed) console.log(`--- ${name} output ---\n${logs.stdout}${logs.stderr}`);
    await podmanResult(['rm', '--force', '--time', '0', name]);
    receiver?.close();
  });

  it('becomes ready on the admin port', async () => {
    await waitFor('/readyz to answer 200', async () => (await http(`${adminUrl}/readyz`)).status === 200);
    expect((await http(`${adminUrl}/livez`)).status).toBe(200);
  });

  it('runs node as PID 1 of the container, as uid 1000, with no capabilities', () => {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    expect(cmdline).toEqual(['node', ...PRODUCTION_NODE_FLAGS, PRODUCTION_ENTRY]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'm').exec(status)?.[1]?.trim().split(/\s+/);
    expect(field('NSpid')?.at(-1)).toBe('1');
    expect(field('Uid')).toEqual(['1000', '1000', '1000', '1000']);
    expect(field('CapEff')).toEqual(['0000000000000000']);
    expect(field('NoNewPrivs')).toEqual(['1']);
  });

  it('has a read-only root filesystem with /tmp writable', async () => {
    expect((await inspect<ContainerInfo>('container', name)).HostConfig.ReadonlyRootfs).toBe(true);
    const app = await podmanResult(['exec', name, 'sh', '-c', 'echo x > /app/probe']);
    expect(app.code).not.toBe(0);
    expect(app.stderr).toMatch(/Read-only file system/);
    const home = await podmanResult(['exec', name, 'sh', '-c', 'echo x > /home/node/probe']);
    expect(home.stderr).toMatch(/Read-only file system/);
    const tmp = await podmanResult(['exec', name, 'sh', '-c', 'echo x > /tmp/probe && cat /tmp/probe']);
    expect(tmp).toMatchObject({ code: 0, stdout: 'x\n' });
  });

  it('serves requests on the app port and counts them on /metrics', async () => {
    const hello = await http(`${appUrl}/`);
    expect(hello.status).toBe(200);
    expect(JSON.parse(hello.body)).toEqual({ hello: 'world' });
    const echo = await http(`${appUrl}/api/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'hi', repeat: 2 }),
    });
    expect(echo.status).toBe(200);
    expect(JSON.parse(echo.body)).toMatchObject({ echo: 'hi hi' });
    const metrics = (await http(`${adminUrl}/metrics`)).body;
    expect(metrics).toMatch(/^http_server_request_duration_seconds_count\{[^}]*http_route="\/"[^}]*\} [1-9]/m);
  });

  it('exports the span of a sampled request over OTLP/HTTP (protobuf) with nothing but the endpoint set', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await http(`${appUrl}/`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(res.status).toBe(200);
    const id = Buffer.from(traceId, 'hex');
    await waitFor('a span export carrying the trace id', async () => received.some((e) => e.body.includes(id)));
    const hit = received.find((e) => e.body.includes(id));
    expect(hit).toMatchObject({ path: '/v1/traces', type: 'application/x-protobuf' });
    // The span's name and the service's resource, as protobuf strings.
    expect(hit?.body.includes(Buffer.from('GET /'))).toBe(true);
    expect(hit?.body.includes(Buffer.from('periscope'))).toBe(true);
  });

  it('takes a CPU profile with the native profiler (@datadog/pprof) under these restrictions', async () => {
    const res = await http(`${adminUrl}/debug/pprof/profile?seconds=1`, {
      headers: { authorization: `Bearer ${profilingToken}` },
      timeoutMs: 30_000,
    });
    expect(res.status, res.body).toBe(200);
    // pprof profiles are gzipped protobuf.
    expect([...res.raw.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(gunzipSync(res.raw).length).toBeGreaterThan(0);
  });

  it('on `podman stop` (SIGTERM) fails readiness, keeps serving, drains and exits 0', async () => {
    const stopping = podmanResult(['stop', '--time', String(gracePeriodS), name], (gracePeriodS + 30) * 1000);
    await waitFor('/readyz to answer 503 after SIGTERM', async () => (await http(`${adminUrl}/readyz`)).status === 503);
    const during = await http(`${appUrl}/`);
    expect(during.status).toBe(200);
    expect(during.headers.connection).toBe('close');

    const stop = await stopping;
    expect(stop.code, stop.stderr).toBe(0);
    const state = (await inspect<ContainerInfo>('container', name)).State;
    // Exit 0 is the service's own: a container killed after the grace period exits 137.
    expect(state).toMatchObject({ Running: false, ExitCode: 0, OOMKilled: false });
    const messages = (await podman(['logs', name]))
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; signal?: string });
    expect(messages.find((m) => m.msg === 'shutdown started: readiness failing')?.signal).toBe('SIGTERM');
    expect(messages.at(-1)?.msg).toBe('shutdown complete');
  });
});
