// The runner's handle on the load-generator process (generator/main.ts):
// spawns it (pinned, with its open-files limit raised), sends it steps, and
// turns its IPC messages into promises and callbacks.
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RunError } from '../errors.js';
import type { FdLimits, PhaseSummary, StepSpec } from '../types.js';
import type { FromGenerator, RawSample, ToGenerator, TotalSummary } from './protocol.js';

const ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url));

export interface GeneratorOptions {
  /** Command prefix (taskset, prlimit) placed before the node binary. */
  prefix: string[];
  /** Node binary for the generator; default: the runner's own. */
  nodeBin?: string;
  onSample: (sample: RawSample) => void;
  onError?: (message: string) => void;
}

export class Generator {
  readonly #child: ChildProcess;
  readonly #onSample: (sample: RawSample) => void;
  readonly #onError: (message: string) => void;
  #waiters = new Map<string, (msg: FromGenerator) => void>();
  #exit: Promise<number | null>;
  #exited = false;
  ready: Promise<{ node: string; pid: number; nofile: FdLimits | null; cpuSeconds: number }>;

  constructor(opts: GeneratorOptions) {
    this.#onSample = opts.onSample;
    this.#onError = opts.onError ?? (() => {});
    const node = opts.nodeBin ?? process.execPath;
    // The generator is TypeScript too: tsx's loader compiles it on the fly
    // (only at start-up; nothing of it runs per request).
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const [cmd, ...args] = [...opts.prefix, node, '--import', tsx, ENTRY];
    this.#child = spawn(cmd as string, args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Its own process group: Ctrl-C in the terminal reaches the runner only,
      // which then stops the load in order (see run.ts).
      detached: true,
    });
    this.#exit = new Promise((resolve) => {
      this.#child.once('exit', (code) => {
        this.#exited = true;
        for (const w of this.#waiters.values()) w({ type: 'error', message: `load generator exited (code ${code})` });
        this.#waiters.clear();
        resolve(code);
      });
      this.#child.once('error', (err) => {
        this.#exited = true;
        this.#onError(`cannot start the load generator: ${err.message}`);
        for (const w of this.#waiters.values()) w({ type: 'error', message: err.message });
        resolve(null);
      });
    });
    this.#child.on('message', (msg: FromGenerator) => this.#dispatch(msg));
    this.ready = this.#wait('ready').then((msg) => {
      if (msg.type !== 'ready') throw new RunError(errorText(msg));
      return { node: msg.node, pid: msg.pid, nofile: msg.nofile, cpuSeconds: msg.cpuSeconds };
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  #dispatch(msg: FromGenerator): void {
    if (msg.type === 'sample') {
      this.#onSample(msg.sample);
      return;
    }
    if (msg.type === 'error') {
      this.#onError(msg.message);
      return;
    }
    const key = msg.type === 'step-done' ? `step-done:${msg.step}` : msg.type;
    const waiter = this.#waiters.get(key);
    this.#waiters.delete(key);
    waiter?.(msg);
  }

  #wait(key: string): Promise<FromGenerator> {
    return new Promise((resolve) => {
      if (this.#exited) resolve({ type: 'error', message: 'load generator is not running' });
      else this.#waiters.set(key, resolve);
    });
  }

  #send(msg: ToGenerator): void {
    if (!this.#exited && this.#child.connected) this.#child.send(msg);
  }

  /** Runs one step; resolves with its phases' summaries when all have ended. */
  async runStep(step: StepSpec): Promise<PhaseSummary[]> {
    const done = this.#wait(`step-done:${step.name}`);
    this.#send({ type: 'run', step });
    const msg = await done;
    if (msg.type !== 'step-done') throw new RunError(errorText(msg));
    return msg.phases;
  }

  /** Ends the running step early; runStep then resolves with what was measured. */
  stop(): void {
    this.#send({ type: 'stop' });
  }

  /** Whole-run totals; the process exits afterwards. */
  async finish(): Promise<TotalSummary> {
    const done = this.#wait('total');
    this.#send({ type: 'finish' });
    const msg = await done;
    if (msg.type !== 'total') throw new RunError(errorText(msg));
    await Promise.race([this.#exit, delay(2000)]);
    this.kill();
    return msg.total;
  }

  kill(): void {
    if (!this.#exited) this.#child.kill('SIGKILL');
  }
}

function errorText(msg: FromGenerator): string {
  return msg.type === 'error' ? msg.message : `unexpected message from the load generator: ${msg.type}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
