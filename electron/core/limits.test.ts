import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.js';
import { type KeyRecord, type KeySettings, generateSecret, newKeyRecord } from './keys.js';
import { KeyLimits, Lockout, type LockoutPolicy } from './limits.js';
import { FakeClock } from '../../test/support/fake-clock.js';

/** A clock the test moves by hand. */
const START = Date.UTC(2026, 10, 27, 12, 0, 0); // 2026-11-27 12:00:00 UTC

function key(settings: Partial<KeySettings> = {}): KeyRecord {
  return newKeyRecord(generateSecret(), { user: 'alice', ...settings }, START);
}

function limitsWith(clock: Clock, tokens: Record<string, number> = {}): KeyLimits {
  return new KeyLimits(clock, (id) => tokens[id] ?? 0);
}

describe('KeyLimits: requests per minute', () => {
  it('admits rpm requests in a minute, then refuses with the seconds until the oldest leaves the window', () => {
    const clock = new FakeClock(START);
    const limits = limitsWith(clock);
    const k = key({ rpm: 3 });
    for (let i = 0; i < 3; i++) {
      expect(limits.admit(k)).toBeUndefined();
      limits.release(k.id);
      clock.advance(10_000); // requests at 0 s, 10 s, 20 s
    }
    // now at 30 s: the first request (0 s) leaves the window at 60 s
    const refusal = limits.admit(k);
    expect(refusal).toMatchObject({ limit: 'rpm', retryAfterSeconds: 30 });
    // The 429 itself: its reason for the window, its English and its Retry-After, from one refusal.
    expect(refusal!.error).toMatchObject({ status: 429, reason: { code: 'rate_limit_rpm', params: { limit: 3 } }, headers: { 'Retry-After': '30' } });
    expect(refusal!.error.message).toMatch(/3 requests per minute/);

    clock.advance(29_500); // 59.5 s: still inside, half a second left, rounded up
    expect(limits.admit(k)).toMatchObject({ limit: 'rpm', retryAfterSeconds: 1 });
  });

  it('slides: each old request that leaves the window frees one place', () => {
    const clock = new FakeClock(START);
    const limits = limitsWith(clock);
    const k = key({ rpm: 2 });
    expect(limits.admit(k)).toBeUndefined(); // t = 0
    limits.release(k.id);
    clock.advance(40_000);
    expect(limits.admit(k)).toBeUndefined(); // t = 40 s
    limits.release(k.id);
    clock.advance(19_999);
    expect(limits.admit(k)).toMatchObject({ limit: 'rpm', retryAfterSeconds: 1 }); // t = 59.999 s
    clock.advance(1); // t = 60 s: the 0 s request is out
    expect(limits.admit(k)).toBeUndefined();
    limits.release(k.id);
    // The 40 s and 60 s requests fill the window again, until 100 s.
    const refusal = limits.admit(k);
    expect(refusal).toMatchObject({ limit: 'rpm', retryAfterSeconds: 40 });
    clock.advance(40_000);
    expect(limits.admit(k)).toBeUndefined();
  });

  it('does not count refused requests against the rate', () => {
    const clock = new FakeClock(START);
    const limits = limitsWith(clock);
    const k = key({ rpm: 1 });
    expect(limits.admit(k)).toBeUndefined();
    limits.release(k.id);
    for (let i = 0; i < 5; i++) {
      clock.advance(10_000);
      expect(limits.admit(k)?.limit).toBe('rpm');
    }
    clock.advance(10_000); // 60 s after the only admitted one
    expect(limits.admit(k)).toBeUndefined();
  });

  it('keeps keys apart', () => {
    const clock = new FakeClock(START);
    const limits = limitsWith(clock);
    const a = key({ rpm: 1 });
    const b = key({ rpm: 1 });
    expect(limits.admit(a)).toBeUndefined();
    expect(limits.admit(a)?.limit).toBe('rpm');
    expect(limits.admit(b)).toBeUndefined();
  });
});

