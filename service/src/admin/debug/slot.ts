// One profile of a kind at a time. V8 has one CPU profiler and one sampling
// heap profiler per isolate; a second caller would either fail deep inside the
// native module or silently share (and stop) the first caller's session. It
// gets a 409 instead, told when the running profile ends.

export interface Busy {
  /** Epoch ms when the running profile is due to finish. */
  endsAt: number;
}

export class ProfileSlot {
  #busy: Busy | undefined;

  /** Takes the slot for `durationMs`; undefined when it is taken (see `busy`). */
  tryAcquire(durationMs: number): (() => void) | undefined {
    if (this.#busy) return undefined;
    const mine: Busy = { endsAt: Date.now() + durationMs };
    this.#busy = mine;
    return () => {
      if (this.#busy === mine) this.#busy = undefined;
    };
  }

  get busy(): Busy | undefined {
    return this.#busy;
  }
}
