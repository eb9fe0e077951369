// The pinned Kubernetes tools, located through the project's own installers
// (infra/tools/install-*.sh), which build or generate them on first use and
// print their path; later calls return at once from the cache.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '..', '..');
export const CHART = join(REPO, 'k8s', 'periscope');
export const RELEASE = 'periscope';

export interface Toolchain {
  helm: string;
  kubeconform: string;
  kustomize: string;
  /** Folder with versions.json, v<k8s>-standalone-strict/ and crds/. */
  schemas: string;
  /** Kubernetes versions the schemas were generated for, oldest first. */
  kubernetesVersions: string[];
}

function install(script: string): string {
  const out = execFileSync('bash', [join(REPO, 'infra', 'tools', script)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const path = out.trim().split('\n').at(-1);
  if (!path) throw new Error(`${script} printed no path`);
  return path;
}

export function installToolchain(): Toolchain {
  const schemas = install('install-k8s-schemas.sh');
  const versions = JSON.parse(readFileSync(join(schemas, 'versions.json'), 'utf8')) as { kubernetes: string[] };
  return {
    helm: install('install-helm.sh'),
    kubeconform: install('install-kubeconform.sh'),
    kustomize: install('install-kustomize.sh'),
    schemas,
    kubernetesVersions: versions.kubernetes,
  };
}

/** The newest validated Kubernetes version: what `helm template` renders for by default here. */
export function newestKubernetes(tc: Pick<Toolchain, 'kubernetesVersions'>): string {
  const v = tc.kubernetesVersions.at(-1);
  if (!v) throw new Error('no Kubernetes schema versions installed');
  return v;
}

export interface RenderOptions {
  valuesFiles?: string[];
  set?: string[];
  /** --set-json key=<JSON>: numbers stay numbers (--set turns 0.57 into a string). */
  setJson?: string[];
  kubeVersion?: string;
  skipTests?: boolean;
  namespace?: string;
  /** Another chart directory (a modified copy in tests); default k8s/periscope. */
  chart?: string;
  /** --show-only: render one template. */
  showOnly?: string;
}

/** `helm template` → its YAML stream. Throws with helm's stderr on failure. */
export function helmTemplate(helm: string, kubeVersion: string, opts: RenderOptions = {}): string {
  const args = ['template', RELEASE, opts.chart ?? CHART, '--kube-version', opts.kubeVersion ?? kubeVersion];
  if (opts.namespace) args.push('--namespace', opts.namespace);
  for (const f of opts.valuesFiles ?? []) args.push('--values', f);
  for (const s of opts.set ?? []) args.push('--set', s);
  for (const s of opts.setJson ?? []) args.push('--set-json', s);
  if (opts.skipTests) args.push('--skip-tests');
  if (opts.showOnly) args.push('--show-only', opts.showOnly);
  return run(helm, args);
}

/** Runs a tool; on failure throws an Error whose message is the tool's stderr (or stdout). */
export function run(cmd: string, args: string[], cwd = REPO): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    // Helm logs each symlink it follows (files/rules, files/dashboards); that is not the error.
    const text = (e.stderr || e.stdout || e.message).replace(/^walk\.go:\d+: found symbolic link.*\n?/gm, '');
    throw new Error(text.trim());
  }
}
