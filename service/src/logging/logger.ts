// The process logger: pino, JSON lines on stdout.
//
// Writes go through an asynchronous sonic-boom destination (a blocking write
// per line costs throughput under load); `flushLogs()` drains it synchronously
// on the way out so the last lines before exit are never lost.
//
// stdout can fail under us: its reader exits (`npm start | head`, a crashed
// log collector) and every write gets EPIPE, or it stalls and lines pile up.
// Neither may stop the service: after a write error lines are dropped, one
// line on stderr says so, and the process keeps serving and still shuts down;
// a stalled stdout holds at most MAX_BUFFERED_BYTES, then lines are dropped
// (also said once). sonic-boom is our own dependency at ≥5, not pino's 4.x:
// 4.x retried a failed flushSync forever, which hung shutdown on EPIPE
// (test: process.test.ts, "when stdout goes away").
import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { SonicBoom as SonicBoomClass } from 'sonic-boom';
import type { Env } from '../config/env.js';

export type { Logger };

// CommonJS without a named export Node can see; its types describe the class.
const { SonicBoom } = createRequire(import.meta.url)('sonic-boom') as { SonicBoom: typeof SonicBoomClass };

export interface LoggerSettings {
  level: Env['LOG_LEVEL'];
  format: Env['LOG_FORMAT'];
  /** Fields on every line (e.g. service name); keep small. */
  base?: Record<string, unknown>;
  /** Adds fields to a line from ambient state (the telemetry adds the active trace). */
  mixin?: LoggerOptions['mixin'];
  /** Where lines go; stdout unless a test captures them. */
  destination?: DestinationStream;
}

/** Log output held in memory while stdout is slower than the service (then lines are dropped). */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** stdout as a pino destination that fails soft (see the top of this file). */
class StdoutDestination implements DestinationStream {
  readonly #boom = new SonicBoom({ fd: 1, sync: false, minLength: 0, maxLength: MAX_BUFFERED_BYTES });
  #failed = false;
  #warnedDrop = false;

  constructor() {
    this.#boom.on('error', (err: NodeJS.ErrnoException) => this.#fail(err));
    this.#boom.on('drop', () => {
      if (this.#warnedDrop) return;
      this.#warnedDrop = true;
      process.stderr.write(
        `periscope: stdout is not keeping up (${MAX_BUFFERED_BYTES} bytes of log output waiting); log lines are dropped until it catches up\n`,
      );
    });
  }

  write(line: string): void {
    if (!this.#failed) this.#boom.write(line);
  }

  /** Resolves once every line written so far is out, including an asynchronous write in flight (at most `ms`). */
  drain(ms: number): Promise<void> {
    if (this.#failed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.#boom.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  flushSync(): void {
    if (this.#failed) return;
    try {
      this.#boom.flushSync();
    } catch (err) {
      // EAGAIN past sonic-boom's retries is a full pipe, not a dead one: keep going.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') this.#fail(err as NodeJS.ErrnoException);
    }
  }

  #fail(err: NodeJS.ErrnoException): void {
    if (this.#failed) return;
    this.#failed = true;
    try {
      process.stderr.write(
        `periscope: log output failed (${err.code ?? err.message}); log lines are dropped from now on\n`,
      );
    } catch {
      // stderr is gone too: nothing left to tell.
    }
  }
}

// Fastify's own `req`/`res` serializers (lib/logger-pino.js), which it would
// add to a logger it was given: Fastify logs `{ res: reply }` on some errors,
// and route code may log `{ req: request }`. Fastify is given no logger here
// (telemetry/http-server.ts), so the process logger carries them itself.
interface RequestLike {
  method?: string;
  url?: string;
  headers?: Record<string, unknown>;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}
function requestFields(req: RequestLike) {
  return {
    method: req.method,
    url: req.url,
    version: req.headers?.['accept-version'],
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}
function replyFields(reply: { statusCode?: number }) {
  return { statusCode: reply.statusCode };
}

let stdoutDestination: StdoutDestination | undefined;

function prettyStream(): DestinationStream | undefined {
  // Pretty output is for a human at a terminal. In a pipe or a container it
  // would break log collection, so the request is ignored there.
  if (!process.stdout.isTTY) return undefined;
  try {
    const require = createRequire(import.meta.url);
    const pretty = require('pino-pretty') as (o: object) => DestinationStream;
    return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  } catch {
    process.stderr.write('LOG_FORMAT=pretty needs the dev dependency pino-pretty; logging JSON instead\n');
    return undefined;
  }
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { pid: process.pid, ...settings.base },
    // ISO time is what log pipelines and humans both read without a parser step.
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: settings.mixin,
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err, req: requestFields, res: replyFields },
  };
  let dest = settings.destination;
  if (!dest && settings.format === 'pretty') dest = prettyStream();
  if (!dest) {
    stdoutDestination ??= new StdoutDestination();
    dest = stdoutDestination;
  }
  return pino(options, dest);
}

/**
 * Wait until everything logged so far has reached stdout (bounded by `ms`).
 * Call before the last lines of a graceful exit: `flushLogs()` alone writes
 * what is buffered at once, ahead of a write still in flight, and the lines
 * would reach the log out of order.
 */
export function drainLogs(ms = 1000): Promise<void> {
  return stdoutDestination ? stdoutDestination.drain(ms) : Promise.resolve();
}

/** Synchronously write out anything still buffered for stdout. Safe to call often. */
export function flushLogs(): void {
  stdoutDestination?.flushSync();
}
