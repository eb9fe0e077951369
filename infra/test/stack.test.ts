// The local observability stack (infra/compose.yaml), validated without a
// Docker engine:
//  - compose-go (the library `docker compose` is built on) loads it: Compose
//    Specification schema, interpolation, path resolution, consistency;
//  - every file and folder it mounts or builds from exists (Docker would
//    silently create a missing bind-mount source as an empty directory);
//  - Prometheus runs the same prometheus.yml and rules/*.yaml the tests load,
//    with exemplar storage on;
//  - Grafana is provisioned with the generated dashboards and data sources
//    whose uids the dashboards and exemplar links use;
//  - the collector config is valid for a collector of the image's version
//    (`jaeger validate`: Jaeger v2 is built on that collector), and the
//    service → collector → Jaeger wiring points at services that exist.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadDashboards, ROOT, ruleFiles } from '../../dashboards/check/sources.js';
import { JAEGER_UID, PROMETHEUS_UID } from '../../dashboards/lib/datasources.js';

const run = promisify(execFile);
const TOOLS_BIN = `${process.env.PERISCOPE_TOOLS_DIR ?? `${process.env.HOME}/.cache/periscope/tools`}/bin`;
const COMPOSE_CONFIG = process.env.COMPOSE_CONFIG_BIN ?? `${TOOLS_BIN}/compose-config`;
const JAEGER = process.env.JAEGER_BIN ?? `${TOOLS_BIN}/jaeger`;
const COMPOSE_FILE = `${ROOT}infra/compose.yaml`;

interface Mount {
  type: string;
  source?: string;
  target: string;
}
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: Mount[];
}
interface Project {
  services: Record<string, Service>;
}

async function composeConfig(file: string): Promise<Project> {
  for (const tool of [COMPOSE_CONFIG, JAEGER]) {
    if (!existsSync(tool)) throw new Error(`${tool} is missing: run bash infra/test/install-tools.sh`);
  }
  const { stdout } = await run(COMPOSE_CONFIG, [file], { maxBuffer: 16 << 20 });
  return JSON.parse(stdout) as Project;
}

function service(p: Project, name: string): Service {
  const s = p.services[name];
  if (!s) throw new Error(`compose file has no service ${name}`);
  return s;
}

/** The host path behind a container path, through the service's bind mounts. */
function hostPath(s: Service, containerPath: string): string | undefined {
  const mount = (s.volumes ?? [])
    .filter((v) => v.type === 'bind' && (containerPath === v.target || containerPath.startsWith(`${v.target}/`)))
    .sort((a, b) => b.target.length - a.target.length)[0];
  return mount?.source ? join(mount.source, containerPath.slice(mount.target.length)) : undefined;
}

const flag = (s: Service, name: string) =>
  (s.command ?? []).find((c) => c.startsWith(`--${name}=`))?.slice(name.length + 3);

