import type { SessionView } from '../shared/contract.js';
import type { Clock } from './clock.js';
import type { KeyRecord } from './keys.js';

/** An IP trusted through `POST /auth`, for clients that cannot send a key on every request: what the window shows. */
export type Session = SessionView;

/**
 * IP trust with a sliding expiry. A session lives only as long as its key is usable: the caller
 * passes `isKeyUsable` so a key disabled, expired or removed ends its sessions at once.
 */
export class SessionCache {
  private sessions = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlSeconds: () => number,
    private readonly isKeyUsable: (keyId: string) => boolean,
  ) {}

  get enabled(): boolean {
    return this.ttlSeconds() > 0;
  }

  create(ip: string, key: KeyRecord): Session {
    const now = this.clock.now();
    const session: Session = {
      ip,
      keyId: key.id,
      user: key.user,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.ttlSeconds() * 1000,
    };
    this.sessions.set(ip, session);
    return { ...session };
  }

  /** The live session for an IP, renewed by this use; expired or orphaned ones are dropped. */
  use(ip: string): Session | undefined {
    const session = this.sessions.get(ip);
    if (!session) return undefined;
    if (!this.isLive(session)) {
      this.sessions.delete(ip);
      return undefined;
    }
    const now = this.clock.now();
    session.lastSeenAt = now;
    session.expiresAt = now + this.ttlSeconds() * 1000;
    return session;
  }

  list(): Session[] {
    this.prune();
    return [...this.sessions.values()].map((s) => ({ ...s }));
  }

  revoke(ip: string): boolean {
    return this.sessions.delete(ip);
  }

  revokeKey(keyId: string): number {
    let revoked = 0;
    for (const [ip, session] of this.sessions) {
      if (session.keyId === keyId) {
        this.sessions.delete(ip);
        revoked++;
      }
    }
    return revoked;
  }

  /** Drops sessions whose time ran out or whose key stopped being usable. */
  prune(): void {
    for (const [ip, session] of this.sessions) if (!this.isLive(session)) this.sessions.delete(ip);
  }

  clear(): void {
    this.sessions.clear();
  }

  private isLive(session: Session): boolean {
    return this.enabled && session.expiresAt > this.clock.now() && this.isKeyUsable(session.keyId);
  }
}
