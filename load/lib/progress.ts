// The live line in the terminal: one per second, rewritten in place on a TTY;
// on a pipe or in CI a plain line every few seconds (and at each step change)
// so logs stay readable.
import type { ClientSample, ServerSample } from './types.js';

const PIPE_EVERY_S = 5;

const n = (v: number) => Math.round(v).toLocaleString('en-US');
const msText = (v: number | undefined) => (v === undefined ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(1));

export function formatProgress(
  scenario: string,
  c: ClientSample,
  plannedS: number,
  server: ServerSample | undefined,
): string {
  const failures =
    Object.values(c.errors).reduce((a, b) => a + b, 0) +
    Object.entries(c.status)
      .filter(([code]) => code[0] !== '2')
      .reduce((a, [, v]) => a + v, 0);
  const parts = [
    `[${String(Math.round(c.t)).padStart(4)}s/${Math.round(plannedS)}s] ${scenario} ${c.step}${c.warmup ? ' (warm-up)' : ''}`,
    `conns ${n(c.connections)}`,
    `${n(c.rps)} req/s`,
    `p50 ${msText(c.latencyMs?.p50)} p99 ${msText(c.latencyMs?.p99)} max ${msText(c.latencyMs?.max)} ms`,
    `fail ${n(failures)}`,
    `gen CPU ${c.generatorCpu.toFixed(2)}`,
  ];
  if (server) {
    const s = [
      server.elu !== null ? `ELU ${server.elu.toFixed(2)}` : null,
      server.lagP99Ms !== null ? `lag p99 ${msText(server.lagP99Ms)} ms` : null,
      server.rssBytes !== null ? `RSS ${n(server.rssBytes / 1048576)} MB` : null,
      server.activeRequests !== null ? `active ${n(server.activeRequests)}` : null,
      server.heldConnections
        ? `held ${n(server.heldConnections)}${server.admissionLimit ? ` at ${n(server.admissionLimit)}` : ''}`
        : null,
    ].filter(Boolean);
    if (s.length) parts.push(`server: ${s.join(' ')}`);
  }
  return parts.join(' | ');
}

export class ProgressPrinter {
  #lastPrinted = Number.NEGATIVE_INFINITY;
  #lastStep = '';
  #open = false;

  /** live: the per-second line; lines: everything else (start, summary, paths). */
  constructor(
    readonly out: NodeJS.WriteStream | NodeJS.WritableStream = process.stdout,
    readonly live = true,
    readonly lines = true,
  ) {}

  get #tty(): boolean {
    return (this.out as NodeJS.WriteStream).isTTY === true;
  }

  update(line: string, t: number, step: string): void {
    if (!this.live) return;
    if (this.#tty) {
      const width = (this.out as NodeJS.WriteStream).columns ?? 160;
      this.out.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
      this.#open = true;
      return;
    }
    if (t - this.#lastPrinted >= PIPE_EVERY_S || step !== this.#lastStep) {
      this.out.write(`${line}\n`);
      this.#lastPrinted = t;
      this.#lastStep = step;
    }
  }

  /** Prints a line of its own (ending the in-place line first). */
  log(line: string): void {
    if (!this.lines) return;
    if (this.#open) this.out.write('\n');
    this.#open = false;
    this.out.write(`${line}\n`);
  }

  end(): void {
    if (this.#open) this.out.write('\n');
    this.#open = false;
  }
}
