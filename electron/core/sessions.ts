import type { SessionView } from '../shared/contract.js';
import type { Clock } from './clock.js';
import type { KeyRecord } from './keys.js';

/** An IP trusted through `POST /auth`, for clients that cannot send a key on every request: what the window shows. */
export type Session = SessionView;

/** A session with the secret it was opened with: a rotated key is another secret, so it ends the session. */
interface HeldSession extends Session {
  secretHash: string;
}

export interface SessionLimits {
  /** how long an unused session lives, renewed by use; 0 turns sessions off */
  ttlSeconds(): number;
  /** how many IPs one key may trust at once; opening one more ends the least recently used */
  maxPerKey(): number;
}

/**
 * IP trust with a sliding expiry. A session lives only as long as its key is usable with the very
 * secret that opened it: the caller passes `isKeyUsable(keyId, secretHash)`, so a key disabled,
 * expired, removed or rotated (here or by another process) ends its sessions at once.
 */
export class SessionCache {
  private sessions = new Map<string, HeldSession>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: SessionLimits,
    private readonly isKeyUsable: (keyId: string, secretHash: string) => boolean,
  ) {}

  get enabled(): boolean {
    return this.limits.ttlSeconds() > 0;
  }

  create(ip: string, key: KeyRecord): Session {
    const now = this.clock.now();
    const session: HeldSession = {
      ip,
      keyId: key.id,
      user: key.user,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.limits.ttlSeconds() * 1000,
      secretHash: key.hash,
    };
    this.sessions.set(ip, session);
    this.dropBeyondCap(key.id);
    return view(session);
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
    session.expiresAt = now + this.limits.ttlSeconds() * 1000;
    return view(session);
  }

  list(): Session[] {
    this.prune();
    return [...this.sessions.values()].map(view);
  }

  revoke(ip: string): boolean {
    return this.sessions.delete(ip);
  }

  /** Drops sessions whose time ran out or whose key stopped being usable. */
  prune(): void {
    for (const [ip, session] of this.sessions) if (!this.isLive(session)) this.sessions.delete(ip);
  }

  clear(): void {
    this.sessions.clear();
  }

  private isLive(session: HeldSession): boolean {
    return this.enabled && session.expiresAt > this.clock.now() && this.isKeyUsable(session.keyId, session.secretHash);
  }

  /** One key trusting ever more IPs is bounded: past the cap, its least recently used sessions go. */
  private dropBeyondCap(keyId: string): void {
    const own = [...this.sessions.values()].filter((s) => s.keyId === keyId);
    const excess = own.length - Math.max(1, this.limits.maxPerKey());
    if (excess <= 0) return;
    own.sort((a, b) => a.lastSeenAt - b.lastSeenAt);
    for (const session of own.slice(0, excess)) this.sessions.delete(session.ip);
  }
}

function view({ secretHash: _, ...session }: HeldSession): Session {
  return session;
}
