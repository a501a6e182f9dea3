import { describe, expect, it } from 'vitest';
import { UsageError } from './command-line.js';
import { keySettingsFrom, parseExpiry } from './keys-command.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseExpiry', () => {
  it('reads durations from now: minutes, hours, days, weeks', () => {
    expect(parseExpiry('90m', NOW)).toBe(NOW + 90 * MINUTE);
    expect(parseExpiry('12h', NOW)).toBe(NOW + 12 * HOUR);
    expect(parseExpiry('30d', NOW)).toBe(NOW + 30 * DAY);
    expect(parseExpiry('2w', NOW)).toBe(NOW + 14 * DAY);
    expect(parseExpiry('30D', NOW)).toBe(NOW + 30 * DAY);
    expect(parseExpiry(' 7d ', NOW)).toBe(NOW + 7 * DAY);
  });

  it('reads a date as the end of that day, UTC, and an ISO date-time as given', () => {
    expect(parseExpiry('2026-12-31', NOW)).toBe(Date.UTC(2026, 11, 31, 23, 59, 59, 999));
    expect(parseExpiry('2027-01-15T08:30:00Z', NOW)).toBe(Date.UTC(2027, 0, 15, 8, 30));
    expect(parseExpiry('2027-01-15T08:30:00+02:00', NOW)).toBe(Date.UTC(2027, 0, 15, 6, 30));
  });

  it('today’s date still has the rest of the day to run', () => {
    expect(parseExpiry('2026-11-27', NOW)).toBe(Date.UTC(2026, 10, 27, 23, 59, 59, 999));
  });

  it('clears the expiry with never or none', () => {
    expect(parseExpiry('never', NOW)).toBeNull();
    expect(parseExpiry('none', NOW)).toBeNull();
  });

  it('refuses what it cannot read, with a message that says what it takes', () => {
    for (const bad of ['tomorrow', '30', '30x', '1y', '-5d', '', 'd', '2026-13-01', '2026/12/31 garbage']) {
      expect(() => parseExpiry(bad, NOW), bad).toThrow(UsageError);
    }
    expect(() => parseExpiry('soon', NOW)).toThrow(/--expires takes a duration \(30d, 12h, 2w\), a date \(2026-12-31\) or never, not "soon"/);
  });

  it('refuses a date in the past', () => {
    expect(() => parseExpiry('2020-01-01', NOW)).toThrow(/--expires 2020-01-01 is already in the past/);
    expect(() => parseExpiry('2026-11-26', NOW)).toThrow(UsageError);
  });

  it('refuses a day that does not exist instead of rolling it over into the next month', () => {
    // Date.parse('2027-02-30T…') gives 2 March: a key would silently expire on another day than asked.
    expect(() => parseExpiry('2027-02-30', NOW)).toThrow(UsageError);
    expect(() => parseExpiry('2027-04-31', NOW)).toThrow(UsageError);
  });

  it('refuses a zero duration, which would make a key that is expired from the start', () => {
    expect(() => parseExpiry('0d', NOW)).toThrow(UsageError);
    expect(() => parseExpiry('0m', NOW)).toThrow(UsageError);
  });
});

describe('keySettingsFrom', () => {
  it('changes nothing for flags left out', () => {
    expect(keySettingsFrom({}, NOW)).toEqual({});
  });

  it('reads every flag', () => {
    expect(
      keySettingsFrom(
        { scope: 'full', name: ' laptop ', user: 'bob', models: 'llama3*, qwen2.5:72b', rpm: '60', concurrency: '2', 'daily-tokens': '1000', expires: '30d' },
        NOW,
      ),
    ).toEqual({
      scope: 'full',
      name: 'laptop',
      user: 'bob',
      models: ['llama3*', 'qwen2.5:72b'],
      rpm: 60,
      concurrency: 2,
      dailyTokens: 1000,
      expiresAt: NOW + 30 * DAY,
    });
  });

  it('clears with none, never and empty values', () => {
    expect(keySettingsFrom({ rpm: 'none', concurrency: 'none', 'daily-tokens': 'none', expires: 'never', models: '', name: '' }, NOW)).toEqual({
      rpm: null,
      concurrency: null,
      dailyTokens: null,
      expiresAt: null,
      models: [],
      name: null,
    });
    expect(keySettingsFrom({ models: ' , ,' }, NOW)).toEqual({ models: [] });
  });

  it('refuses limits that are not whole numbers above zero, naming the flag', () => {
    for (const bad of ['-1', '1.5', 'abc', '', 'ten', 'Infinity']) {
      expect(() => keySettingsFrom({ rpm: bad }, NOW), `--rpm ${bad}`).toThrow(/--rpm takes a whole number above 0, or none/);
    }
    expect(() => keySettingsFrom({ concurrency: '-2' }, NOW)).toThrow(/--concurrency/);
    expect(() => keySettingsFrom({ 'daily-tokens': '2.5' }, NOW)).toThrow(/--daily-tokens/);
  });

  it('refuses an unknown scope, listing the known ones', () => {
    expect(() => keySettingsFrom({ scope: 'admin' }, NOW)).toThrow(/--scope must be one of: inference, full/);
  });

  it('passes expiry errors on', () => {
    expect(() => keySettingsFrom({ expires: 'later' }, NOW)).toThrow(UsageError);
  });
});
