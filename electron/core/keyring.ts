import type { Clock } from './clock.js';
import { type KeyRecord, type KeySettings, type KeyStore, type Scope, displayPrefix, generateSecret, hashSecret, newKeyRecord } from './keys.js';

export type Verification = { ok: true; key: KeyRecord } | { ok: false; reason: 'unknown' | 'disabled' | 'expired'; key?: KeyRecord };

export interface CreatedKey {
  key: KeyRecord;
  /** The secret, returned this once and never again. */
  secret: string;
}

/** How often last-used times are written back: never on the request path, at most this often. */
const TOUCH_FLUSH_MS = 5_000;

interface Touch {
  lastUsedAt: number;
  lastUsedIp: string;
}

/**
 * The keys the gate knows, indexed by hash so a presented key is verified with one map lookup
 * (no per-key comparison whose timing could leak anything). It wraps a KeyStore and rebuilds its
 * index whenever the store says it changed.
 */
export class KeyRing {
  private byHash = new Map<string, KeyRecord>();
  private byId = new Map<string, KeyRecord>();
  private pendingTouches = new Map<string, Touch>();
  private flushTimer: NodeJS.Timeout | undefined;
  /** the last-use write in progress, or the last one */
  private flushing: Promise<void> = Promise.resolve();
  /** the last write failure reported, so a store that stays broken is reported once, not every flush */
  private lastFlushError: string | undefined;
  private listeners = new Set<(keys: KeyRecord[]) => void>();
  private unsubscribeStore: (() => void) | undefined;
  private allowLists = false;

  constructor(
    private readonly store: KeyStore,
    private readonly clock: Clock,
  ) {
    this.reload();
    this.unsubscribeStore = store.subscribe?.(() => this.reload());
  }

  /** Re-reads the store; keys that vanished or were disabled are reported to listeners. */
  reload(): void {
    const records = this.store.list();
    this.byHash = new Map(records.map((r) => [r.hash, r]));
    this.byId = new Map(records.map((r) => [r.id, r]));
    this.allowLists = records.some((r) => r.models.length > 0);
    for (const listener of this.listeners) listener(records);
  }

