// CPU-bound work goes to a piscina pool of worker threads, so the event loop
// keeps answering (probes, cheap routes, other requests) while cores compute.
//
// The queue is bounded: when every thread is busy and `maxQueue` tasks wait,
// new work is refused at once with 503 + Retry-After instead of queueing into
// a timeout. A task whose request is aborted (deadline, client gone) is taken
// out of the queue, or its worker is stopped if it already runs.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Counter, Gauge } from 'prom-client';
import { workerFile } from '../workers/worker-file.js';

export interface WorkerPoolOptions {
  name: string;
  /** Worker module, relative to this file's folder in dist/ (e.g. ../workers/transform.js). */
  worker: string;
  threads?: number;
  maxQueue?: number;
  queue: Gauge<'pool'>;
  utilization: Gauge<'pool'>;
  tasks: Counter<'pool' | 'result'>;
  onCollect: (fn: () => void) => void;
}

export class PoolFullError extends Error {
  readonly statusCode = 503;
  readonly code = 'WORKER_POOL_FULL';
  readonly expose = true;
  readonly quiet = true;
  readonly retryAfterSeconds = 1;
  constructor(pool: string) {
    super(`worker pool "${pool}" is saturated; retry shortly`);
  }
}

export class WorkerPool<Task, Result> {
  readonly #pool: Piscina<Task, Result>;
  readonly #o: WorkerPoolOptions;
  readonly #maxQueue: number;

  constructor(o: WorkerPoolOptions) {
    this.#o = o;
    const threads = o.threads ?? Math.max(1, availableParallelism() - 1);
    this.#maxQueue = o.maxQueue ?? threads * 4;
    this.#pool = new Piscina({
      filename: workerFile(o.worker, import.meta.url),
      // No thread until the first task: an idle service carries no extra
      // isolate (≈10 MB RSS, measured); the first task pays ~30 ms to start one.
      minThreads: 0,
      maxThreads: threads,
      maxQueue: this.#maxQueue,
      idleTimeout: 30_000,
      // Workers compute; they don't inherit the main thread's --import of the
      // telemetry preload (which would start a second tracer and metrics in
      // every worker, and cannot load TypeScript under `npm run dev`).
      execArgv: [],
    });
    for (const result of ['completed', 'failed', 'rejected', 'aborted']) o.tasks.inc({ pool: o.name, result }, 0);
    o.onCollect(() => {
      o.queue.set({ pool: o.name }, this.#pool.queueSize);
      o.utilization.set({ pool: o.name }, this.#pool.utilization);
    });
  }

  get threads(): number {
    return this.#pool.threads.length;
  }

  get queueSize(): number {
    return this.#pool.queueSize;
  }

  async run(task: Task, signal?: AbortSignal): Promise<Result> {
    const { tasks, name } = this.#o;
    // piscina (5.3) enforces maxQueue only for tasks without an AbortSignal,
    // and ours always carry the request's; so the bound is checked here too.
    if (this.#pool.queueSize >= this.#maxQueue) {
      tasks.inc({ pool: name, result: 'rejected' });
      throw new PoolFullError(name);
    }
    try {
      const result = await this.#pool.run(task, signal ? { signal } : {});
      tasks.inc({ pool: name, result: 'completed' });
      return result;
    } catch (err) {
      if ((err as Error).message?.includes('Task queue is at limit')) {
        tasks.inc({ pool: name, result: 'rejected' });
        throw new PoolFullError(name);
      }
      tasks.inc({ pool: name, result: signal?.aborted ? 'aborted' : 'failed' });
      throw err;
    }
  }

  close(): Promise<void> {
    return this.#pool.destroy();
  }
}
