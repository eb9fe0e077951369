// The process logger: pino, JSON lines on stdout.
//
// Writes go through an asynchronous sonic-boom destination (a blocking write
// per line costs throughput under load); `flushLogs()` drains it synchronously
// on the way out so the last lines before exit are never lost.
import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Env } from '../config/env.js';

export type { Logger };

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

let stdoutDestination: ReturnType<typeof pino.destination> | undefined;

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
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  let dest = settings.destination;
  if (!dest && settings.format === 'pretty') dest = prettyStream();
  if (!dest) {
    stdoutDestination ??= pino.destination({ dest: 1, sync: false, minLength: 0 });
    dest = stdoutDestination;
  }
  return pino(options, dest);
}

/** Synchronously write out anything still buffered for stdout. Safe to call often. */
export function flushLogs(): void {
  try {
    stdoutDestination?.flushSync();
  } catch {
    // EAGAIN on a full pipe or a closed stdout: nothing useful left to do.
  }
}
