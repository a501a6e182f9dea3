import { describe, expect, it } from 'vitest';
import { axisTicks, niceStep } from './chart.js';

describe('chart axes', () => {
  it('rounds steps up to 1, 2 or 5 times a power of ten', () => {
    expect(niceStep(0)).toBe(1);
    expect(niceStep(7)).toBe(10);
    expect(niceStep(10)).toBe(10);
    expect(niceStep(11)).toBe(20);
    expect(niceStep(45)).toBe(50);
    expect(niceStep(0.3)).toBeCloseTo(0.5);
  });

  it('ends the axis on a round number at or above the largest value', () => {
    expect(axisTicks(180)).toEqual([0, 50, 100, 150, 200]);
    expect(axisTicks(200)).toEqual([0, 50, 100, 150, 200]);
    expect(axisTicks(12.5)).toEqual([0, 5, 10, 15]);
    expect(axisTicks(0.9)).toEqual([0, 0.5, 1]);
  });

  it('never splits a count into fractions', () => {
    expect(axisTicks(3, { integer: true })).toEqual([0, 1, 2, 3]);
    expect(axisTicks(0, { integer: true })).toEqual([0, 1]);
  });
});
