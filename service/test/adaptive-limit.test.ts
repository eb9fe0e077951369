// The adapted admission limit (resilience/adaptive-limit.ts): lowered only
// while connections are held and the event loop queues past the target,
// raised back when either stops, never above maxInFlight nor below its floor,
// and idle (no timer, no histogram) until something is held.
import { afterEach, describe, expect, it } from 'vitest';
import { AdaptiveLimit, DECREASE, INCREASE, MIN_ADAPTED_LIMIT } from '../src/resilience/adaptive-limit.js';

function setup(cap = 1000, target = 5, stepMs = 20) {
  const o = { cap, target, holding: false, changes: [] as number[] };
  const limit = new AdaptiveLimit({
    cap: () => o.cap,
    targetDelayMs: () => o.target,
    holding: () => o.holding,
    onChange: (n) => o.changes.push(n),
    stepMs,
  });
  return { o, limit };
}

let live: AdaptiveLimit | undefined;
afterEach(() => {
  live?.stop();
  live = undefined;
});

describe('adaptive admission limit', () => {
  it('is maxInFlight until connections are held, whatever the delay', () => {
    const { limit } = setup();
    expect(limit.limit).toBe(1000);
    limit.step(500);
    expect(limit.limit).toBe(1000);
    expect(limit.adapting).toBe(false);
  });

  it('falls by a tenth a step while connections are held and the loop queues past the target, down to its floor', () => {
    const { o, limit } = setup();
    o.holding = true;
    limit.step(20);
    expect(limit.limit).toBe(Math.round(1000 * DECREASE));
    for (let i = 0; i < 100; i++) limit.step(20);
    expect(limit.limit).toBe(MIN_ADAPTED_LIMIT);
    expect(o.changes.at(-1)).toBe(MIN_ADAPTED_LIMIT);
  });

  it('counts a hold since the last step as binding, even if nothing is held now', () => {
    const { limit } = setup();
    limit.held();
    live = limit;
    limit.step(20);
    expect(limit.limit).toBe(900);
  });

  it('keeps the limit while the delay is between a quarter of the target and the target', () => {
    const { o, limit } = setup();
    o.holding = true;
    limit.step(20);
    limit.step(4);
    limit.step(1.5);
    expect(limit.limit).toBe(900);
  });

  it('climbs back to maxInFlight when the loop keeps up (requests waiting on I/O, not the CPU)', () => {
    const { o, limit } = setup();
    o.holding = true;
    for (let i = 0; i < 30; i++) limit.step(50);
    const low = limit.limit;
    expect(low).toBeLessThan(100);
    limit.step(1);
    expect(limit.limit).toBe(Math.max(low + 1, Math.round(low * INCREASE)));
    for (let i = 0; i < 100; i++) limit.step(1);
    expect(limit.limit).toBe(1000);
  });

  it('climbs back when nothing is held any more, however busy the loop', () => {
    const { o, limit } = setup();
    o.holding = true;
    limit.step(50);
    o.holding = false;
    limit.step(50);
    expect(limit.limit).toBe(Math.round(900 * INCREASE));
  });

  it('follows maxInFlight down and up, and a target of 0 or a limit of 0 turns adapting off', () => {
    const { o, limit } = setup();
    o.holding = true;
    limit.step(50);
    expect(limit.limit).toBe(900);
    o.cap = 300;
    expect(limit.limit).toBe(300);
    limit.step(50);
    expect(limit.limit).toBe(270);
    o.cap = 20; // below the floor: the floor is the cap
    for (let i = 0; i < 5; i++) limit.step(50);
    expect(limit.limit).toBe(20);
    o.cap = 1000;
    o.target = 0;
    limit.step(50);
    expect(limit.limit).toBe(1000);
    o.target = 5;
    o.cap = 0;
    limit.step(50);
    expect(limit.limit).toBe(0);
  });

  it('adapts on a real event loop: a blocked loop with connections held lowers it, and it stops once they are gone', async () => {
    const { o, limit } = setup(1000, 5, 100);
    live = limit;
    o.holding = true;
    limit.held();
    expect(limit.adapting).toBe(true);
    // Block the loop 30 ms at a time for ~500 ms: the delay histogram sees it.
    const until = Date.now() + 500;
    while (Date.now() < until) {
      const t = Date.now() + 30;
      while (Date.now() < t) {
        // busy
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(limit.limit).toBeLessThan(1000);
    o.holding = false;
    const deadline = Date.now() + 5000;
    while (limit.adapting && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(limit.adapting).toBe(false);
    expect(limit.limit).toBe(1000);
    expect(o.changes.at(-1)).toBe(1000);
  });

  it('does not adapt when the target is 0', () => {
    const { limit } = setup(1000, 0);
    limit.held();
    expect(limit.adapting).toBe(false);
  });
});
