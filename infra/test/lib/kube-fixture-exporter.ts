/**
 * A fixture exporter standing in for kube-state-metrics and the kubelet's
 * cAdvisor in tests: a real HTTP /metrics endpoint (Prometheus text format)
 * serving, for one Deployment, its HPA and its pods, the series a cluster
 * would have for every metric in dashboards/check/external-metrics.ts.
 *
 * The service does not export these; in a cluster kube-state-metrics and
 * cAdvisor do. Serving them from a real endpoint that Prometheus scrapes
 * (with honor_labels, as kube-prometheus scrapes kube-state-metrics) lets the
 * dashboard test execute every Scale-dashboard query against real storage.
 * Counters grow with wall time so rate() and increase() have something to do.
 *
 *   const ksm = await startKubeFixtureExporter({ namespace: 'shop', deployment: 'periscope', pods: ['periscope-7d9f8c6b5-x2x7k'] });
 *   // scrape ksm.address ("127.0.0.1:<port>"), then: await ksm.stop();
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { EXTERNAL_METRICS } from '../../../dashboards/check/external-metrics.js';

export interface KubeFixtureOptions {
  namespace: string;
  deployment: string;
  /** Pod names of the Deployment (<deployment>-<replicaset hash>-<suffix>). */
  pods: readonly string[];
  /** The service's container name (the chart's: periscope). */
  container?: string;
  /** The HPA's event-loop-utilization metric (the chart's: nodejs_eventloop_utilization). */
  hpaMetric?: string;
}

export interface KubeFixtureExporter {
  /** host:port to scrape. */
  address: string;
  /** Names of the metric families it serves. */
  families: ReadonlySet<string>;
  stop(): Promise<void>;
}

