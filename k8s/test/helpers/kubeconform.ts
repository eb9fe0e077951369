// Strict validation of a render with kubeconform against the offline schemas
// (infra/tools/install-k8s-schemas.sh). No schema may be missing: a kind
// without one is an error, never skipped.
import { execFileSync } from 'node:child_process';
import type { Toolchain } from '../../tools/toolchain.js';

export interface KubeconformResult {
  kind: string;
  name: string;
  version: string;
  status: 'statusValid' | 'statusInvalid' | 'statusError' | 'statusSkipped' | 'statusEmpty';
  msg: string;
}

export function kubeconform(tc: Toolchain, yamlText: string, kubernetesVersion: string): KubeconformResult[] {
  const args = [
    '-strict',
    '-output',
    'json',
    '-verbose',
    '-kubernetes-version',
    kubernetesVersion,
    '-schema-location',
    `${tc.schemas}/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
    '-schema-location',
    `${tc.schemas}/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`,
    '-',
  ];
  let out: string;
  try {
    out = execFileSync(tc.kubeconform, args, { input: yamlText, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    // Exit 1 when something is invalid; the JSON report is still on stdout.
    out = (err as { stdout?: string }).stdout ?? '';
    if (!out.trim()) throw err;
  }
  return (JSON.parse(out) as { resources: KubeconformResult[] }).resources;
}

export function describeFailures(results: KubeconformResult[]): string {
  return results
    .filter((r) => r.status !== 'statusValid')
    .map((r) => `${r.kind}/${r.name} (${r.version}): ${r.status} ${r.msg}`)
    .join('\n');
}
