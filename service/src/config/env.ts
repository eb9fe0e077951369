// Process configuration from the environment, validated once at start-up.
//
// Only what is fixed for the life of the process lives here (ports, shutdown
// timings, secrets). Settings an operator tunes at runtime live in the
// CONFIG_FILE (runtime-config.ts). Standard OTEL_* variables are read by the
// telemetry bootstrap as the OpenTelemetry specification defines them, not here.
import { Ajv } from 'ajv';

// Plain JSON Schema, validated by Ajv with type coercion (the environment is
// all strings). Not env-schema: it compiles Ajv's meta-schema at import time,
// and not a schema builder (TypeBox): together they cost more start-up time
// (measured, ~150 ms) than the rest of the configuration code. The schema is
// checked against the meta-schema in a test instead (env.test.ts).
type JsonSchema = {
  type?: 'integer' | 'string' | 'boolean';
  enum?: readonly string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  pattern?: string;
  default?: unknown;
};

const port = (def: number): JsonSchema => ({ type: 'integer', minimum: 1, maximum: 65535, default: def });
const millis = (def: number, max: number): JsonSchema => ({ type: 'integer', minimum: 0, maximum: max, default: def });
const oneOf = (values: readonly string[], def: string): JsonSchema => ({ type: 'string', enum: values, default: def });

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const properties = {
  PORT: port(3000),
  ADMIN_PORT: port(9464),
  // 0.0.0.0, not Fastify's 127.0.0.1 default: kubelet probes and Prometheus
  // reach the pod IP, never its loopback.
  HOST: { type: 'string', minLength: 1, default: '0.0.0.0' },
  LOG_LEVEL: oneOf(LOG_LEVELS, 'info'),
  // pretty is honoured only when stdout is a terminal (see logging/logger.ts).
  LOG_FORMAT: oneOf(['json', 'pretty'], 'json'),
  // Default `errors`: one line per failed or slow request. `all` costs a log
  // line per request; the measured cost is in README.md (Performance).
  ACCESS_LOG: oneOf(['off', 'errors', 'all'], 'errors'),
  SLOW_REQUEST_MS: millis(1000, 600_000),
  SHUTDOWN_DELAY_MS: millis(0, 120_000),
  SHUTDOWN_TIMEOUT_MS: millis(10_000, 600_000),
  // Above the idle timeout of the usual load balancers in front of a pod
  // (AWS ALB 60 s, ingress-nginx upstream 60 s), so the proxy, not Node,
  // closes an idle connection and never sends a request into a closing one.
  KEEP_ALIVE_TIMEOUT_MS: millis(72_000, 3_600_000),
  CONFIG_FILE: { type: 'string', minLength: 1 },
  PROFILING_ENABLED: { type: 'boolean', default: false },
  PROFILING_TOKEN: { type: 'string', minLength: 16 },
  DOWNSTREAM_URL: { type: 'string', pattern: '^https?://[^\\s]+$' },
  // Comma-separated bearer tokens accepted by the /api/private example.
  AUTH_TOKENS: { type: 'string', minLength: 1 },
  // Whose X-Forwarded-For to believe for the client IP (rate-limit key, logs):
  // false, true (any hop — only behind a proxy you control), a hop count, or
  // comma-separated proxy addresses/CIDRs.
  TRUST_PROXY: { type: 'string', pattern: '^(true|false|[0-9]{1,2}|[0-9a-fA-F.:/,\\s]+)$', default: 'false' },
  // CPU-bound work (POST /api/work): worker threads (default: cores - 1, at
  // least 1) and tasks allowed to wait for one (default: 4 per thread).
  WORKER_THREADS: { type: 'integer', minimum: 1, maximum: 64 },
  WORKER_QUEUE_MAX: { type: 'integer', minimum: 0, maximum: 100_000 },
} satisfies Record<string, JsonSchema>;

export const EnvSchema = { type: 'object', properties, additionalProperties: false } as const;

export interface Env {
  PORT: number;
  ADMIN_PORT: number;
  HOST: string;
  LOG_LEVEL: (typeof LOG_LEVELS)[number];
  LOG_FORMAT: 'json' | 'pretty';
  ACCESS_LOG: 'off' | 'errors' | 'all';
  SLOW_REQUEST_MS: number;
  SHUTDOWN_DELAY_MS: number;
  SHUTDOWN_TIMEOUT_MS: number;
  KEEP_ALIVE_TIMEOUT_MS: number;
  CONFIG_FILE?: string;
  PROFILING_ENABLED: boolean;
  PROFILING_TOKEN?: string;
  DOWNSTREAM_URL?: string;
  AUTH_TOKENS?: string;
  TRUST_PROXY: string;
  WORKER_THREADS?: number;
  WORKER_QUEUE_MAX?: number;
}

// Every schema property is a field of Env and the reverse (a compile-time check).
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : never;
const _envKeysMatch: SameKeys<typeof properties, Env> = true;
void _envKeysMatch;

/** A start-up configuration error: the message is the one line printed before exit 1. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Human description of what a schema accepts, used in the one-line error. */
export function describeAllowed(schema: JsonSchema): string {
  if (schema.enum) return `one of ${schema.enum.join(', ')}`;
  switch (schema.type) {
    case 'integer':
      return `an integer from ${schema.minimum} to ${schema.maximum}`;
    case 'boolean':
      return 'true or false';
    case 'string':
      if (schema.pattern) return `a string matching ${schema.pattern}`;
      return (schema.minLength ?? 0) > 1 ? `a string of at least ${schema.minLength} characters` : 'a non-empty string';
    default:
      return 'a valid value';
  }
}

interface AjvError {
  instancePath: string;
  params: Record<string, unknown>;
}

function firstOffender(errors: AjvError[] | undefined): string | undefined {
  const err = errors?.[0];
  if (!err) return undefined;
  // instancePath is "/PORT"; for union (enum-like) failures it is also set.
  return err.instancePath.replace(/^\//, '') || (err.params.missingProperty as string | undefined);
}

/**
 * Validate `source` (process.env by default) and return the typed settings.
 * Throws ConfigError with exactly one line: variable, value, what is allowed.
 */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  // Treat empty strings as unset: `FOO=` in a manifest means "no value".
  const data: Record<string, string> = {};
  for (const key of Object.keys(properties)) {
    const v = source[key];
    if (v !== undefined && v !== '') data[key] = v;
  }
  const validate = new Ajv({
    coerceTypes: true,
    useDefaults: true,
    allErrors: false,
    validateSchema: false,
  }).compile<Env>(EnvSchema);
  if (!validate(data)) {
    const name = firstOffender(validate.errors as AjvError[] | undefined);
    const prop = name ? (properties as Record<string, JsonSchema>)[name] : undefined;
    if (!name || !prop) throw new ConfigError(`invalid environment: ${JSON.stringify(validate.errors?.[0])}`);
    throw new ConfigError(
      `invalid environment: ${name}=${JSON.stringify(source[name] ?? '')} is not allowed; expected ${describeAllowed(prop)}`,
    );
  }
  const env = data as unknown as Env;
  if (env.PORT === env.ADMIN_PORT) {
    throw new ConfigError(
      `invalid environment: ADMIN_PORT=${JSON.stringify(String(env.ADMIN_PORT))} is not allowed; expected a port different from PORT (${env.PORT})`,
    );
  }
  if (env.PROFILING_ENABLED && !env.PROFILING_TOKEN) {
    throw new ConfigError(
      'invalid environment: PROFILING_TOKEN="" is not allowed when PROFILING_ENABLED=true; expected a string of at least 16 characters',
    );
  }
  return env;
}