type Labels = Record<string, string>;
interface Family {
  name: string;
  type: 'counter' | 'gauge';
  /** Value at a scrape: seconds since start, and how many scrapes came before. */
  samples: Array<{ labels: Labels; value: (elapsedSeconds: number, scrapes: number) => number }>;
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function families(o: Required<KubeFixtureOptions>): Family[] {
  const { namespace, deployment, container } = o;
  const hpa = deployment; // the chart names the HPA after the Deployment
  const replicas = o.pods.length;
  const dep = { namespace, deployment };
  const h = { namespace, horizontalpodautoscaler: hpa };
  const gauge = (name: string, samples: Family['samples']): Family => ({ name, type: 'gauge', samples });
  const counter = (name: string, samples: Family['samples']): Family => ({ name, type: 'counter', samples });
  const constant = (labels: Labels, v: number) => ({ labels, value: () => v });
  const pods = o.pods.map((pod, i) => ({
    pod,
    uid: `0f6c6e3a-4b1d-4c55-9a2e-00000000000${i}`,
    node: `node-${i + 1}`,
  }));
  const cpuLimit = 1;
  const condition = (name: string, status: 'true' | 'false') =>
    (['true', 'false', 'unknown'] as const).map((s) =>
      constant({ ...h, condition: name, status: s }, s === status ? 1 : 0),
    );

  return [
    gauge('kube_deployment_spec_replicas', [constant(dep, replicas)]),
    gauge('kube_deployment_status_replicas', [constant(dep, replicas)]),
    gauge('kube_deployment_status_replicas_ready', [constant(dep, replicas)]),
    gauge('kube_deployment_status_replicas_available', [constant(dep, replicas)]),
    gauge('kube_horizontalpodautoscaler_info', [
      constant(
        {
          ...h,
          scaletargetref_api_version: 'apps/v1',
          scaletargetref_kind: 'Deployment',
          scaletargetref_name: deployment,
        },
        1,
      ),
    ]),
    gauge('kube_horizontalpodautoscaler_spec_min_replicas', [constant(h, replicas)]),
    gauge('kube_horizontalpodautoscaler_spec_max_replicas', [constant(h, 10)]),
    gauge('kube_horizontalpodautoscaler_status_desired_replicas', [constant(h, replicas)]),
    gauge('kube_horizontalpodautoscaler_spec_target_metric', [
      constant({ ...h, metric_name: o.hpaMetric, metric_target_type: 'average' }, 0.6),
      constant({ ...h, metric_name: 'cpu', metric_target_type: 'utilization' }, 60),
    ]),
    gauge('kube_horizontalpodautoscaler_status_target_metric', [
      {
        labels: { ...h, metric_name: o.hpaMetric, metric_target_type: 'average' },
        value: (t) => 0.3 + 0.1 * Math.sin(t / 10),
      },
      {
        labels: { ...h, metric_name: 'cpu', metric_target_type: 'utilization' },
        value: (t) => 35 + 5 * Math.sin(t / 10),
      },
    ]),
    gauge('kube_horizontalpodautoscaler_status_condition', [
      ...condition('AbleToScale', 'true'),
      ...condition('ScalingActive', 'true'),
      ...condition('ScalingLimited', 'false'),
    ]),
    gauge(
      'kube_pod_status_ready',
      pods.flatMap((p) =>
        (['true', 'false', 'unknown'] as const).map((c) =>
          constant({ namespace, pod: p.pod, uid: p.uid, condition: c }, c === 'true' ? 1 : 0),
        ),
      ),
    ),
    counter(
      'kube_pod_container_status_restarts_total',
      // The first pod restarts three times after the third scrape (so Prometheus
      // saw it at 0 first): PeriscopePodRestarting must fire for it alone.
      pods.map((p, i) => ({
        labels: { namespace, pod: p.pod, uid: p.uid, container },
        value: (_t, scrapes) => (i === 0 && scrapes >= 3 ? 3 : 0),
      })),
    ),
    gauge(
      'kube_pod_container_resource_requests',
      pods.flatMap((p) => [
        constant({ namespace, pod: p.pod, uid: p.uid, container, node: p.node, resource: 'cpu', unit: 'core' }, 0.25),
        constant(
          { namespace, pod: p.pod, uid: p.uid, container, node: p.node, resource: 'memory', unit: 'byte' },
          268435456,
        ),
      ]),
    ),
    gauge(
      'kube_pod_container_resource_limits',
      pods.flatMap((p) => [
        constant(
          { namespace, pod: p.pod, uid: p.uid, container, node: p.node, resource: 'cpu', unit: 'core' },
          cpuLimit,
        ),
        constant(
          { namespace, pod: p.pod, uid: p.uid, container, node: p.node, resource: 'memory', unit: 'byte' },
          536870912,
        ),
      ]),
    ),
    // cAdvisor: one CFS period per 100 ms; a few throttled.
    ...(['container_cpu_cfs_periods_total', 'container_cpu_cfs_throttled_periods_total'] as const).map((name) =>
      counter(
        name,
        pods.map((p) => ({
          labels: {
            namespace,
            pod: p.pod,
            container,
            id: `/kubepods/burstable/pod${p.uid}/c0ffee${p.uid.slice(-4)}`,
            image: 'ghcr.io/your-org/periscope:1.0.0',
            name: `k8s_${container}_${p.pod}_${namespace}_${p.uid}_0`,
          },
          value: (t) => Math.floor(name === 'container_cpu_cfs_periods_total' ? t * 10 : t * 0.4),
        })),
      ),
    ),
  ];
}

function exposition(fams: readonly Family[], elapsed: number, scrapes: number): string {
  const lines: string[] = [];
  for (const f of fams) {
    lines.push(
      `# HELP ${f.name} Fixture series standing in for kube-state-metrics / cAdvisor.`,
      `# TYPE ${f.name} ${f.type}`,
    );
    for (const s of f.samples) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${esc(v)}"`)
        .join(',');
      lines.push(`${f.name}{${labels}} ${s.value(elapsed, scrapes)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function startKubeFixtureExporter(opts: KubeFixtureOptions): Promise<KubeFixtureExporter> {
  const o: Required<KubeFixtureOptions> = {
    container: 'periscope',
    hpaMetric: 'nodejs_eventloop_utilization',
    ...opts,
  };
  const fams = families(o);
  // Every declared external metric must be served, or its panels go unexercised.
  const served = new Set(fams.map((f) => f.name));
  const missing = EXTERNAL_METRICS.filter((m) => !served.has(m.name)).map((m) => m.name);
  if (missing.length) throw new Error(`kube fixture exporter serves no series for: ${missing.join(', ')}`);

  const started = Date.now();
  let scrapes = 0;
  const server = createServer((req, res) => {
    if (req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(exposition(fams, (Date.now() - started) / 1000, scrapes++));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    families: served,
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
