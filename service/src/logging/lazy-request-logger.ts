// The per-request logger, created only if the request logs something.
//
// Fastify builds a pino child logger for every request (with the request id
// and, here, the trace ids as bindings), whether or not a line is ever
// written. With the default access-log policy most requests write none, and
// building the child (serialising its bindings) was a fifth of the per-request
// telemetry cost in the profile. This stand-in has the logger interface
// Fastify and route code use; the real child is made on the first enabled
// call, with exactly the bindings it would have had.
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type LogArgs = Parameters<Logger['info']>;

export class LazyRequestLogger implements FastifyBaseLogger {
  #real: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly childBindings: Bindings,
    private readonly options: ChildLoggerOptions,
    private readonly onCreate?: (child: Logger) => void,
  ) {}

  /** The real pino child (created now if it does not exist yet). */
  get pino(): Logger {
    if (!this.#real) {
      this.#real = this.parent.child(this.childBindings, this.options);
      this.onCreate?.(this.#real);
    }
    return this.#real;
  }

  get level(): string {
    return this.#real?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.pino.level = level;
  }

  #enabled(level: Level): boolean {
    if (this.#real) return this.#real.isLevelEnabled(level);
    const values = this.parent.levels.values;
    const threshold = this.options.level ? (values[this.options.level] ?? 0) : this.parent.levelVal;
    return (values[level] ?? 0) >= threshold;
  }

  fatal(...args: LogArgs): void {
    if (this.#enabled('fatal')) this.pino.fatal(...args);
  }
  error(...args: LogArgs): void {
    if (this.#enabled('error')) this.pino.error(...args);
  }
  warn(...args: LogArgs): void {
    if (this.#enabled('warn')) this.pino.warn(...args);
  }
  info(...args: LogArgs): void {
    if (this.#enabled('info')) this.pino.info(...args);
  }
  debug(...args: LogArgs): void {
    if (this.#enabled('debug')) this.pino.debug(...args);
  }
  trace(...args: LogArgs): void {
    if (this.#enabled('trace')) this.pino.trace(...args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.pino.child(bindings, options) as unknown as FastifyBaseLogger;
  }

  bindings(): Bindings {
    return this.#real ? this.#real.bindings() : { ...this.parent.bindings(), ...this.childBindings };
  }
}
