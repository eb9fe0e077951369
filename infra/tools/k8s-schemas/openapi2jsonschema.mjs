#!/usr/bin/env node
// Converts upstream API definitions into strict JSON schemas in kubeconform's
// layout, so manifests are validated offline against the real APIs.
//
//   node openapi2jsonschema.mjs kubernetes <swagger.json> <outDir>
//     The OpenAPI v2 spec shipped in the k8s.io/kubernetes module
//     (api/openapi-spec/swagger.json) → <outDir>/<kind>-<group>-<version>.json,
//     the names kubeconform's default template asks for
//     ({{ .ResourceKind }}{{ .KindSuffix }}.json).
//   node openapi2jsonschema.mjs crd <outDir> <crd.yaml>...
//     CustomResourceDefinitions → <outDir>/<full group>/<kind>_<version>.json
//     (template {{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json).
//
// The rules are those of kubeconform's scripts/openapi2jsonschema.py (derived
// from instrumenta/openapi2jsonschema, which built the kubernetes-json-schema
// sets kubeconform downloads by default), with these deliberate differences:
// - "strict" everywhere, the root object included: every object schema that
//   lists properties gets additionalProperties: false, unless the API marks it
//   x-kubernetes-preserve-unknown-fields. A misspelt field is an error.
// - Each file is standalone, but $refs stay local (#/definitions/...) instead
//   of being inlined, so recursive types (JSONSchemaProps) need no special case.
// - Optional fields are not made nullable: a chart that renders `key: null`
//   is sloppy, and we want to hear about it.
// - Quantity accepts a string or a number (the API server parses both: cpu: 1).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAllDocuments } from 'yaml';

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const DRAFT = 'http://json-schema.org/draft-04/schema#';

/** Deep-transforms one schema node (OpenAPI v2 or v3 flavour) into strict JSON Schema. */
export function strictify(node) {
  if (Array.isArray(node)) return node.map(strictify);
  if (node === null || typeof node !== 'object') return node;
  // int-or-string (v2: format; v3: x-kubernetes-int-or-string) → either type.
  if (node.format === 'int-or-string' || node['x-kubernetes-int-or-string'] === true) {
    const { description } = node;
    return { ...(description ? { description } : {}), oneOf: [{ type: 'string' }, { type: 'integer' }] };
  }
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    // Property maps are keyed by field names, which are not schemas themselves.
    if (key === 'properties' || key === 'definitions' || key === 'patternProperties') {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strictify(v)]));
    } else if (key === 'nullable') {
      // OpenAPI v3 `nullable: true` → JSON Schema's ["type", "null"].
    } else {
      out[key] = strictify(value);
    }
  }
  if (node.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  if (
    out.properties &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    out.additionalProperties = false;
  }
  return out;
}

/** Names of the definitions reachable from `root` through "#/definitions/..." refs. */
function reachable(root, definitions) {
  const seen = new Set();
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    const ref = node.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/definitions/')) {
      const name = ref.slice('#/definitions/'.length);
      if (!definitions[name]) throw new Error(`dangling $ref ${ref}`);
      if (!seen.has(name)) {
        seen.add(name);
        walk(definitions[name]);
      }
    }
    for (const v of Object.values(node)) walk(v);
  };
  walk(root);
  return seen;
}

/** kubeconform's KindSuffix: "-<first label of group>-<version>", or "-<version>" for the core group. */
export function kubeconformFileName(kind, group, version) {
  const g = group ? `-${group.split('.')[0]}` : '';
  return `${kind}${g}-${version}.json`.toLowerCase();
}

export function convertKubernetes(swagger) {
  const definitions = structuredClone(swagger.definitions);
  definitions[QUANTITY] = {
    description: 'A Kubernetes quantity: "500m", "1Gi", or a plain number.',
    oneOf: [{ type: 'string' }, { type: 'number' }],
  };
  const files = new Map();
  for (const [name, def] of Object.entries(definitions)) {
    for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
      const root = structuredClone(def);
      const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
      if (root.properties?.apiVersion) root.properties.apiVersion.enum = [apiVersion];
      if (root.properties?.kind) root.properties.kind.enum = [gvk.kind];
      const defs = {};
      for (const n of [...reachable(root, definitions)].sort()) defs[n] = n === name ? def : definitions[n];
      const schema = strictify({ $schema: DRAFT, ...root, definitions: defs });
      files.set(kubeconformFileName(gvk.kind, gvk.group, gvk.version), schema);
    }
  }
  return files;
}

export function convertCrds(yamlTexts) {
  const files = new Map();
  for (const text of yamlTexts) {
    for (const doc of parseAllDocuments(text)) {
      const crd = doc.toJS();
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      const { group, names } = crd.spec;
      for (const v of crd.spec.versions ?? []) {
        const open = v.schema?.openAPIV3Schema;
        if (!open) continue;
        const root = structuredClone(open);
        if (root.properties?.apiVersion) root.properties.apiVersion.enum = [`${group}/${v.name}`];
        if (root.properties?.kind) root.properties.kind.enum = [names.kind];
        files.set(join(group, `${names.kind}_${v.name}.json`.toLowerCase()), strictify({ $schema: DRAFT, ...root }));
      }
    }
  }
  return files;
}

function write(outDir, files) {
  for (const [rel, schema] of files) {
    const path = join(outDir, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, `${JSON.stringify(schema)}\n`);
  }
  console.error(`openapi2jsonschema: wrote ${files.size} schemas to ${outDir}`);
}

function main(argv) {
  const [mode, ...args] = argv;
  if (mode === 'kubernetes' && args.length === 2) {
    const [swaggerPath, outDir] = args;
    write(outDir, convertKubernetes(JSON.parse(readFileSync(swaggerPath, 'utf8'))));
  } else if (mode === 'crd' && args.length >= 2) {
    const [outDir, ...crdPaths] = args;
    write(outDir, convertCrds(crdPaths.map((p) => readFileSync(p, 'utf8'))));
  } else {
    console.error(
      'usage: openapi2jsonschema.mjs kubernetes <swagger.json> <outDir>\n' +
        '       openapi2jsonschema.mjs crd <outDir> <crd.yaml>...',
    );
    process.exit(2);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