  /** Called with the full list after every change, from this process or another. */
  onChange(listener: (keys: KeyRecord[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether some key limits its models: only then does a request's model decide anything. */
  get hasModelAllowLists(): boolean {
    return this.allowLists;
  }

  list(): KeyRecord[] {
    return [...this.byId.values()].map((r) => ({ ...r, ...this.pendingTouches.get(r.id) }));
  }

  get(id: string): KeyRecord | undefined {
    const key = this.byId.get(id);
    return key && { ...key, ...this.pendingTouches.get(id) };
  }

  /** Finds a key by id, or by user name when exactly one key belongs to that user. */
  resolve(idOrUser: string): KeyRecord | undefined {
    const keys = this.list();
    const byId = keys.find((k) => k.id === idOrUser);
    if (byId) return byId;
    const byUser = keys.filter((k) => k.user === idOrUser);
    if (byUser.length > 1) {
      throw new Error(`"${idOrUser}" has ${byUser.length} keys; name one by its id (${byUser.map((k) => k.id).join(', ')})`);
    }
    return byUser[0];
  }

  verify(secret: string): Verification {
    const key = this.byHash.get(hashSecret(secret));
    if (!key) return { ok: false, reason: 'unknown' };
    if (!key.enabled) return { ok: false, reason: 'disabled', key };
    if (isExpired(key, this.clock.now())) return { ok: false, reason: 'expired', key };
    return { ok: true, key };
  }

  /**
   * Whether a key (looked up fresh) may still be used now, and still with the secret whose hash is
   * given: sessions ask this on every request, so a rotation anywhere ends the old secret's trust.
   */
  isUsable(id: string, secretHash?: string): boolean {
    const key = this.byId.get(id);
    return key !== undefined && key.enabled && !isExpired(key, this.clock.now()) && (secretHash === undefined || key.hash === secretHash);
  }

  create(fields: Partial<KeySettings> & { user: string }): CreatedKey {
    const user = fields.user.trim();
    if (!user) throw new Error('a key needs a user name');
    const secret = generateSecret();
    const key = newKeyRecord(secret, { ...fields, user }, this.clock.now());
    this.store.add(key);
    this.reload();
    return { key, secret };
  }

  /** Adds an existing secret (a seed proxy's key): only its hash is kept. Returns undefined for a duplicate. */
  importSecret(secret: string, user: string, scope: Scope = 'inference'): KeyRecord | undefined {
    const name = user.trim();
    if (!name) throw new Error(`the key ${displayPrefix(secret)}… has no user name`);
    if (!secret.trim()) throw new Error(`the key of ${name} is empty`);
    if (this.byHash.has(hashSecret(secret))) return undefined;
    const key = newKeyRecord(secret, { user: name, scope }, this.clock.now());
    this.store.add(key);
    this.reload();
    return key;
  }

  setEnabled(id: string, enabled: boolean): void {
    this.patch(id, { enabled });
  }

  update(id: string, patch: Partial<KeySettings>): void {
    if (patch.user !== undefined && !patch.user.trim()) throw new Error('a key needs a user name');
    this.patch(id, patch.user === undefined ? patch : { ...patch, user: patch.user.trim() });
  }

  /** A new secret for the same key: id, user, settings and usage stay; the old secret stops working at once. */
  rotate(id: string): CreatedKey {
    this.requireKey(id);
    const secret = generateSecret();
    this.store.update(id, { hash: hashSecret(secret), prefix: displayPrefix(secret) });
    this.reload();
    return { key: this.get(id)!, secret };
  }

  remove(id: string): void {
    this.requireKey(id);
    this.pendingTouches.delete(id);
    this.store.remove(id);
    this.reload();
  }

  /** Remembers when and from where a key was last used; written back later, off the request path. */
  touch(id: string, ip: string): void {
    const pending = this.pendingTouches.get(id);
    if (pending) {
      // Every request of a busy key: updated in place.
      pending.lastUsedAt = this.clock.now();
      pending.lastUsedIp = ip;
    } else {
      this.pendingTouches.set(id, { lastUsedAt: this.clock.now(), lastUsedIp: ip });
    }
    this.scheduleFlush();
  }

  /**
   * Writes every key used since the last flush, in one store write, in the background where the
   * store can. Never rejects: a store that cannot be written (broken, read-only, disk full) must
   * not take the gate down, so the failure is reported and the uses wait for the next flush.
   * Flushes run one after another; the promise settles when this one's write has.
   */
  flushTouches(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushing = this.flushing.then(() => this.writeTouches());
    return this.flushing;
  }

  /** Writes the last uses pending now. They stay pending (and shown) until written; a newer use stays for the next flush. */
  private async writeTouches(): Promise<void> {
    const touches = new Map<string, Touch>();
    for (const [id, touch] of this.pendingTouches) {
      if (this.byId.has(id)) touches.set(id, { ...touch });
      else this.pendingTouches.delete(id); // removed meanwhile, maybe by another process
    }
    if (touches.size === 0) return;
    try {
      await (this.store.updateEachInBackground ? this.store.updateEachInBackground(touches) : this.store.updateEach(touches));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== this.lastFlushError) console.error(`ollama-gate: could not save when keys were last used: ${message}`);
      this.lastFlushError = message;
      this.scheduleFlush();
      return;
    }
    this.lastFlushError = undefined;
    for (const [id, touch] of touches) {
      const pending = this.pendingTouches.get(id);
      if (pending?.lastUsedAt === touch.lastUsedAt && pending.lastUsedIp === touch.lastUsedIp) this.pendingTouches.delete(id);
      const key = this.byId.get(id);
      if (key) Object.assign(key, touch);
    }
  }

  private scheduleFlush(): void {
    this.flushTimer ??= setTimeout(() => void this.flushTouches(), TOUCH_FLUSH_MS).unref();
  }

  /** Writes the pending last uses and stops listening; resolves when they are written (or could not be). */
  close(): Promise<void> {
    const flushed = this.flushTouches();
    this.unsubscribeStore?.();
    this.listeners.clear();
    return flushed;
  }

  private patch(id: string, patch: Partial<Omit<KeyRecord, 'id'>>): void {
    this.requireKey(id);
    this.store.update(id, patch);
    this.reload();
  }

  private requireKey(id: string): void {
    if (!this.byId.has(id)) throw new Error(`no key with id "${id}"`);
  }
}

export function isExpired(key: KeyRecord, now: number): boolean {
  return key.expiresAt !== null && key.expiresAt <= now;
}
