// Graceful shutdown, in the order Kubernetes needs it:
//
//   SIGTERM ─► readiness fails at once (endpoints start dropping this pod)
//           ─► keep serving for SHUTDOWN_DELAY_MS while that propagates
//              (every response now says `Connection: close`)
//           ─► stop accepting; idle keep-alive sockets closed; in-flight
//              requests finish
//           ─► flush telemetry and logs ─► exit 0
//
// Bounded by SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS: past that, or on a
// second signal, exit 1. An uncaught exception or unhandled rejection is
// logged with its stack and takes the same path without the delay, ending in
// exit 1 (the process state is unknown; the orchestrator restarts it).
import { setTimeout as sleep } from 'node:timers/promises';
import closeWithGrace from 'close-with-grace';
import type { Logger } from '../logging/logger.js';
import { drainLogs, flushLogs } from '../logging/logger.js';
import type { Lifecycle } from './lifecycle.js';

export interface ShutdownOptions {
  logger: Logger;
  lifecycle: Lifecycle;
  delayMs: number;
  timeoutMs: number;
  /** Stop taking traffic and wait for in-flight work (app server first). */
  drain: () => Promise<void>;
  /** Run after drain: flush exporters, close the admin server. */
  finalize: Array<() => Promise<void>>;
}

export function installShutdown(opts: ShutdownOptions): { close: () => void; uninstall: () => void } {
  const { logger, lifecycle } = opts;
  const boundMs = opts.delayMs + opts.timeoutMs;
  const exitLine = (level: 'error' | 'fatal', obj: object, msg: string) => {
    logger[level](obj, msg);
    flushLogs();
  };

  return closeWithGrace(
    {
      delay: boundMs,
      logger: false as never,
      onSecondSignal: (signal) => exitLine('error', { signal }, 'second signal during shutdown: exiting now'),
      onSecondError: (err) => exitLine('fatal', { err }, 'error during shutdown: exiting now'),
      onTimeout: (ms) => exitLine('error', { timeout_ms: ms }, 'shutdown did not finish in time: exiting'),
    },
    async ({ signal, err }) => {
      const started = performance.now();
      if (err) {
        logger.fatal({ err }, 'uncaught error: shutting down');
      } else {
        logger.info(
          { signal, delay_ms: opts.delayMs, timeout_ms: opts.timeoutMs },
          'shutdown started: readiness failing',
        );
      }
      lifecycle.beginDrain();
      if (!err && opts.delayMs > 0) await sleep(opts.delayMs);
      await opts.drain();
      // Let the last responses' close events (access log, metrics) run first.
      await new Promise((resolve) => setImmediate(resolve));
      for (const step of opts.finalize) {
        await step().catch((e: unknown) => logger.warn({ err: e }, 'shutdown step failed'));
      }
      // Lines still being written go out first, then the last one, synchronously.
      await drainLogs();
      logger.info(
        { duration_ms: Math.round(performance.now() - started), exit_code: err ? 1 : 0 },
        'shutdown complete',
      );
      flushLogs();
    },
  );
}
