// `npm run k8s:manifests`: regenerates what k8s/ derives from other sources.
//   1. values.schema.json's `config` section ← service/src/config/runtime-config.ts
//   2. k8s/prometheus-adapter/values.yaml     ← the metric catalog
//   3. k8s/manifests/                         ← the chart's default render
// The tests (npm run test:k8s) fail when any of them is stale.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adapterValues } from './adapter-rules.js';
import { configValuesSchema } from './config-schema.js';
import { manifestFiles } from './manifests.js';
import { CHART, installToolchain, REPO } from './toolchain.js';

export const SCHEMA_PATH = join(CHART, 'values.schema.json');
export const ADAPTER_PATH = join(REPO, 'k8s', 'prometheus-adapter', 'values.yaml');
export const MANIFESTS_DIR = join(REPO, 'k8s', 'manifests');

/** values.schema.json with its config section regenerated (the rest is hand-written). */
export function valuesSchemaText(current: string): string {
  const schema = JSON.parse(current) as { properties: Record<string, unknown> };
  schema.properties.config = configValuesSchema();
  return `${JSON.stringify(schema, null, 2)}\n`;
}

function main(): void {
  writeFileSync(SCHEMA_PATH, valuesSchemaText(readFileSync(SCHEMA_PATH, 'utf8')));
  console.error(`wrote ${SCHEMA_PATH} (config section)`);

  mkdirSync(join(ADAPTER_PATH, '..'), { recursive: true });
  writeFileSync(ADAPTER_PATH, adapterValues().text);
  console.error(`wrote ${ADAPTER_PATH}`);

  const files = manifestFiles(installToolchain());
  mkdirSync(MANIFESTS_DIR, { recursive: true });
  for (const f of readdirSync(MANIFESTS_DIR)) if (!files.has(f)) rmSync(join(MANIFESTS_DIR, f));
  for (const [name, text] of files) writeFileSync(join(MANIFESTS_DIR, name), text);
  console.error(`wrote ${files.size} files to ${MANIFESTS_DIR}`);
}

if (import.meta.filename === process.argv[1]) main();
