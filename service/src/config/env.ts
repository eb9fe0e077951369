// Process configuration from the environment, validated once at start-up.
//
// Only what is fixed for the life of the process lives here (ports, shutdown
// timings, secrets). Settings an operator tunes at runtime live in the
// CONFIG_FILE (runtime-config.ts). Standard OTEL_* variables are read by the
// telemetry bootstrap as the OpenTelemetry specification defines them, not here.
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import envSchema from 'env-schema';

const Port = (def: number) => Type.Integer({ minimum: 1, maximum: 65535, default: def });
const Millis = (def: number, max: number) => Type.Integer({ minimum: 0, maximum: max, default: def });

export const EnvSchema = Type.Object({
  PORT: Port(3000),
  ADMIN_PORT: Port(9464),
  // 0.0.0.0, not Fastify's 127.0.0.1 default: kubelet probes and Prometheus
  // reach the pod IP, never its loopback.
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  // pretty is honoured only when stdout is a terminal (see logging/logger.ts).
  LOG_FORMAT: Type.Union([Type.Literal('json'), Type.Literal('pretty')], { default: 'json' }),
  // Default `errors`: one line per failed or slow request. `all` costs a log
  // line per request; the measured cost is in README.md (Performance).
  ACCESS_LOG: Type.Union([Type.Literal('off'), Type.Literal('errors'), Type.Literal('all')], {
    default: 'errors',
  }),
  SLOW_REQUEST_MS: Millis(1000, 600_000),
  SHUTDOWN_DELAY_MS: Millis(0, 120_000),
  SHUTDOWN_TIMEOUT_MS: Millis(10_000, 600_000),
  // Above the idle timeout of the usual load balancers in front of a pod
  // (AWS ALB 60 s, ingress-nginx upstream 60 s), so the proxy, not Node,
  // closes an idle connection and never sends a request into a closing one.
  KEEP_ALIVE_TIMEOUT_MS: Millis(72_000, 3_600_000),
  CONFIG_FILE: Type.Optional(Type.String({ minLength: 1 })),
  PROFILING_ENABLED: Type.Boolean({ default: false }),
  PROFILING_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  DOWNSTREAM_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
  // Comma-separated bearer tokens accepted by the /api/private example.
  AUTH_TOKENS: Type.Optional(Type.String({ minLength: 1 })),
  // Whose X-Forwarded-For to believe for the client IP (rate-limit key, logs):
  // false, true (any hop — only behind a proxy you control), a hop count, or
  // comma-separated proxy addresses/CIDRs.
  TRUST_PROXY: Type.String({ pattern: '^(true|false|[0-9]{1,2}|[0-9a-fA-F.:/,\\s]+)$', default: 'false' }),
  // CPU-bound work (POST /api/work): worker threads (default: cores - 1, at
  // least 1) and tasks allowed to wait for one (default: 4 per thread).
  WORKER_THREADS: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  WORKER_QUEUE_MAX: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
});

export type Env = Static<typeof EnvSchema>;

/** A start-up configuration error: the message is the one line printed before exit 1. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Human description of what a schema accepts, used in the one-line error. */
export function describeAllowed(schema: TSchema): string {
  if (Array.isArray(schema.anyOf)) {
    return `one of ${schema.anyOf.map((s: TSchema) => s.const).join(', ')}`;
  }
  switch (schema.type) {
    case 'integer':
      return `an integer from ${schema.minimum} to ${schema.maximum}`;
    case 'boolean':
      return 'true or false';
    case 'string':
      if (schema.pattern) return `a string matching ${schema.pattern}`;
      return schema.minLength > 1 ? `a string of at least ${schema.minLength} characters` : 'a non-empty string';
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
  for (const key of Object.keys(EnvSchema.properties)) {
    const v = source[key];
    if (v !== undefined && v !== '') data[key] = v;
  }
  let env: Env;
  try {
    env = envSchema<Env>({ schema: structuredClone(EnvSchema), data, env: false });
  } catch (err) {
    const name = firstOffender((err as { errors?: AjvError[] }).errors);
    const prop = name ? (EnvSchema.properties as Record<string, TSchema>)[name] : undefined;
    if (!name || !prop) throw new ConfigError(`invalid environment: ${(err as Error).message}`);
    throw new ConfigError(
      `invalid environment: ${name}=${JSON.stringify(source[name] ?? '')} is not allowed; expected ${describeAllowed(prop)}`,
    );
  }
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
