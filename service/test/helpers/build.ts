// Builds the app and admin servers in-process from a test context.
import type { FastifyInstance } from 'fastify';
import { buildAdmin } from '../../src/admin.js';
import { buildApp } from '../../src/app.js';
import { createContext, type ServiceContext } from '../../src/context.js';

export interface Built {
  ctx: ServiceContext;
  app: FastifyInstance;
  admin: FastifyInstance;
  close(): Promise<void>;
}

export async function build(overrides: Parameters<typeof createContext>[0] = {}, ready = true): Promise<Built> {
  const ctx = await createContext(overrides);
  const app = await buildApp(ctx);
  const admin = await buildAdmin(ctx);
  if (ready) ctx.lifecycle.markReady();
  return {
    ctx,
    app,
    admin,
    async close() {
      await slowStepReport('app.close()', () => app.close(), app);
      await slowStepReport('admin.close()', () => admin.close(), admin);
      await slowStepReport('telemetry.shutdown()', () => ctx.telemetry.shutdown());
    },
  };
}

/**
 * Runs one shutdown step; while it runs past `everyMs`, says every `everyMs`
 * which step, how many connections its server still holds and what keeps the
 * event loop busy, so a hook that times out in CI names its cause.
 */
async function slowStepReport(step: string, run: () => Promise<unknown>, server?: FastifyInstance, everyMs = 5_000) {
  const started = Date.now();
  const report = (connections: string) =>
    console.error(
      `still waiting for ${step} after ${Date.now() - started} ms${connections}; ` +
        `active resources: ${process.getActiveResourcesInfo().join(', ')}`,
    );
  const timer = setInterval(() => {
    if (!server) return report('');
    server.server.getConnections((_err, n) => report(`, ${n} connection(s) still open`));
  }, everyMs);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
}
