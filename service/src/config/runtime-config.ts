// Runtime-tunable settings from CONFIG_FILE (in Kubernetes: a ConfigMap
// mounted as a directory). Unlike the environment, these may change while the
// process runs: the store validates a candidate completely, then swaps it in
// as one immutable object and tells subscribers, so a reader never sees half
// of an old file and half of a new one.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { LOG_LEVELS } from './env.js';

const ratio = (def?: number) => ({
  type: 'number',
  minimum: 0,
  maximum: 1,
  ...(def === undefined ? {} : { default: def }),
});

/** JSON Schema of CONFIG_FILE. Defaults fill what a file leaves out. */
export const RuntimeConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // Overrides LOG_LEVEL while the file is in force.
    logLevel: { type: 'string', enum: LOG_LEVELS },
    tracing: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        // Overrides OTEL_TRACES_SAMPLER_ARG for the *traceidratio samplers while in force.
        sampleRatio: ratio(),
      },
    },
    // Per client (see resilience/rate-limit.ts for the key), on the routes that opt in.
    rateLimit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 100 },
        timeWindowMs: { type: 'integer', minimum: 100, maximum: 86_400_000, default: 60_000 },
        // Read at start-up only: `redis` shares counters between pods.
        store: { type: 'string', enum: ['memory', 'redis'], default: 'memory' },
        redisUrl: { type: 'string', pattern: '^rediss?://' },
      },
    },
    // Load shedding thresholds (resilience/load-shedding.ts); 0 turns a signal off.
    shedding: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        // A policy, not a measurement of queueing (docs/resilience.md): the mean
        // delay read ~130 ms with ~0.9 s of requests queued in the sockets. At
        // 200 a 3x open-loop overload was not shed on this host; at 100 it was
        // (49-60 %), but the spike scenario's burst then ended 87 % in 503s.
        maxEventLoopDelayMs: { type: 'number', minimum: 0, maximum: 60_000, default: 200 },
        maxEventLoopUtilization: ratio(0),
        maxHeapUsedRatio: ratio(0.9),
        maxRssBytes: { type: 'integer', minimum: 0, default: 0 },
        retryAfterSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 2 },
      },
    },
    // Admission control (resilience/admission-control.ts): app requests in the
    // process at once before keep-alive connections wait to be read; 0 = off.
    // While connections wait, the limit is lowered as long as the event loop's
    // queueing delay is above targetEventLoopDelayMs (resilience/adaptive-limit.ts);
    // 0 keeps it at maxInFlight.
    admission: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxInFlight: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 1000 },
        targetEventLoopDelayMs: { type: 'integer', minimum: 0, maximum: 1000, default: 10 },
      },
    },
    // Free-form on/off switches for the application's own code paths.
    features: {
      type: 'object',
      default: {},
      propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' },
      additionalProperties: { type: 'boolean' },
    },
  },
} as const;

export interface RuntimeConfig {
  logLevel?: (typeof LOG_LEVELS)[number];
  tracing: { sampleRatio?: number };
  rateLimit: { max: number; timeWindowMs: number; store: 'memory' | 'redis'; redisUrl?: string };
  shedding: {
    maxEventLoopDelayMs: number;
    maxEventLoopUtilization: number;
    maxHeapUsedRatio: number;
    maxRssBytes: number;
    retryAfterSeconds: number;
  };
  admission: { maxInFlight: number; targetEventLoopDelayMs: number };
  features: Record<string, boolean>;
}

/**
 * What an empty file means, written out so a process without CONFIG_FILE
 * never compiles the validator (runtime-config.test.ts checks it equals the
 * schema's defaults).
 */
export const DEFAULT_RUNTIME_CONFIG: RuntimeConfig = deepFreeze({
  tracing: {},
  rateLimit: { max: 100, timeWindowMs: 60_000, store: 'memory' },
  shedding: {
    maxEventLoopDelayMs: 200,
    maxEventLoopUtilization: 0,
    maxHeapUsedRatio: 0.9,
    maxRssBytes: 0,
    retryAfterSeconds: 2,
  },
  admission: { maxInFlight: 1000, targetEventLoopDelayMs: 10 },
  features: {},
});

