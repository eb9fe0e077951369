// helm lint --strict and strict schema validation of every value set, on the
// oldest and newest Kubernetes versions the chart supports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { CHART, run } from '../tools/toolchain.js';
import { describeFailures, kubeconform } from './helpers/kubeconform.js';
import { parseObjects, renderSet, toolchain, VALUE_SETS } from './helpers/render.js';

const tc = toolchain();

describe.each(Object.keys(VALUE_SETS))('value set %s', (set) => {
  it('passes helm lint --strict', () => {
    const files = VALUE_SETS[set] ?? [];
    const out = run(tc.helm, [
      'lint',
      '--strict',
      CHART,
      '--kube-version',
      tc.kubernetesVersions.at(-1) ?? '',
      ...files.flatMap((f) => ['--values', f]),
    ]);
    expect(out).toContain('0 chart(s) failed');
    expect(out).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it.each(tc.kubernetesVersions)('renders objects valid against the strict Kubernetes %s schemas', (version) => {
    const text = renderSet(set, { kubeVersion: version });
    const results = kubeconform(tc, text, version);
    expect(describeFailures(results)).toBe('');
    // Every rendered object was checked (none skipped for want of a schema).
    expect(results.length).toBe(parseObjects(text).length);
  });
});

describe('the validation itself', () => {
  const everything = renderSet('everything-on');
  const kinds = [...new Set(parseObjects(everything).map((o) => `${o.apiVersion} ${o.kind}`))].sort();

  it('covers every optional kind in the everything-on set', () => {
    expect(kinds).toEqual(
      [
        'apps/v1 Deployment',
        'autoscaling/v2 HorizontalPodAutoscaler',
        'gateway.networking.k8s.io/v1 HTTPRoute',
        'monitoring.coreos.com/v1 PrometheusRule',
        'monitoring.coreos.com/v1 ServiceMonitor',
        'networking.k8s.io/v1 Ingress',
        'networking.k8s.io/v1 NetworkPolicy',
        'policy/v1 PodDisruptionBudget',
        'v1 ConfigMap',
        'v1 Pod',
        'v1 Service',
        'v1 ServiceAccount',
      ].sort(),
    );
  });

  // A validator that accepts anything proves nothing: a misspelt field in any
  // object of the render, CRDs included, must be reported.
  it('rejects an unknown field in every kind (the schemas are strict)', () => {
    const docs = everything.split(/^---\s*$/m).filter((d) => d.trim());
    for (const text of docs) {
      const doc = parseDocument(text);
      const kind = String(doc.get('kind'));
      const target = doc.has('spec') ? ['spec', 'periscopeTypo'] : ['periscopeTypo'];
      doc.setIn(target, true);
      const [result] = kubeconform(tc, doc.toString(), tc.kubernetesVersions.at(-1) ?? '');
      expect(result?.status, `${kind} with ${target.join('.')}`).toBe('statusInvalid');
      expect(result?.msg).toContain('periscopeTypo');
    }
  });

  it('rejects a wrong type deep inside a pod template', () => {
    const text = renderSet('defaults').replace('containerPort: 3000', 'containerPort: "three thousand"');
    const results = kubeconform(tc, text, tc.kubernetesVersions[0] ?? '');
    expect(describeFailures(results)).toMatch(/Deployment\/periscope .*containerPort/);
  });

  it('names the schema sources and versions it validated against', () => {
    const versions = JSON.parse(readFileSync(join(tc.schemas, 'versions.json'), 'utf8'));
    expect(versions.kubernetes).toEqual(tc.kubernetesVersions);
    expect(versions.prometheusOperator).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(versions.gatewayApi).toMatch(/^v\d+\.\d+\.\d+$/);
  });

  it('reports helm v3.22.0, linked as the release build is (default Kubernetes 1.37)', () => {
    expect(run(tc.helm, ['version', '--template', '{{ .Version }}'])).toBe('v3.22.0');
    // Without --kube-version, helm renders for the Kubernetes version its client-go targets.
    expect(run(tc.helm, ['template', 'x', CHART, '--show-only', 'templates/hpa.yaml'])).toContain(
      'HorizontalPodAutoscaler',
    );
  });

  // The binaries carry their module versions; these are the pins in infra/tools/go/*/go.mod.
  it.each([
    ['helm', 'helm.sh/helm/v3', 'v3.22.0'],
    ['kubeconform', 'github.com/yannh/kubeconform', 'v0.8.0'],
    ['kustomize', 'sigs.k8s.io/kustomize/kustomize/v5', 'v5.8.2'],
  ] as const)('runs %s from %s %s', (tool, module, version) => {
    const info = run('go', ['version', '-m', tc[tool]]);
    expect(info).toMatch(
      new RegExp(`^\\s*(mod|dep)\\s+${module.replaceAll('.', '\\.')}\\s+${version.replaceAll('.', '\\.')}\\s`, 'm'),
    );
  });
});
