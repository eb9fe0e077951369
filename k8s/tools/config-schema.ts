// The chart's `config` values are the service's runtime config file, so
// values.schema.json validates them with the service's own schema
// (RuntimeConfigSchema, TypeBox = JSON Schema), copied in by
// `npm run k8s:manifests` and checked for drift by the tests.
import { RuntimeConfigSchema } from '../../service/src/config/runtime-config.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Rewrites TypeBox output into what gives Helm users the clearest errors,
 * without changing what is accepted:
 * - a union of string constants becomes an enum ("must be one of ...");
 * - a property with a default is not required (the service fills it in).
 */
function clarify(node: Json): Json {
  if (Array.isArray(node)) return node.map(clarify);
  if (!isObject(node)) return node;
  const anyOf = node.anyOf;
  if (Array.isArray(anyOf) && anyOf.length > 0 && anyOf.every((s) => isObject(s) && typeof s.const === 'string')) {
    const { anyOf: _drop, ...rest } = node;
    return { ...(clarify(rest) as JsonObject), enum: anyOf.map((s) => (s as JsonObject).const as string) };
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) out[k] = clarify(v);
  const props = out.properties;
  if (Array.isArray(out.required) && isObject(props)) {
    const required = out.required.filter((name) => {
      const p = props[name as string];
      return !(isObject(p) && 'default' in p);
    });
    if (required.length) out.required = required;
    else delete out.required;
  }
  return out;
}

/** The JSON schema for `.Values.config`. */
export function configValuesSchema(): JsonObject {
  // JSON round trip: TypeBox's symbol-keyed metadata does not belong in a schema file.
  const plain = JSON.parse(JSON.stringify(RuntimeConfigSchema)) as Json;
  return {
    description:
      'The runtime config file (CONFIG_FILE), hot-reloaded. Generated from service/src/config/runtime-config.ts by `npm run k8s:manifests`; do not edit here.',
    ...(clarify(plain) as JsonObject),
  };
}