describe('KeyLimits: concurrency', () => {
  it('admits up to the limit at once and frees a slot on release', () => {
    const clock = new FakeClock(START);
    const limits = limitsWith(clock);
    const k = key({ concurrency: 2 });
    expect(limits.admit(k)).toBeUndefined();
    expect(limits.admit(k)).toBeUndefined();
    const refusal = limits.admit(k);
    expect(refusal).toMatchObject({ limit: 'concurrency', retryAfterSeconds: 1 });
    expect(refusal!.error.message).toMatch(/at most 2 concurrent requests/);
    expect(refusal!.error.reason).toEqual({ code: 'rate_limit_concurrency', params: { limit: 2 } });
    expect(limits.inFlightFor(k.id)).toBe(2);
    limits.release(k.id);
    expect(limits.inFlightFor(k.id)).toBe(1);
    expect(limits.admit(k)).toBeUndefined();
    expect(limits.admit(k)?.limit).toBe('concurrency');
  });

  it('never goes negative when released more often than admitted', () => {
    const clock = new FakeClock(START);
    const limits = limitsWith(clock);
    const k = key({ concurrency: 1 });
    limits.release(k.id);
    limits.release(k.id);
    expect(limits.inFlightFor(k.id)).toBe(0);
    expect(limits.admit(k)).toBeUndefined();
    expect(limits.inFlightFor(k.id)).toBe(1);
    // A stray extra release must not open a second slot beyond the limit.
    limits.release(k.id);
    limits.release(k.id);
    expect(limits.inFlightFor(k.id)).toBe(0);
    expect(limits.admit(k)).toBeUndefined();
    expect(limits.admit(k)?.limit).toBe('concurrency');
  });

  it('a request refused for its rate holds no slot', () => {
    const clock = new FakeClock(START);
    const limits = limitsWith(clock);
    const k = key({ concurrency: 5, rpm: 1 });
    expect(limits.admit(k)).toBeUndefined();
    expect(limits.admit(k)?.limit).toBe('rpm');
    expect(limits.inFlightFor(k.id)).toBe(1);
  });

  it('counts requests in flight even for keys without a concurrency limit (they release cleanly)', () => {
    const clock = new FakeClock(START);
    const limits = limitsWith(clock);
    const k = key();
    expect(limits.admit(k)).toBeUndefined();
    expect(limits.inFlightFor(k.id)).toBe(1);
    limits.release(k.id);
    expect(limits.inFlightFor(k.id)).toBe(0);
  });
});

describe('KeyLimits: daily tokens', () => {
  it('refuses a key at its budget until the next UTC midnight', () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 27, 22, 30, 0)); // 1 h 30 min before midnight UTC
    const tokens: Record<string, number> = {};
    const limits = limitsWith(clock, tokens);
    const k = key({ dailyTokens: 1000 });
    tokens[k.id] = 999;
    expect(limits.admit(k)).toBeUndefined();
    limits.release(k.id);
    tokens[k.id] = 1000;
    const refusal = limits.admit(k);
    expect(refusal).toMatchObject({ limit: 'daily_tokens', retryAfterSeconds: 90 * 60 });
    expect(refusal!.error.message).toMatch(/daily token budget of 1000 used up \(1000 tokens today\)/);
    expect(refusal!.error.message).toMatch(/00:00 UTC/);
    tokens[k.id] = 5000; // over the budget (a long answer finished after admission)
    clock.advance(90 * 60 * 1000 - 1); // one millisecond before midnight
    expect(limits.admit(k)).toMatchObject({ limit: 'daily_tokens', retryAfterSeconds: 1 });
    // At midnight the ledger's day changes and tokensToday starts from zero again.
    clock.advance(1);
    tokens[k.id] = 0;
    expect(limits.admit(k)).toBeUndefined();
  });

  it('asks for the key’s own count only', () => {
    const clock = new FakeClock(START);
    const asked: string[] = [];
    const limits = new KeyLimits(clock, (id) => {
      asked.push(id);
      return 10;
    });
    const limited = key({ dailyTokens: 100 });
    const open = key();
    expect(limits.admit(limited)).toBeUndefined();
    expect(limits.admit(open)).toBeUndefined();
    expect(asked).toEqual([limited.id]);
  });
});

describe('KeyLimits: a key without limits', () => {
  it('is always admitted, whatever the rate, concurrency or token count', () => {
    const clock = new FakeClock(START);
    const limits = new KeyLimits(clock, () => Number.MAX_SAFE_INTEGER);
    const k = key();
    for (let i = 0; i < 1_000; i++) expect(limits.admit(k)).toBeUndefined();
    expect(limits.inFlightFor(k.id)).toBe(1_000);
  });
});

