// Process entrypoint: read configuration, build both servers, listen, and
// wire the shutdown. Everything else is in app.ts / admin.ts and their plugins.
import { fileURLToPath } from 'node:url';
import { buildAdmin } from './admin.js';
import { buildApp } from './app.js';
import { ConfigWatcher } from './config/config-watcher.js';
import { ConfigError, loadEnv } from './config/env.js';
import { RuntimeConfigError, RuntimeConfigStore } from './config/runtime-config.js';
import { followRuntimeConfig } from './config/runtime-effects.js';
import type { ServiceContext } from './context.js';
import { HealthRegistry } from './health/registry.js';
import { LISTEN_BACKLOG } from './http/server-options.js';
import { Lifecycle } from './lifecycle/lifecycle.js';
import { installShutdown } from './lifecycle/shutdown.js';
import { createLogger, flushLogs } from './logging/logger.js';
import { processTelemetryInstance } from './telemetry/telemetry.js';

async function main(): Promise<void> {
  const env = loadEnv();
  const runtimeConfig = await RuntimeConfigStore.load(env.CONFIG_FILE);
  // Already created by the --import preload when started that way; created here otherwise.
  const telemetry = await processTelemetryInstance();
  const logger = createLogger({
    level: runtimeConfig.current.logLevel ?? env.LOG_LEVEL,
    format: env.LOG_FORMAT,
    mixin: telemetry.logMixin,
  });
  telemetry.attachLogger(logger);
  const ctx: ServiceContext = {
    env,
    telemetry,
    logger,
    lifecycle: new Lifecycle(),
    health: new HealthRegistry(),
    runtimeConfig,
  };

  followRuntimeConfig(ctx);
  const { resilience } = telemetry.metrics;
  const watcher = env.CONFIG_FILE
    ? new ConfigWatcher(runtimeConfig, {
        logger,
        reloads: resilience.configReloads,
        info: resilience.configInfo,
      }).start()
    : undefined;
  if (!watcher) resilience.configInfo.set({ hash: runtimeConfig.hash }, 1);

  // dist/ or, bundled, dist/bundle/: this file's folder either way.
  const admin = await buildAdmin(ctx, { codeDir: fileURLToPath(new URL('.', import.meta.url)) });
  const app = await buildApp(ctx);

  installShutdown({
    logger,
    lifecycle: ctx.lifecycle,
    delayMs: env.SHUTDOWN_DELAY_MS,
    timeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    drain: () => app.close(),
    // Spans still buffered are exported before the admin server (and with it
    // the last /metrics scrape) goes away.
    finalize: [async () => watcher?.stop(), () => telemetry.shutdown(), () => admin.close()],
  });

  // Admin first: /livez and /readyz (503, "starting") answer while the app warms up.
  await admin.listen({ port: env.ADMIN_PORT, host: env.HOST });
  await app.listen({ port: env.PORT, host: env.HOST, backlog: LISTEN_BACKLOG });
  ctx.lifecycle.markReady();
  // Modules that are not needed to serve the first request load after it.
  setImmediate(() => {
    telemetry.tracing.warm().catch((err: unknown) => logger.warn({ err }, 'span exporter failed to load'));
  });
  logger.info(
    { port: env.PORT, admin_port: env.ADMIN_PORT, host: env.HOST, startup_ms: Math.round(performance.now()) },
    'ready',
  );
}

main().catch((err: unknown) => {
  // Configuration errors are one plain line (variable, value, what is allowed).
  if (err instanceof ConfigError || err instanceof RuntimeConfigError) {
    process.stderr.write(`periscope: ${err.message}\n`);
  } else {
    process.stderr.write(
      `periscope: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
  flushLogs();
  process.exit(1);
});
