import type { Clock } from '../../electron/core/clock.js';

/** A clock a test moves by hand: expiries, windows and days without waiting for them. */
export class FakeClock implements Clock {
  constructor(public time = Date.UTC(2025, 0, 1)) {}

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }
}
