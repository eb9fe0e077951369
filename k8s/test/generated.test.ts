// What `npm run k8s:manifests` writes must match its sources: the plain
// manifests = the chart's default render, the adapter rules = the catalog,
// the config schema = the service's. Run `npm run k8s:manifests` to fix.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapterValues } from '../tools/adapter-rules.js';
import { ADAPTER_PATH, MANIFESTS_DIR, SCHEMA_PATH, valuesSchemaText } from '../tools/generate.js';
import { defaultRender, manifestFiles } from '../tools/manifests.js';
import { run } from '../tools/toolchain.js';
import { describeFailures, kubeconform } from './helpers/kubeconform.js';
import { parseObjects, toolchain } from './helpers/render.js';

const tc = toolchain();
const STALE = 'stale: run `npm run k8s:manifests`';

describe('k8s/manifests', () => {
  const expected = manifestFiles(tc);

  it('holds exactly the files the chart renders by default', () => {
    expect(readdirSync(MANIFESTS_DIR).sort(), STALE).toEqual([...expected.keys()].sort());
    for (const [name, text] of expected) {
      expect(readFileSync(join(MANIFESTS_DIR, name), 'utf8'), `${name} ${STALE}`).toBe(text);
    }
  });

  it('builds with kustomize (kubectl apply -k) into the same objects as helm template', () => {
    const built = parseObjects(run(tc.kustomize, ['build', MANIFESTS_DIR]));
    const rendered = parseObjects(defaultRender(tc));
    const key = (o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`;
    expect(built.map(key).sort()).toEqual(rendered.map(key).sort());
    const byKey = new Map(rendered.map((o) => [key(o), o]));
    for (const o of built) expect(o).toEqual(byKey.get(key(o)));
  });

  it('contain no helm test hook', () => {
    expect(parseObjects(defaultRender(tc)).map((o) => o.kind)).not.toContain('Pod');
  });

  it.each(tc.kubernetesVersions)('are valid against the strict Kubernetes %s schemas', (version) => {
    const text = run(tc.kustomize, ['build', MANIFESTS_DIR]);
    expect(describeFailures(kubeconform(tc, text, version))).toBe('');
  });
});

describe('generated from the service', () => {
  it('k8s/prometheus-adapter/values.yaml matches the metric catalog', () => {
    expect(readFileSync(ADAPTER_PATH, 'utf8'), STALE).toBe(adapterValues().text);
  });

  it("values.schema.json's config section matches service/src/config/runtime-config.ts", () => {
    const current = readFileSync(SCHEMA_PATH, 'utf8');
    expect(current, STALE).toBe(valuesSchemaText(current));
  });
});