describe('Lockout', () => {
  const policy =
    (overrides: Partial<LockoutPolicy> = {}) =>
    () => ({ maxFailures: 3, windowSeconds: 60, cooldownSeconds: 300, ...overrides });

  it('locks an address out at the threshold within the window, for the cooldown, leaving others alone', () => {
    const clock = new FakeClock(START);
    const lockout = new Lockout(clock, policy());
    expect(lockout.recordFailure('10.0.0.1')).toBe(false);
    clock.advance(10_000);
    expect(lockout.recordFailure('10.0.0.1')).toBe(false);
    expect(lockout.remainingSeconds('10.0.0.1')).toBe(0);
    clock.advance(10_000);
    expect(lockout.recordFailure('10.0.0.1')).toBe(true);
    expect(lockout.remainingSeconds('10.0.0.1')).toBe(300);
    expect(lockout.remainingSeconds('10.0.0.2')).toBe(0);
    expect(lockout.list()).toEqual([{ ip: '10.0.0.1', failures: 3, lockedUntil: clock.now() + 300_000, lastFailureAt: clock.now() }]);
    clock.advance(100_500);
    expect(lockout.remainingSeconds('10.0.0.1')).toBe(200); // 199.5 s rounded up
  });

  it('forgets failures older than the window', () => {
    const clock = new FakeClock(START);
    const lockout = new Lockout(clock, policy());
    lockout.recordFailure('10.0.0.1'); // t = 0
    clock.advance(30_000);
    lockout.recordFailure('10.0.0.1'); // t = 30 s
    clock.advance(30_001); // t = 60.001 s: the first one is out of the window
    expect(lockout.recordFailure('10.0.0.1')).toBe(false);
    expect(lockout.remainingSeconds('10.0.0.1')).toBe(0);
    clock.advance(1_000);
    expect(lockout.recordFailure('10.0.0.1')).toBe(true); // 30 s, 60 s, 61 s
  });

  it('ends the lockout after the cooldown, and starts counting afresh', () => {
    const clock = new FakeClock(START);
    const lockout = new Lockout(clock, policy());
    for (let i = 0; i < 3; i++) lockout.recordFailure('10.0.0.1');
    expect(lockout.remainingSeconds('10.0.0.1')).toBe(300);
    clock.advance(299_999);
    expect(lockout.remainingSeconds('10.0.0.1')).toBe(1);
    clock.advance(1);
    expect(lockout.remainingSeconds('10.0.0.1')).toBe(0);
    expect(lockout.list()).toEqual([]);
    expect(lockout.recordFailure('10.0.0.1')).toBe(false);
    expect(lockout.recordFailure('10.0.0.1')).toBe(false);
    expect(lockout.recordFailure('10.0.0.1')).toBe(true);
  });

  it('unlock() lifts a lockout at once and forgets the failures counted so far', () => {
    const clock = new FakeClock(START);
    const lockout = new Lockout(clock, policy());
    for (let i = 0; i < 3; i++) lockout.recordFailure('10.0.0.1');
    expect(lockout.unlock('10.0.0.1')).toBe(true);
    expect(lockout.remainingSeconds('10.0.0.1')).toBe(0);
    expect(lockout.list()).toEqual([]);
    expect(lockout.unlock('10.0.0.1')).toBe(false); // nothing left to lift

    lockout.recordFailure('10.0.0.2');
    lockout.recordFailure('10.0.0.2');
    expect(lockout.unlock('10.0.0.2')).toBe(true); // not locked, but counting…
    expect(lockout.recordFailure('10.0.0.2')).toBe(false); // …and its two failures are forgotten
    expect(lockout.recordFailure('10.0.0.2')).toBe(false);
    expect(lockout.recordFailure('10.0.0.2')).toBe(true);
  });

  it('maxFailures 0 turns lockout off', () => {
    const clock = new FakeClock(START);
    const lockout = new Lockout(clock, policy({ maxFailures: 0 }));
    for (let i = 0; i < 1_000; i++) expect(lockout.recordFailure('10.0.0.1')).toBe(false);
    expect(lockout.remainingSeconds('10.0.0.1')).toBe(0);
    expect(lockout.list()).toEqual([]);
  });

  it('reads the policy on every failure, so a changed setting applies at once', () => {
    const clock = new FakeClock(START);
    let current: LockoutPolicy = { maxFailures: 5, windowSeconds: 60, cooldownSeconds: 300 };
    const lockout = new Lockout(clock, () => current);
    lockout.recordFailure('10.0.0.1');
    lockout.recordFailure('10.0.0.1');
    current = { maxFailures: 3, windowSeconds: 60, cooldownSeconds: 10 };
    expect(lockout.recordFailure('10.0.0.1')).toBe(true);
    expect(lockout.remainingSeconds('10.0.0.1')).toBe(10);
  });

  it('tracks at most 10,000 failing addresses: a scan from many addresses forgets the oldest first', () => {
    const clock = new FakeClock(START);
    const lockout = new Lockout(clock, policy({ maxFailures: 2 }));
    const internals = lockout as unknown as { failures: Map<string, number[]> };
    const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    for (let i = 0; i < 12_000; i++) expect(lockout.recordFailure(ip(i))).toBe(false);
    expect(internals.failures.size).toBe(10_000);
    // The first 2,000 were dropped: their next failure counts as their first.
    expect(lockout.recordFailure(ip(0))).toBe(false);
    // The most recent ones are still counted: their second failure locks them out.
    expect(lockout.recordFailure(ip(11_999))).toBe(true);
    expect(internals.failures.size).toBeLessThanOrEqual(10_000);
  });

  it('does not keep expired lockouts of more than 10,000 addresses in memory', () => {
    const clock = new FakeClock(START);
    const lockout = new Lockout(clock, policy({ maxFailures: 1, cooldownSeconds: 60 }));
    const internals = lockout as unknown as { failures: Map<string, number[]>; locks: Map<string, unknown> };
    const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    for (let i = 0; i < 12_000; i++) expect(lockout.recordFailure(ip(i))).toBe(true);
    clock.advance(61_000); // every one of these lockouts has ended
    expect(lockout.list()).toEqual([]);
    for (let i = 12_000; i < 24_000; i++) lockout.recordFailure(ip(i));
    clock.advance(61_000);
    lockout.list();
    lockout.recordFailure('192.0.2.1');
    // An address scan must not grow memory without bound, lockouts included.
    expect(internals.failures.size + internals.locks.size).toBeLessThanOrEqual(10_000 + 1);
  });
});