describe('infra/compose.yaml', () => {
  let project: Project;

  beforeAll(async () => {
    project = await composeConfig(COMPOSE_FILE);
  });

  it('is a valid compose project with the five services', () => {
    expect(Object.keys(project.services).sort()).toEqual([
      'grafana',
      'jaeger',
      'otel-collector',
      'periscope',
      'prometheus',
    ]);
  });

  it('is rejected by the same validator when broken (the check can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'periscope-compose-'));
    try {
      const broken = readFileSync(COMPOSE_FILE, 'utf8');
      const cases = {
        'unknown key': broken.replace('    restart: unless-stopped', '    restrat: unless-stopped'),
        'undefined dependency': broken.replace(/^ {6}jaeger:$/m, '      jaegr:'),
      };
      for (const [what, text] of Object.entries(cases)) {
        expect(text, what).not.toBe(broken);
        writeFileSync(join(dir, 'compose.yaml'), text);
        await expect(run(COMPOSE_CONFIG, [join(dir, 'compose.yaml')]), what).rejects.toThrow(/compose-config:/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mounts and builds only from paths that exist', () => {
    const missing: string[] = [];
    for (const [name, s] of Object.entries(project.services)) {
      for (const v of s.volumes ?? []) {
        if (v.type === 'bind' && v.source && !existsSync(v.source)) missing.push(`${name}: ${v.source}`);
      }
      if (s.build) {
        const dockerfile = resolve(s.build.context, s.build.dockerfile);
        if (!existsSync(dockerfile)) missing.push(`${name}: build ${dockerfile}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('pins every image to a version', () => {
    for (const [name, s] of Object.entries(project.services)) {
      if (s.build) continue;
      expect(s.image, name).toMatch(/:[0-9v][\w.-]*$/);
    }
  });

  it('runs Prometheus on the same prometheus.yml and rule files the tests load, with exemplar storage', async () => {
    const prom = service(project, 'prometheus');
    const configFlag = flag(prom, 'config.file');
    expect(configFlag).toBeDefined();
    const config = hostPath(prom, configFlag as string);
    expect(config).toBe(`${ROOT}infra/prometheus/prometheus.yml`);
    expect(prom.command).toContain('--enable-feature=exemplar-storage');

    // rule_files globs, resolved against the config's folder on the host, are exactly the tests' rule files.
    const parsed = parseYaml(readFileSync(config as string, 'utf8')) as {
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const globbed = parsed.rule_files.flatMap((g) => {
      const dir = resolve(dirname(config as string), dirname(g));
      const re = new RegExp(`^${g.split('/').pop()?.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`);
      return ruleFiles(`${dir}/`).filter((f) => re.test(f.split('/').pop() ?? ''));
    });
    expect(globbed.sort()).toEqual(ruleFiles().sort());

    // promtool loads the config and every rule file it names.
    const { stdout } = await run('promtool', ['check', 'config', config as string]);
    expect(stdout).toMatch(/SUCCESS/);

    // It scrapes the compose service on the admin port.
    const targets = parsed.scrape_configs
      .find((j) => j.job_name === 'periscope')
      ?.static_configs.flatMap((c) => c.targets);
    expect(targets).toEqual(['periscope:9464']);
    expect(project.services.periscope?.environment?.ADMIN_PORT ?? '9464').toBe('9464');
  });

  it('provisions Grafana with the generated dashboards and the data sources they link to', () => {
    const grafana = service(project, 'grafana');
    const provisioning = hostPath(grafana, '/etc/grafana/provisioning');
    expect(provisioning).toBe(`${ROOT}infra/grafana/provisioning`);

    const providers = parseYaml(readFileSync(`${provisioning}/dashboards/periscope.yaml`, 'utf8')) as {
      providers: Array<{ options: { path: string } }>;
    };
    const dashboardsPath = providers.providers[0]?.options.path ?? '';
    expect(hostPath(grafana, dashboardsPath)).toBe(`${ROOT}dashboards/generated`);
    expect(loadDashboards().size).toBeGreaterThanOrEqual(3);
    const home = grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(statSync(hostPath(grafana, home) ?? '').isFile()).toBe(true);

    const ds = parseYaml(readFileSync(`${provisioning}/datasources/datasources.yaml`, 'utf8')) as {
      datasources: Array<{ uid: string; type: string; url: string; jsonData?: Record<string, unknown> }>;
    };
    const prometheus = ds.datasources.find((d) => d.type === 'prometheus');
    const jaeger = ds.datasources.find((d) => d.type === 'jaeger');
    expect(prometheus?.uid).toBe(PROMETHEUS_UID);
    expect(jaeger?.uid).toBe(JAEGER_UID);
    // Exemplar dots (label trace_id) open the trace in that Jaeger.
    expect(prometheus?.jsonData?.exemplarTraceIdDestinations).toEqual([
      expect.objectContaining({ name: 'trace_id', datasourceUid: JAEGER_UID }),
    ]);
    // Both point at compose services.
    for (const d of [prometheus, jaeger]) {
      const host = new URL(d?.url ?? '').hostname;
      expect(Object.keys(project.services), d?.url).toContain(host);
    }
    // Every dashboard queries through the datasource variable, never a hard-coded uid.
    // (Besides the dashboards' own uids, periscope-*.)
    for (const [file, d] of loadDashboards()) {
      const uids = [...JSON.stringify(d).matchAll(/"uid":\s*"([^"]*)"/g)].map((m) => m[1] ?? '');
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the Grafana variable reference, verbatim
      expect(new Set(uids.filter((u) => !u.startsWith('periscope-'))), file).toEqual(new Set(['${datasource}']));
    }
  });

  it('wires traces service → collector → Jaeger with a collector config the collector accepts', async () => {
    const collector = service(project, 'otel-collector');
    const configPath = (collector.command ?? []).find((c) => c.startsWith('--config='))?.slice('--config='.length);
    const config = hostPath(collector, configPath ?? '');
    expect(config).toBe(`${ROOT}infra/otel-collector/config.yaml`);
    await run(JAEGER, ['validate', `--config=file:${config}`]);

    const parsed = parseYaml(readFileSync(config as string, 'utf8')) as {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      exporters: Record<string, { endpoint?: string }>;
    };
    const otlpHttpPort = parsed.receivers.otlp.protocols.http.endpoint.split(':').pop();
    const endpoint = new URL(project.services.periscope?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT ?? '');
    expect(endpoint.hostname).toBe('otel-collector');
    expect(endpoint.port).toBe(otlpHttpPort);
    expect(parsed.exporters['otlp/jaeger']?.endpoint).toBe('jaeger:4317');

    // The collector image is the version `jaeger validate` was built with.
    const goMod = readFileSync(`${ROOT}infra/tools/go/jaeger/go.mod`, 'utf8');
    const embedded = /go\.opentelemetry\.io\/collector\/otelcol v(\S+)/.exec(goMod)?.[1];
    expect(collector.image).toBe(`otel/opentelemetry-collector:${embedded}`);
  });

  it('rejects a broken collector config (the validation can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'periscope-otelcol-'));
    try {
      const text = readFileSync(`${ROOT}infra/otel-collector/config.yaml`, 'utf8').replace(
        'exporters: [otlp/jaeger, debug]',
        'exporters: [otlp/jaeger, nowhere]',
      );
      writeFileSync(join(dir, 'config.yaml'), text);
      await expect(run(JAEGER, ['validate', `--config=file:${join(dir, 'config.yaml')}`])).rejects.toThrow(/nowhere/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
