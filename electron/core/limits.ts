import type { Clock } from './clock.js';
import type { KeyRecord } from './keys.js';

export type LimitRefusal = { limit: 'rpm' | 'concurrency' | 'daily_tokens'; message: string; retryAfterSeconds: number };

const MINUTE_MS = 60_000;

/**
 * Per-key request rate and concurrency. A request that passes `admit` holds a concurrency slot
 * until `release`; the check and the claim happen in one synchronous step, so racing requests
 * cannot overshoot a limit.
 */
export class KeyLimits {
  private recent = new Map<string, number[]>();
  private inFlight = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly tokensToday: (keyId: string) => number,
  ) {}

  /** Claims a slot for this request, or says which limit it hits and when to try again. */
  admit(key: KeyRecord): LimitRefusal | undefined {
    const now = this.clock.now();
    if (key.dailyTokens !== null) {
      const used = this.tokensToday(key.id);
      if (used >= key.dailyTokens) {
        const midnight = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate() + 1);
        return {
          limit: 'daily_tokens',
          message: `daily token budget of ${key.dailyTokens} used up (${used} tokens today); it resets at 00:00 UTC`,
          retryAfterSeconds: Math.max(1, Math.ceil((midnight - now) / 1000)),
        };
      }
    }
    const running = this.inFlight.get(key.id) ?? 0;
    if (key.concurrency !== null && running >= key.concurrency) {
      return { limit: 'concurrency', message: `at most ${key.concurrency} concurrent request${key.concurrency === 1 ? '' : 's'} for this key`, retryAfterSeconds: 1 };
    }
    if (key.rpm !== null) {
      const times = (this.recent.get(key.id) ?? []).filter((t) => t > now - MINUTE_MS);
      if (times.length >= key.rpm) {
        this.recent.set(key.id, times);
        return {
          limit: 'rpm',
          message: `rate limit of ${key.rpm} requests per minute reached`,
          retryAfterSeconds: Math.max(1, Math.ceil((times[0]! + MINUTE_MS - now) / 1000)),
        };
      }
      times.push(now);
      this.recent.set(key.id, times);
    }
    this.inFlight.set(key.id, running + 1);
    return undefined;
  }

  release(keyId: string): void {
    const running = (this.inFlight.get(keyId) ?? 1) - 1;
    if (running <= 0) this.inFlight.delete(keyId);
    else this.inFlight.set(keyId, running);
  }

  inFlightFor(keyId: string): number {
    return this.inFlight.get(keyId) ?? 0;
  }
}

export interface LockoutPolicy {
  /** failed keys from one IP within the window that trigger a lockout */
  maxFailures: number;
  windowSeconds: number;
  cooldownSeconds: number;
}

const MAX_TRACKED_IPS = 10_000;

/** Repeated wrong keys from one address lock that address out for a while; other addresses are unaffected. */
export class Lockout {
  private failures = new Map<string, number[]>();
  private lockedUntil = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly policy: () => LockoutPolicy,
  ) {}

  /** Seconds until this IP may try again, or 0 when it is not locked out. */
  remainingSeconds(ip: string): number {
    const until = this.lockedUntil.get(ip);
    if (until === undefined) return 0;
    const left = until - this.clock.now();
    if (left > 0) return Math.ceil(left / 1000);
    this.lockedUntil.delete(ip);
    return 0;
  }

  /** Counts a failed key; returns true when this failure starts a lockout. */
  recordFailure(ip: string): boolean {
    const { maxFailures, windowSeconds, cooldownSeconds } = this.policy();
    if (maxFailures <= 0) return false;
    const now = this.clock.now();
    const recent = (this.failures.get(ip) ?? []).filter((t) => t > now - windowSeconds * 1000);
    recent.push(now);
    if (recent.length >= maxFailures) {
      this.failures.delete(ip);
      this.lockedUntil.set(ip, now + cooldownSeconds * 1000);
      if (this.lockedUntil.size > MAX_TRACKED_IPS) this.forgetExpiredLockouts(now);
      return true;
    }
    this.failures.delete(ip); // re-insert: Map order then runs from least to most recently failing
    this.failures.set(ip, recent);
    // Bounded memory under a scan from many addresses: forget the least recently failing first.
    if (this.failures.size > MAX_TRACKED_IPS) this.failures.delete(this.failures.keys().next().value!);
    return false;
  }

  /** Addresses locked out now, for the UI. */
  locked(): Array<{ ip: string; until: number }> {
    const now = this.clock.now();
    return [...this.lockedUntil].filter(([, until]) => until > now).map(([ip, until]) => ({ ip, until }));
  }

  private forgetExpiredLockouts(now: number): void {
    for (const [ip, until] of this.lockedUntil) if (until <= now) this.lockedUntil.delete(ip);
  }

  unlock(ip: string): boolean {
    this.failures.delete(ip);
    return this.lockedUntil.delete(ip);
  }
}