describe('Lockout: what the window sees', () => {
  const policy = () => ({ maxFailures: 3, windowSeconds: 60, cooldownSeconds: 300 });

  it('lists locked addresses first, then those counting towards a lockout, most recent first', () => {
    const clock = new FakeClock(START);
    const lockout = new Lockout(clock, policy);
    lockout.recordFailure('10.0.0.1');
    clock.advance(1_000);
    lockout.recordFailure('10.0.0.2');
    lockout.recordFailure('10.0.0.2');
    clock.advance(1_000);
    for (let i = 0; i < 3; i++) lockout.recordFailure('10.0.0.3');
    clock.advance(1_000);
    lockout.recordFailure('10.0.0.4');
    expect(lockout.list()).toEqual([
      { ip: '10.0.0.3', failures: 3, lockedUntil: START + 2_000 + 300_000, lastFailureAt: START + 2_000 },
      { ip: '10.0.0.4', failures: 1, lockedUntil: null, lastFailureAt: START + 3_000 },
      { ip: '10.0.0.2', failures: 2, lockedUntil: null, lastFailureAt: START + 1_000 },
      { ip: '10.0.0.1', failures: 1, lockedUntil: null, lastFailureAt: START },
    ]);
    // Wrong keys older than the window drop out; a lockout stays until its end.
    clock.advance(58_500);
    expect(lockout.list().map((entry) => [entry.ip, entry.failures])).toEqual([
      ['10.0.0.3', 3],
      ['10.0.0.4', 1],
    ]);
    clock.advance(300_000);
    expect(lockout.list()).toEqual([]);
  });

  it('lists at most 500 addresses, the locked ones first', () => {
    const clock = new FakeClock(START);
    const lockout = new Lockout(clock, policy);
    for (let i = 0; i < 3; i++) lockout.recordFailure('192.0.2.1');
    for (let i = 0; i < 800; i++) lockout.recordFailure(`10.0.${i >> 8}.${i & 255}`);
    const listed = lockout.list();
    expect(listed).toHaveLength(500);
    expect(listed[0]).toMatchObject({ ip: '192.0.2.1', lockedUntil: START + 300_000 });
    // The most recently failing come first among the rest: the last one counted leads.
    expect(listed[1]!.ip).toBe('10.0.3.31');
  });

  it('tells its listeners of every wrong key, lockout and unlock (not of an unlock that changes nothing)', () => {
    const clock = new FakeClock(START);
    const lockout = new Lockout(clock, policy);
    let changes = 0;
    const stop = lockout.onChange(() => changes++);
    lockout.recordFailure('10.0.0.1');
    lockout.recordFailure('10.0.0.1');
    expect(changes).toBe(2);
    lockout.recordFailure('10.0.0.1'); // the lockout
    expect(changes).toBe(3);
    expect(lockout.unlock('10.0.0.1')).toBe(true);
    expect(changes).toBe(4);
    expect(lockout.unlock('10.0.0.1')).toBe(false);
    expect(lockout.unlock('10.9.9.9')).toBe(false);
    expect(changes).toBe(4);
    stop();
    lockout.recordFailure('10.0.0.1');
    expect(changes).toBe(4);
  });

  it('keeps counting when a listener throws: a wrong key is still answered', () => {
    const clock = new FakeClock(START);
    const lockout = new Lockout(clock, policy);
    const quiet = console.error;
    console.error = () => {};
    try {
      lockout.onChange(() => {
        throw new Error('listener broke');
      });
      for (let i = 0; i < 2; i++) expect(lockout.recordFailure('10.0.0.1')).toBe(false);
      expect(lockout.recordFailure('10.0.0.1')).toBe(true);
    } finally {
      console.error = quiet;
    }
  });

  it('does not count an expired lockout as one to lift', () => {
    const clock = new FakeClock(START);
    const lockout = new Lockout(clock, policy);
    for (let i = 0; i < 3; i++) lockout.recordFailure('10.0.0.1');
    clock.advance(300_000);
    expect(lockout.unlock('10.0.0.1')).toBe(false);
  });
});