let validate: ReturnType<Ajv['compile']> | undefined;
function validator() {
  // Compiled on first use; no coercion ("1" is not 1 in a config file).
  // validateSchema: false skips compiling Ajv's meta-schema (tens of ms); the
  // schema itself is checked against it in runtime-config.test.ts.
  validate ??= new Ajv({ useDefaults: true, allErrors: false, strict: true, validateSchema: false }).compile(
    RuntimeConfigSchema,
  );
  return validate;
}

/** The value at a JSON pointer like /rateLimit/max, for the error message. */
function at(data: unknown, pointer: string): unknown {
  let v = data;
  for (const part of pointer.split('/').slice(1))
    v = (v as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return v;
}

function describe(err: ErrorObject, data: unknown): string {
  const where =
    err.keyword === 'additionalProperties'
      ? `${err.instancePath}/${(err.params as { additionalProperty: string }).additionalProperty}`
      : err.instancePath || '(root)';
  const what =
    err.keyword === 'additionalProperties'
      ? 'is not a known setting'
      : err.propertyName
        ? `key "${err.propertyName}" ${err.message}`
        : err.message;
  const value = err.keyword === 'additionalProperties' ? at(data, where) : at(data, err.instancePath);
  return `${where}: ${what} (got ${JSON.stringify(value)})`;
}

export class RuntimeConfigError extends Error {
  override name = 'RuntimeConfigError';
}

/**
 * The YAML parser, loaded on first use. Node's CommonJS interop names `parse`
 * on the module; the production bundle's lazy chunk (scripts/bundle.mjs) puts
 * it only on `default`. A missing parse must not let a YAML file be read as JSON.
 */
async function yamlParse(): Promise<(text: string) => unknown> {
  const mod = (await import('yaml')) as Partial<typeof import('yaml')> & { default?: Partial<typeof import('yaml')> };
  const parse = mod.parse ?? mod.default?.parse;
  if (typeof parse !== 'function') throw new RuntimeConfigError('the yaml module has no parse()');
  return parse;
}

/** Parse and validate one file's text; throws RuntimeConfigError with a one-line reason. */
export function parseRuntimeConfig(text: string, path: string, parseYaml?: (t: string) => unknown): RuntimeConfig {
  let raw: unknown;
  try {
    raw = parseYaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new RuntimeConfigError(`${path}: not valid ${parseYaml ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
  if (raw === null || raw === undefined) raw = {};
  const candidate = structuredClone(raw);
  const check = validator();
  if (!check(candidate)) {
    const first = check.errors?.[0];
    throw new RuntimeConfigError(`${path}: ${first ? describe(first, candidate) : 'invalid'}`);
  }
  const config = candidate as RuntimeConfig;
  if (config.rateLimit.store === 'redis' && !config.rateLimit.redisUrl) {
    throw new RuntimeConfigError(`${path}: /rateLimit/redisUrl: required when rateLimit.store is "redis"`);
  }
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

export function hashConfig(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

export type ConfigListener = (next: RuntimeConfig, previous: RuntimeConfig) => void;

/** Holds the runtime config in force; `replace` is the only way it changes. */
export class RuntimeConfigStore {
  #current: RuntimeConfig;
  #hash: string;
  #listeners: ConfigListener[] = [];

  constructor(
    initial: RuntimeConfig = DEFAULT_RUNTIME_CONFIG,
    hash = 'defaults',
    readonly path?: string,
  ) {
    this.#current = initial;
    this.#hash = hash;
  }

  get current(): RuntimeConfig {
    return this.#current;
  }

  /** Short content hash of the file in force ("defaults" without a file). */
  get hash(): string {
    return this.#hash;
  }

  onChange(listener: ConfigListener): void {
    this.#listeners.push(listener);
  }

  replace(next: RuntimeConfig, hash: string): void {
    const previous = this.#current;
    this.#current = next;
    this.#hash = hash;
    for (const l of this.#listeners) l(next, previous);
  }

  /** Read, parse and validate the file; does not apply it. */
  static async read(path: string): Promise<{ config: RuntimeConfig; hash: string }> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new RuntimeConfigError(
        `${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    const ext = extname(path).toLowerCase();
    const yaml = ext === '.yaml' || ext === '.yml' ? await yamlParse() : undefined;
    return { config: parseRuntimeConfig(text, path, yaml), hash: hashConfig(text) };
  }

  static async load(path: string | undefined): Promise<RuntimeConfigStore> {
    if (!path) return new RuntimeConfigStore();
    const { config, hash } = await RuntimeConfigStore.read(path);
    return new RuntimeConfigStore(config, hash, path);
  }
}
