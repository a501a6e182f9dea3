import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatRelative, formatShortDate, utcDay } from './format.js';

describe('formatting', () => {
  it('shows sizes in decimal units like Ollama does', () => {
    expect(formatBytes(0, 'en')).toBe('0 B');
    expect(formatBytes(292, 'zh-CN')).toBe('292 B');
    expect(formatBytes(4_700_000_000, 'en')).toBe('4.7 GB');
    expect(formatBytes(274_302_450, 'en')).toBe('274 MB');
    expect(formatBytes(1_500, 'en')).toBe('1.5 kB');
  });

  it('shows durations in the unit that fits, in the window language', () => {
    expect(formatDuration(850.4, 'en')).toBe('850 ms');
    expect(formatDuration(1_234, 'en')).toBe('1.2 sec');
    expect(formatDuration(150_000, 'en')).toBe('2.5 min');
    expect(formatDuration(850, 'zh-CN')).toBe('850毫秒');
  });

  it('says how long ago or how soon', () => {
    const now = Date.UTC(2026, 0, 10, 12);
    expect(formatRelative(now - 3 * 60_000, now, 'en')).toBe('3 minutes ago');
    expect(formatRelative(now + 2 * 3_600_000, now, 'en')).toBe('in 2 hours');
    expect(formatRelative(now, now, 'en')).toBe('now');
    expect(formatRelative(now - 86_400_000, now, 'zh-CN')).toBe('昨天');
  });

  it('leaves the year out of short dates in the current year', () => {
    const now = new Date(2026, 5, 1).getTime();
    expect(formatShortDate(new Date(2026, 10, 27).getTime(), now, 'en')).toBe('Nov 27');
    expect(formatShortDate(new Date(2027, 0, 2).getTime(), now, 'en')).toBe('Jan 2, 2027');
    expect(formatShortDate(new Date(2026, 10, 27).getTime(), now, 'zh-CN')).toBe('11月27日');
  });

  it('counts days in UTC, as the gate does', () => {
    expect(utcDay(Date.UTC(2026, 0, 10, 23, 59))).toBe('2026-01-10');
  });
});
