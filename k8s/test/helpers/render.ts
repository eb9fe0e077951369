// Rendering value sets and reading the result as Kubernetes objects.
import { join } from 'node:path';
import { inject } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { K8sObject } from '../../tools/k8s-object.js';
import { helmTemplate, newestKubernetes, REPO, type RenderOptions } from '../../tools/toolchain.js';

/** The value sets CI renders and validates: name → values files. */
export const VALUE_SETS: Record<string, string[]> = {
  defaults: [],
  'everything-on': [join(REPO, 'k8s/values/everything-on.yaml')],
  canary: [join(REPO, 'k8s/values/canary.yaml')],
  'elu-autoscaling': [join(REPO, 'k8s/values/elu-autoscaling.yaml')],
};

export type { K8sObject };

export function toolchain() {
  return inject('toolchain');
}

export function render(opts: RenderOptions = {}): string {
  const tc = toolchain();
  return helmTemplate(tc.helm, newestKubernetes(tc), opts);
}

export function renderSet(name: string, opts: RenderOptions = {}): string {
  const files = VALUE_SETS[name];
  if (!files) throw new Error(`unknown value set ${name}`);
  return render({ ...opts, valuesFiles: [...files, ...(opts.valuesFiles ?? [])] });
}

export function parseObjects(yamlText: string): K8sObject[] {
  return parseAllDocuments(yamlText)
    .map((d) => {
      if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0]?.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

export function objects(setName: string, opts: RenderOptions = {}): K8sObject[] {
  return parseObjects(renderSet(setName, opts));
}

export function find(objs: K8sObject[], kind: string, name?: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind}${name ? ` ${name}` : ''} in the render`);
  return o;
}

export function all(objs: K8sObject[], kind: string): K8sObject[] {
  return objs.filter((x) => x.kind === kind);
}

/** Does a label selector (matchLabels) select these labels? */
export function selects(matchLabels: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(matchLabels).every(([k, v]) => labels?.[k] === v);
}
