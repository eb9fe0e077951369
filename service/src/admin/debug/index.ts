// Live profiling on the admin port: /debug/pprof/profile (CPU) and
// /debug/pprof/heap, for an operator (or a Pyroscope/Alloy scraper) to ask a
// running process where its time and memory go.
//
// Off by default (PROFILING_ENABLED=false). Disabled means absent, not
// guarded: no route is registered (a request gets the admin server's 404) and
// nothing of it is imported. Enabled, the routes exist but the profiler (the
// native @datadog/pprof, ~10 MB of RSS, and node:inspector) is loaded by the
// first profile request (routes.ts): an idle service pays nothing either way.
import type { FastifyPluginAsync } from 'fastify';
import { keepHotLoopsVisible } from './visible-loops.js';

export interface DebugOptions {
  /** PROFILING_ENABLED. */
  enabled: boolean;
  /** PROFILING_TOKEN: the bearer token every /debug request must carry. */
  token: string | undefined;
  /**
   * Directory scanned for source maps so frames name the TypeScript sources
   * (default: the directory the service's compiled JavaScript runs from).
   */
  sourceMapDir?: string;
}

/** Shortest token accepted; the same bound as PROFILING_TOKEN in config/env.ts. */
export const MIN_TOKEN_LENGTH = 16;

const debug: FastifyPluginAsync<DebugOptions> = async (app, opts) => {
  if (!opts.enabled) return;
  if (!opts.token || opts.token.length < MIN_TOKEN_LENGTH) {
    // env.ts rejects this at start-up; this guards other callers of the plugin.
    throw new Error(`profiling is enabled but the token is missing or shorter than ${MIN_TOKEN_LENGTH} characters`);
  }
  // Before the app's code warms up: profiles after the first would otherwise
  // lose hot loops on Node 24 (visible-loops.ts).
  keepHotLoopsVisible();
  const { default: routes } = await import('./routes.js');
  await app.register(routes, {
    token: opts.token,
    sourceMapDir: opts.sourceMapDir ?? new URL('../../', import.meta.url).pathname,
  });
};

export default debug;
