// What a change of the runtime config does to the parts that do not read it
// per request: the log level and the trace sampling ratio. (Rate limits and
// shedding thresholds read the config in force on every request.)
import type { ServiceContext } from '../context.js';
import type { RuntimeConfig } from './runtime-config.js';

export function applyRuntimeConfig(ctx: ServiceContext, config: RuntimeConfig): void {
  // New request loggers are children created after this, so they inherit it.
  ctx.logger.level = config.logLevel ?? ctx.env.LOG_LEVEL;
  ctx.telemetry.tracing.ratio.set(config.tracing.sampleRatio ?? ctx.telemetry.settings.ratio);
}

/** Apply the config in force now and on every change. */
export function followRuntimeConfig(ctx: ServiceContext): void {
  applyRuntimeConfig(ctx, ctx.runtimeConfig.current);
  ctx.runtimeConfig.onChange((next) => applyRuntimeConfig(ctx, next));
}
