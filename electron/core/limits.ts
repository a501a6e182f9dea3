import type { LockoutView } from '../shared/contract.js';
import type { Clock } from './clock.js';
import { GateError } from './errors.js';
import type { KeyRecord } from './keys.js';

/** Which limit a request hits, when to try again, and the 429 that says so (Retry-After included). */
export type LimitRefusal = { limit: 'rpm' | 'concurrency' | 'daily_tokens'; retryAfterSeconds: number; error: GateError };

function refusal(limit: LimitRefusal['limit'], retryAfterSeconds: number, error: (headers: Record<string, string>) => GateError): LimitRefusal {
  return { limit, retryAfterSeconds, error: error({ 'Retry-After': String(retryAfterSeconds) }) };
}

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
        const limit = key.dailyTokens;
        return refusal(
          'daily_tokens',
          Math.max(1, Math.ceil((midnight - now) / 1000)),
          (headers) => new GateError('rate_limit_daily_tokens', { limit, used }, headers),
        );
      }
    }
    const running = this.inFlight.get(key.id) ?? 0;
    if (key.concurrency !== null && running >= key.concurrency) {
      const limit = key.concurrency;
      return refusal('concurrency', 1, (headers) =>
        limit === 1 ? new GateError('rate_limit_concurrency_one', {}, headers) : new GateError('rate_limit_concurrency', { limit }, headers),
      );
    }
    if (key.rpm !== null) {
      const times = (this.recent.get(key.id) ?? []).filter((t) => t > now - MINUTE_MS);
      if (times.length >= key.rpm) {
        this.recent.set(key.id, times);
        const limit = key.rpm;
        return refusal('rpm', Math.max(1, Math.ceil((times[0]! + MINUTE_MS - now) / 1000)), (headers) => new GateError('rate_limit_rpm', { limit }, headers));
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
/** The most addresses `list` returns: a window shows the most recent, not a scan of thousands. */
const MAX_LISTED = 500;

interface Lock {
  until: number;
  /** the wrong keys that locked it */
  failures: number;
  lastFailureAt: number;
}

/**
 * Repeated wrong keys from one address lock that address out for a while; other addresses are
 * unaffected. The addresses locked out and those counting towards it can be listed (for the
 * window) and unlocked; listeners hear of every wrong key, lockout and unlock, not of a lockout's
 * end, which anyone can compute from its time.
 */
export class Lockout {
  /** wrong keys per address within the window, oldest address first */
  private failures = new Map<string, number[]>();
  private locks = new Map<string, Lock>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly clock: Clock,
    private readonly policy: () => LockoutPolicy,
  ) {}

  /** Seconds until this IP may try again, or 0 when it is not locked out. */
  remainingSeconds(ip: string): number {
    const lock = this.locks.get(ip);
    if (lock === undefined) return 0;
    const left = lock.until - this.clock.now();
    if (left > 0) return Math.ceil(left / 1000);
    this.locks.delete(ip);
    return 0;
  }

  /** Counts a failed key; returns true when this failure starts a lockout. */
  recordFailure(ip: string): boolean {
    const { maxFailures, windowSeconds, cooldownSeconds } = this.policy();
    if (maxFailures <= 0) return false;
    const now = this.clock.now();
    const recent = (this.failures.get(ip) ?? []).filter((t) => t > now - windowSeconds * 1000);
    recent.push(now);
    this.failures.delete(ip); // re-inserted below: Map order then runs from least to most recently failing
    if (recent.length >= maxFailures) {
      this.locks.set(ip, { until: now + cooldownSeconds * 1000, failures: recent.length, lastFailureAt: now });
      if (this.locks.size > MAX_TRACKED_IPS) this.forgetExpiredLockouts(now);
      this.changed();
      return true;
    }
    this.failures.set(ip, recent);
    // Bounded memory under a scan from many addresses: forget the least recently failing first.
    if (this.failures.size > MAX_TRACKED_IPS) this.failures.delete(this.failures.keys().next().value!);
    this.changed();
    return false;
  }

  /**
   * Addresses locked out now (soonest free last), then those with wrong keys within the window
   * that are not locked, most recent first; at most MAX_LISTED.
   */
  list(): LockoutView[] {
    const now = this.clock.now();
    const { windowSeconds } = this.policy();
    const locked: LockoutView[] = [];
    for (const [ip, lock] of this.locks) {
      if (lock.until > now) locked.push({ ip, failures: lock.failures, lockedUntil: lock.until, lastFailureAt: lock.lastFailureAt });
    }
    locked.sort((a, b) => b.lastFailureAt - a.lastFailureAt || a.ip.localeCompare(b.ip));
    const lockedIps = new Set(locked.map((entry) => entry.ip));
    const counting: LockoutView[] = [];
    // Most recently failing last in the map: walk it backwards and stop once enough are found.
    const entries = [...this.failures];
    for (let i = entries.length - 1; i >= 0 && locked.length + counting.length < MAX_LISTED; i--) {
      const [ip, times] = entries[i]!;
      const recent = times.filter((t) => t > now - windowSeconds * 1000);
      if (recent.length > 0 && !lockedIps.has(ip)) counting.push({ ip, failures: recent.length, lockedUntil: null, lastFailureAt: recent.at(-1)! });
    }
    return [...locked.slice(0, MAX_LISTED), ...counting];
  }

  /** Lifts an address's lockout and forgets its wrong keys; false when there was neither. */
  unlock(ip: string): boolean {
    const now = this.clock.now();
    const lock = this.locks.get(ip);
    const wasLocked = lock !== undefined && lock.until > now;
    const hadFailures = this.failures.delete(ip);
    this.locks.delete(ip);
    if (!wasLocked && !hadFailures) return false;
    this.changed();
    return true;
  }

  /** Called after every wrong key, lockout and unlock; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        // A wrong key's request goes on being answered whatever a listener does.
        console.error('ollama-gate: a lockout listener failed:', error);
      }
    }
  }

  private forgetExpiredLockouts(now: number): void {
    for (const [ip, lock] of this.locks) if (lock.until <= now) this.locks.delete(ip);
  }
}
