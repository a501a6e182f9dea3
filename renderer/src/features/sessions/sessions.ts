import type { KeyView, SessionView } from '../../../../electron/shared/contract.js';

export interface SessionRow extends SessionView {
  /** the display prefix of the key that created the session, when that key still exists */
  keyPrefix: string | null;
  /** ms until the session ends unless the IP is seen again */
  remainingMs: number;
}

/** Sessions most recently used first, with their key's prefix and the time they have left. */
export function sessionRows(sessions: readonly SessionView[], keys: readonly KeyView[] | null, now: number): SessionRow[] {
  const prefixes = new Map((keys ?? []).map((key) => [key.id, key.prefix]));
  return [...sessions]
    .sort((a, b) => b.lastSeenAt - a.lastSeenAt || a.ip.localeCompare(b.ip))
    .map((session) => ({ ...session, keyPrefix: prefixes.get(session.keyId) ?? null, remainingMs: Math.max(0, session.expiresAt - now) }));
}
