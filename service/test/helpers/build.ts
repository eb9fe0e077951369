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
      await app.close();
      await admin.close();
      await ctx.telemetry.shutdown();
    },
  };
}
