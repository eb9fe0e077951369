// What the chart promises, checked on the renders: ports, probes, hardening,
// shutdown arithmetic, the config mount, canary labels, HPA and policies.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { all, find, type K8sObject, objects, selects, VALUE_SETS } from './helpers/render.js';

const sets = Object.keys(VALUE_SETS);
const deployments = (objs: K8sObject[]) => all(objs, 'Deployment');
const container = (d: K8sObject) => {
  const c = d.spec.template.spec.containers[0];
  if (!c) throw new Error(`${d.metadata.name} has no container`);
  return c;
};
const env = (d: K8sObject, name: string): string | undefined =>
  container(d).env.find((e: { name: string }) => e.name === name)?.value;
const portNumber = (d: K8sObject, name: string): number =>
  container(d).ports.find((p: { name: string }) => p.name === name)?.containerPort;

describe.each(sets)('value set %s', (set) => {
  const objs = objects(set);

  it('runs the app and admin ports the service reads from PORT and ADMIN_PORT', () => {
    for (const d of deployments(objs)) {
      expect(String(portNumber(d, 'http'))).toBe(env(d, 'PORT'));
      expect(String(portNumber(d, 'admin'))).toBe(env(d, 'ADMIN_PORT'));
      expect(env(d, 'HOST')).toBe('0.0.0.0');
    }
  });

  it('probes /readyz (startup, readiness) and /livez (liveness) on the admin port', () => {
    for (const d of deployments(objs)) {
      const c = container(d);
      expect(c.startupProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'admin' });
    }
  });

  it('never exposes the admin port through a public Service, Ingress or HTTPRoute', () => {
    const adminPort = portNumber(deployments(objs)[0] as K8sObject, 'admin');
    for (const svc of all(objs, 'Service')) {
      const isMetrics = svc.metadata.labels['app.kubernetes.io/component'] === 'metrics';
      for (const p of svc.spec.ports) {
        if (isMetrics) {
          // The scrape-only headless Service: no cluster IP, nothing routes client traffic to it.
          expect(svc.spec.clusterIP).toBe('None');
          expect(p.targetPort).toBe('admin');
        } else {
          expect(p.targetPort).toBe('http');
          expect(p.port).not.toBe(adminPort);
        }
      }
    }
    const publicServices = new Set(
      all(objs, 'Service')
        .filter((s) => s.metadata.labels['app.kubernetes.io/component'] !== 'metrics')
        .map((s) => s.metadata.name),
    );
    for (const ing of all(objs, 'Ingress')) {
      for (const rule of ing.spec.rules) {
        for (const p of rule.http.paths) {
          expect(publicServices.has(p.backend.service.name)).toBe(true);
          expect(p.backend.service.port).toEqual({ name: 'http' });
        }
      }
    }
    for (const route of all(objs, 'HTTPRoute')) {
      for (const rule of route.spec.rules) {
        for (const ref of rule.backendRefs) expect(publicServices.has(ref.name)).toBe(true);
      }
    }
  });

  it('is hardened: non-root, read-only root filesystem, no capabilities, no escalation, seccomp, no token', () => {
    const pods = [...deployments(objs).map((d) => d.spec.template), ...all(objs, 'Pod')];
    for (const pod of pods) {
      const spec = pod.spec;
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(spec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const c of spec.containers) {
        expect(c.securityContext).toMatchObject({
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.resources.requests.memory).toBeTruthy();
        expect(c.resources.limits.memory).toBeTruthy();
      }
    }
    for (const sa of all(objs, 'ServiceAccount')) expect(sa.automountServiceAccountToken).toBe(false);
  });

  it('gives the process longer than preStop + SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS before SIGKILL', () => {
    for (const d of deployments(objs)) {
      const spec = d.spec.template.spec;
      const delay = Number(env(d, 'SHUTDOWN_DELAY_MS'));
      const timeout = Number(env(d, 'SHUTDOWN_TIMEOUT_MS'));
      const preStop = (container(d).lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
      expect(delay).toBe(5000);
      expect(timeout).toBe(10000);
      // At least 2 s of margin for the span flush and exit.
      expect(spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(preStop + delay + timeout + 2000);
    }
  });

  it('rolls out without losing capacity, spread over zones and nodes', () => {
    for (const d of deployments(objs)) {
      expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      const keys = d.spec.template.spec.topologySpreadConstraints.map((c: { topologyKey: string }) => c.topologyKey);
      expect(keys).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
      for (const c of d.spec.template.spec.topologySpreadConstraints) {
        expect(selects(c.labelSelector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
      }
    }
  });

  it('mounts the config ConfigMap as a directory (no subPath), with CONFIG_FILE inside it', () => {
    const cm = find(objs, 'ConfigMap', 'periscope-config');
    for (const d of deployments(objs)) {
      const mount = container(d).volumeMounts.find((m: { name: string }) => m.name === 'config');
      expect(mount.subPath).toBeUndefined();
      const volume = d.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'config');
      expect(volume.configMap.name).toBe(cm.metadata.name);
      const file = env(d, 'CONFIG_FILE') ?? '';
      expect(file.startsWith(`${mount.mountPath}/`)).toBe(true);
      expect(Object.keys(cm.data)).toContain(file.slice(mount.mountPath.length + 1));
      // No checksum/config annotation: an edit reloads in place instead of restarting every pod.
      expect(JSON.stringify(d.spec.template.metadata.annotations ?? {})).not.toMatch(/checksum/);
      // /tmp is the only writable path.
      expect(container(d).volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toContain('/tmp');
    }
    expect(parse(cm.data['config.yaml'])).toBeTypeOf('object');
  });

  it('selects only its own pods: each Deployment its track, the helm test pod nothing', () => {
    for (const d of deployments(objs)) {
      expect(selects(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
      for (const other of deployments(objs).filter((o) => o !== d)) {
        expect(selects(d.spec.selector.matchLabels, other.spec.template.metadata.labels)).toBe(false);
      }
    }
    const selectors = [
      ...all(objs, 'Service').map((s) => s.spec.selector),
      ...all(objs, 'PodDisruptionBudget').map((p) => p.spec.selector.matchLabels),
      ...all(objs, 'NetworkPolicy').map((n) => n.spec.podSelector.matchLabels),
    ];
    for (const pod of all(objs, 'Pod')) {
      for (const sel of selectors) expect(selects(sel, pod.metadata.labels)).toBe(false);
    }
  });

  it('restricts the admin port to networkPolicy.admin.from', () => {
    const np = find(objs, 'NetworkPolicy');
    const admin = np.spec.ingress.find((r: { ports: { port: string }[] }) => r.ports[0]?.port === 'admin');
    expect(admin.from.length).toBeGreaterThan(0);
    for (const d of deployments(objs))
      expect(selects(np.spec.podSelector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
  });
});

describe('defaults', () => {
  const objs = objects('defaults');

  it('autoscale the stable Deployment on CPU against a CPU request, and leave replicas to the HPA', () => {
    const hpa = find(objs, 'HorizontalPodAutoscaler');
    const d = find(objs, 'Deployment', 'periscope');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'periscope' });
    expect(hpa.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
    ]);
    expect(container(d).resources.requests.cpu).toBeTruthy();
    expect(d.spec.replicas).toBeUndefined();
    // Up at once, down after a 5-minute window.
    expect(hpa.spec.behavior.scaleUp.stabilizationWindowSeconds).toBe(0);
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
  });

  it('have a PDB over all pods and keep a crash-looping pod from blocking drains', () => {
    const pdb = find(objs, 'PodDisruptionBudget');
    expect(pdb.spec.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
    expect(selects(pdb.spec.selector.matchLabels, find(objs, 'Deployment').spec.template.metadata.labels)).toBe(true);
  });

  it('render no optional part', () => {
    const kinds = objs.map((o) => o.kind);
    for (const k of ['Ingress', 'HTTPRoute', 'ServiceMonitor', 'PrometheusRule']) expect(kinds).not.toContain(k);
    expect(deployments(objs)).toHaveLength(1);
    expect(all(objs, 'ConfigMap').map((c) => c.metadata.name)).toEqual(['periscope-config']);
  });
});

describe('canary', () => {
  const objs = objects('canary');

  it('runs a second Deployment with its own image, labelled track=canary', () => {
    const stable = find(objs, 'Deployment', 'periscope');
    const canary = find(objs, 'Deployment', 'periscope-canary');
    expect(stable.spec.template.metadata.labels.track).toBe('stable');
    expect(canary.spec.template.metadata.labels.track).toBe('canary');
    expect(container(stable).image).toMatch(/:0\.1\.0$/);
    expect(container(canary).image).toMatch(/:0\.2\.0-rc\.1$/);
    expect(canary.spec.replicas).toBe(1);
    expect(env(canary, 'OTEL_RESOURCE_ATTRIBUTES')).toContain('service.version=0.2.0-rc.1');
  });

  it('splits the HTTPRoute by weight between per-track Services', () => {
    const route = find(objs, 'HTTPRoute');
    const refs = route.spec.rules[0].backendRefs;
    expect(refs).toEqual([
      { name: 'periscope-stable', port: 80, weight: 90 },
      { name: 'periscope-canary', port: 80, weight: 10 },
    ]);
    expect(find(objs, 'Service', 'periscope-stable').spec.selector.track).toBe('stable');
    expect(find(objs, 'Service', 'periscope-canary').spec.selector.track).toBe('canary');
  });

  it('turns the pod label track into a metric label through the ServiceMonitor', () => {
    const sm = find(objs, 'ServiceMonitor');
    expect(sm.spec.endpoints[0].relabelings).toContainEqual({
      action: 'replace',
      sourceLabels: ['__meta_kubernetes_pod_label_track'],
      targetLabel: 'track',
    });
    // The metrics Service covers both tracks; only it matches the ServiceMonitor.
    const matching = all(objs, 'Service').filter((s) => selects(sm.spec.selector.matchLabels, s.metadata.labels));
    expect(matching.map((s) => s.metadata.name)).toEqual(['periscope-metrics']);
    for (const d of deployments(objs)) {
      expect(selects(matching[0]?.spec.selector, d.spec.template.metadata.labels)).toBe(true);
    }
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'admin', path: '/metrics' });
  });
});

describe('elu-autoscaling', () => {
  it('adds the event-loop utilization Pods metric next to CPU', () => {
    const hpa = find(objects('elu-autoscaling'), 'HorizontalPodAutoscaler');
    expect(hpa.spec.metrics).toContainEqual({
      type: 'Pods',
      pods: {
        metric: { name: 'nodejs_eventloop_utilization' },
        target: { type: 'AverageValue', averageValue: '600m' },
      },
    });
    expect(hpa.spec.metrics.map((m: { type: string }) => m.type)).toEqual(['Resource', 'Pods']);
  });

  it('turns an ELU target into milli-units exactly (0.57 → 570m, not 569m)', () => {
    const hpa = find(
      objects('elu-autoscaling', { setJson: ['autoscaling.eventLoopUtilization.target=0.57'] }),
      'HorizontalPodAutoscaler',
    );
    expect(hpa.spec.metrics[1].pods.target.averageValue).toBe('570m');
  });
});

describe('shutdown settings', () => {
  it('grow the grace period with a preStop sleep and longer timings', () => {
    const objs = objects('defaults', {
      set: ['shutdown.preStopSleepSeconds=3', 'shutdown.delayMs=7500', 'shutdown.timeoutMs=20000'],
    });
    const d = find(objs, 'Deployment');
    expect(container(d).lifecycle.preStop).toEqual({ sleep: { seconds: 3 } });
    // 3 + ceil(27.5) + 5
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBe(36);
  });
});
