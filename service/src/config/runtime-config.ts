// Runtime-tunable settings from CONFIG_FILE (in Kubernetes: a ConfigMap
// mounted as a directory). Unlike the environment, these may change while the
// process runs: the store validates a candidate completely, then swaps it in
// as one immutable object and tells subscribers, so a reader never sees half
// of an old file and half of a new one.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Ratio = (def?: number) => Type.Number({ minimum: 0, maximum: 1, ...(def === undefined ? {} : { default: def }) });

export const RuntimeConfigSchema = Type.Object(
  {
    // Overrides LOG_LEVEL while the file is in force.
    logLevel: Type.Optional(
      Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
    ),
    tracing: Type.Object(
      {
        // Overrides OTEL_TRACES_SAMPLER_ARG for the *traceidratio samplers while in force.
        sampleRatio: Type.Optional(Ratio()),
      },
      { additionalProperties: false, default: {} },
    ),
    // Per client (see resilience/rate-limit.ts for the key), on the routes that opt in.
    rateLimit: Type.Object(
      {
        max: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 100 }),
        timeWindowMs: Type.Integer({ minimum: 100, maximum: 86_400_000, default: 60_000 }),
        // Read at start-up only: `redis` shares counters between pods.
        store: Type.Union([Type.Literal('memory'), Type.Literal('redis')], { default: 'memory' }),
        redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://' })),
      },
      { additionalProperties: false, default: {} },
    ),
    // Load shedding thresholds (resilience/load-shedding.ts); 0 turns a signal off.
    shedding: Type.Object(
      {
        maxEventLoopDelayMs: Type.Number({ minimum: 0, maximum: 60_000, default: 200 }),
        maxEventLoopUtilization: Ratio(0),
        maxHeapUsedRatio: Ratio(0.9),
        maxRssBytes: Type.Integer({ minimum: 0, default: 0 }),
        retryAfterSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 2 }),
      },
      { additionalProperties: false, default: {} },
    ),
    // Free-form on/off switches for the application's own code paths.
    features: Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' }), Type.Boolean(), {
      default: {},
    }),
  },
  { additionalProperties: false },
);

export type RuntimeConfig = Static<typeof RuntimeConfigSchema>;

export class RuntimeConfigError extends Error {
  override name = 'RuntimeConfigError';
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
  const withDefaults = Value.Default(RuntimeConfigSchema, structuredClone(raw));
  const first = Value.Errors(RuntimeConfigSchema, withDefaults).First();
  if (first) {
    const where = first.path || '(root)';
    throw new RuntimeConfigError(`${path}: ${where}: ${first.message} (got ${JSON.stringify(first.value)})`);
  }
  const config = withDefaults as RuntimeConfig;
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
    initial: RuntimeConfig = parseRuntimeConfig('{}', 'defaults'),
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
    const yaml = ext === '.yaml' || ext === '.yml' ? (await import('yaml')).parse : undefined;
    return { config: parseRuntimeConfig(text, path, yaml), hash: hashConfig(text) };
  }

  static async load(path: string | undefined): Promise<RuntimeConfigStore> {
    if (!path) return new RuntimeConfigStore();
    const { config, hash } = await RuntimeConfigStore.read(path);
    return new RuntimeConfigStore(config, hash, path);
  }
}
