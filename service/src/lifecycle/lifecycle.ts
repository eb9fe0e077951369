// The process's place in its life: starting → ready → draining.
//
// /readyz reads this; the shutdown sequence writes it. It is a plain object
// passed to whoever needs it (no module singleton), so tests can build as many
// apps as they like in one process.
export type Phase = 'starting' | 'ready' | 'draining';

export class Lifecycle {
  #phase: Phase = 'starting';
  #listeners: Array<(phase: Phase) => void> = [];

  get phase(): Phase {
    return this.#phase;
  }

  /** True from the first moment of shutdown: responses then carry `Connection: close`. */
  get draining(): boolean {
    return this.#phase === 'draining';
  }

  get ready(): boolean {
    return this.#phase === 'ready';
  }

  markReady(): void {
    if (this.#phase === 'starting') this.#set('ready');
  }

  beginDrain(): void {
    if (this.#phase !== 'draining') this.#set('draining');
  }

  onChange(listener: (phase: Phase) => void): void {
    this.#listeners.push(listener);
  }

  #set(phase: Phase): void {
    this.#phase = phase;
    for (const l of this.#listeners) l(phase);
  }
}
