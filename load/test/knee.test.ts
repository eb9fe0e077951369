import { describe, expect, it } from 'vitest';
import { assessStep, kneeOf, type StepStat, shouldStop } from '../lib/knee.js';

const step = (connections: number, rps: number, p99Ms: number, errorRatio = 0): StepStat => ({
  step: `c=${connections}`,
  connections,
  rate: null,
  rps,
  p99Ms,
  errorRatio,
});

describe('knee detection', () => {
  it('finds the last step before throughput flattens while p99 climbs', () => {
    const steps = [
      step(25, 2400, 12),
      step(50, 4800, 13),
      step(100, 8200, 16),
      step(200, 8400, 30),
      step(400, 8300, 60),
    ];
    const a = kneeOf(steps);
    expect(a.knee?.connections).toBe(100);
    expect(a.saturatedAt).toBe('c=200');
    expect(a.steps.map((s) => s.saturated)).toEqual([false, false, false, true, true]);
    expect(a.verdict).toMatch(/knee at 100 connections/);
  });

  it('treats failing requests as saturation', () => {
    expect(assessStep([step(10, 1000, 10)], step(20, 2000, 11, 0.02))).toMatchObject({ saturated: true });
  });

  it('ignores a single noisy step that the next one contradicts', () => {
    const steps = [
      step(25, 2400, 12),
      step(50, 2450, 20),
      step(100, 4700, 21),
      step(200, 4750, 40),
      step(400, 4700, 80),
    ];
    expect(kneeOf(steps).knee?.connections).toBe(100);
  });

  it('says when the ramp never saturated', () => {
    const a = kneeOf([step(25, 2400, 12), step(50, 4800, 13)]);
    expect(a.knee).toBeNull();
    expect(a.verdict).toMatch(/no saturation up to 50 connections/);
  });

  it('judges open-loop steps by the delivered share of the offered rate', () => {
    const s = { ...step(100, 9000, 10), rate: 10000 };
    expect(assessStep([], s)).toMatchObject({ saturated: true });
    expect(assessStep([], { ...s, rps: 9990 })).toMatchObject({ saturated: false });
  });

  it('stops after two saturated steps in a row, or at once on heavy failure', () => {
    expect(shouldStop([{ ...step(1, 1, 1), saturated: true }])).toBe(false);
    expect(
      shouldStop([
        { ...step(1, 1, 1), saturated: true },
        { ...step(2, 1, 1), saturated: true },
      ]),
    ).toBe(true);
    expect(shouldStop([{ ...step(1, 1, 1, 0.2), saturated: true }])).toBe(true);
  });
});
