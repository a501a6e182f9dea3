import { describe, expect, it } from 'vitest';
import type { LockoutView } from '../../../../electron/shared/contract.js';
import { formatCountdown, lockoutRows } from './lockouts.js';

const NOW = 1_700_000_000_000;
const view = (ip: string, patch: Partial<LockoutView>): LockoutView => ({ ip, failures: 1, lockedUntil: null, lastFailureAt: NOW - 1_000, ...patch });

describe('lockout rows', () => {
  it('puts locked addresses first, longest left first, then counting ones, most recent first', () => {
    const rows = lockoutRows(
      [
        view('10.0.0.1', { lastFailureAt: NOW - 5_000 }),
        view('10.0.0.2', { lockedUntil: NOW + 60_000, failures: 10 }),
        view('10.0.0.3', { lastFailureAt: NOW - 1_000, failures: 4 }),
        view('10.0.0.4', { lockedUntil: NOW + 240_000, failures: 10 }),
      ],
      NOW,
      60,
    );
    expect(rows.map((row) => [row.ip, row.remainingMs])).toEqual([
      ['10.0.0.4', 240_000],
      ['10.0.0.2', 60_000],
      ['10.0.0.3', null],
      ['10.0.0.1', null],
    ]);
  });

  it('drops a lockout that has ended and wrong keys older than the window, by the clock alone', () => {
    const list = [view('10.0.0.1', { lockedUntil: NOW + 1_000 }), view('10.0.0.2', { lastFailureAt: NOW - 58_500 })];
    expect(lockoutRows(list, NOW, 60)).toHaveLength(2);
    expect(lockoutRows(list, NOW + 1_000, 60).map((row) => row.ip)).toEqual(['10.0.0.2']);
    expect(lockoutRows(list, NOW + 1_500, 60)).toEqual([]);
  });
});

describe('countdown', () => {
  it('reads like a clock, rounding up so 0:00 means over', () => {
    expect(formatCountdown(299_001)).toBe('5:00');
    expect(formatCountdown(299_000)).toBe('4:59');
    expect(formatCountdown(65_000)).toBe('1:05');
    expect(formatCountdown(9_000)).toBe('0:09');
    expect(formatCountdown(1)).toBe('0:01');
    expect(formatCountdown(0)).toBe('0:00');
    expect(formatCountdown(-5)).toBe('0:00');
    expect(formatCountdown(3_723_000)).toBe('1:02:03');
  });
});
