// Hot reload of CONFIG_FILE.
//
// Kubernetes mounts a ConfigMap as a directory of symlinks into a hidden,
// timestamped folder, and updates it by swapping the `..data` symlink
// (an atomic rename). Watching the file itself misses that: its inode never
// changes, the symlink it resolves through does. So the watcher watches the
// *directory* and re-reads the file on any event there, plus a slow poll as a
// safety net for volumes where inotify says nothing (NFS, some overlays).
//
// A candidate is parsed and validated completely before it replaces the
// config in force; an invalid file is rejected with one error line and the
// old config stays. Each attempt is counted in config_reload_total{result}.
import { type FSWatcher, watch } from 'node:fs';
import { dirname } from 'node:path';
import type { Counter, Gauge } from 'prom-client';
import type { Logger } from '../logging/logger.js';
import { RuntimeConfigError, RuntimeConfigStore } from './runtime-config.js';

export interface ConfigWatcherOptions {
  logger: Logger;
  reloads: Counter<'result'>;
  info: Gauge<'hash'>;
  /** Poll interval for the safety net (ms). */
  pollMs?: number;
  /** Coalesce bursts of filesystem events (a ConfigMap swap is several). */
  debounceMs?: number;
}

export class ConfigWatcher {
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  readonly #path: string;

  constructor(
    private readonly store: RuntimeConfigStore,
    private readonly opts: ConfigWatcherOptions,
  ) {
    if (!store.path) throw new Error('ConfigWatcher needs a store loaded from a file');
    this.#path = store.path;
    opts.info.reset();
    opts.info.set({ hash: store.hash }, 1);
  }

  start(): this {
    try {
      this.#watcher = watch(dirname(this.#path), { persistent: false }, () => this.#schedule());
      this.#watcher.on('error', (err) => this.opts.logger.warn({ err }, 'config watch failed; polling only'));
    } catch (err) {
      this.opts.logger.warn({ err, path: this.#path }, 'config directory cannot be watched; polling only');
    }
    this.#poll = setInterval(() => this.#schedule(), this.opts.pollMs ?? 5000).unref();
    return this;
  }

  #schedule(): void {
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      void this.reload();
    }, this.opts.debounceMs ?? 100).unref();
  }

  /** Re-read the file now; resolves when applied or rejected. Reloads never overlap. */
  reload(): Promise<void> {
    this.#chain = this.#chain.then(() => this.#reloadOnce());
    return this.#chain;
  }

  async #reloadOnce(): Promise<void> {
    const { logger, reloads, info } = this.opts;
    let candidate: Awaited<ReturnType<typeof RuntimeConfigStore.read>>;
    try {
      candidate = await RuntimeConfigStore.read(this.#path);
    } catch (err) {
      // Mid-swap, the file can be briefly missing; the next event retries.
      if (err instanceof RuntimeConfigError && err.message.endsWith('ENOENT')) return;
      reloads.inc({ result: 'failure' });
      logger.error(
        { config_file: this.#path, kept_hash: this.store.hash, reason: (err as Error).message },
        'config reload rejected; keeping the config in force',
      );
      return;
    }
    if (candidate.hash === this.store.hash) return; // an event without a change
    const previous = this.store.hash;
    this.store.replace(candidate.config, candidate.hash);
    reloads.inc({ result: 'success' });
    info.reset();
    info.set({ hash: candidate.hash }, 1);
    logger.info({ config_file: this.#path, hash: candidate.hash, previous_hash: previous }, 'config reloaded');
  }

  stop(): void {
    this.#watcher?.close();
    clearInterval(this.#poll);
    clearTimeout(this.#debounce);
  }
}
