import type { LockoutView } from '../../../../electron/shared/contract.js';

export interface LockoutRow extends LockoutView {
  /** ms until the lockout ends; null for an address only counting wrong keys */
  remainingMs: number | null;
}

/**
 * What the Locked out table shows at `now`: locked addresses first (the longest left first), then
 * those counting wrong keys (the most recent first). The gate says nothing when a lockout ends or
 * a wrong key ages out of the window, so both are dropped here by the clock.
 */
export function lockoutRows(list: readonly LockoutView[], now: number, windowSeconds: number): LockoutRow[] {
  const locked = list
    .filter((entry) => entry.lockedUntil !== null && entry.lockedUntil > now)
    .map((entry) => ({ ...entry, remainingMs: entry.lockedUntil! - now }))
    .sort((a, b) => b.remainingMs - a.remainingMs || a.ip.localeCompare(b.ip));
  const counting = list
    .filter((entry) => entry.lockedUntil === null && entry.lastFailureAt > now - windowSeconds * 1_000)
    .map((entry) => ({ ...entry, remainingMs: null }))
    .sort((a, b) => b.lastFailureAt - a.lastFailureAt || a.ip.localeCompare(b.ip));
  return [...locked, ...counting];
}

/** A countdown as a clock reads it: 4:05, 1:02:03; rounded up, so it says 0:00 only when it is over. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1_000));
  const hours = Math.floor(total / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}
