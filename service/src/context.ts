// What the app and admin servers are built from. Created once by main.ts (or
// by a test) and passed down; nothing in the service reaches for a global.
import type { Env } from './config/env.js';
import { loadEnv } from './config/env.js';
import { RuntimeConfigStore } from './config/runtime-config.js';
import { HealthRegistry } from './health/registry.js';
import { Lifecycle } from './lifecycle/lifecycle.js';
import type { Logger } from './logging/logger.js';
import { createLogger } from './logging/logger.js';
import { createTelemetry, type Telemetry } from './telemetry/telemetry.js';

export interface ServiceContext {
  env: Env;
  logger: Logger;
  lifecycle: Lifecycle;
  health: HealthRegistry;
  runtimeConfig: RuntimeConfigStore;
  telemetry: Telemetry;
}

/**
 * A context with defaults for tests and tools; `env` overrides are strings, as
 * in the environment. Telemetry is a private instance (not the process
 * globals) unless one is passed in.
 */
export async function createContext(
  overrides: Partial<Omit<ServiceContext, 'env'>> & { env?: NodeJS.ProcessEnv } = {},
): Promise<ServiceContext> {
  const env = loadEnv({ LOG_LEVEL: 'silent', ...overrides.env });
  const telemetry =
    overrides.telemetry ??
    (await createTelemetry({ OTEL_TRACES_SAMPLER: 'always_on', ...overrides.env }, { global: false }));
  return {
    env,
    telemetry,
    logger: overrides.logger ?? createLogger({ level: env.LOG_LEVEL, format: 'json', mixin: telemetry.logMixin }),
    lifecycle: overrides.lifecycle ?? new Lifecycle(),
    health: overrides.health ?? new HealthRegistry(),
    runtimeConfig: overrides.runtimeConfig ?? new RuntimeConfigStore(),
  };
}
