import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeyRing, isExpired } from './keyring.js';
import { KEY_PREFIX, type KeyRecord, displayPrefix, generateSecret, hashSecret, newKeyRecord } from './keys.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { MemoryKeyStore } from '../../test/support/memory-key-store.js';

/** A memory store that records writes and can announce changes "from another process". */
class ObservedStore extends MemoryKeyStore {
  readonly updates: Array<{ id: string; patch: Partial<KeyRecord> }> = [];
  private readonly listeners = new Set<() => void>();
  override update(id: string, patch: Partial<Omit<KeyRecord, 'id'>>): void {
    this.updates.push({ id, patch });
    super.update(id, patch);
  }
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  announceChange(): void {
    for (const listener of this.listeners) listener();
  }
  get listenerCount(): number {
    return this.listeners.size;
  }
}

function setup() {
  const clock = new FakeClock();
  const store = new ObservedStore();
  const ring = new KeyRing(store, clock);
  return { clock, store, ring };
}

describe('generated secrets', () => {
  it('have the og_ prefix and 192 bits of URL-safe randomness', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^og_[A-Za-z0-9_-]{32}$/);
    const random = Buffer.from(secret.slice(KEY_PREFIX.length), 'base64url');
    expect(random.length * 8).toBeGreaterThanOrEqual(128);
    expect(random.length).toBe(24);
  });

  it('never repeat', () => {
    const secrets = new Set(Array.from({ length: 2000 }, () => generateSecret()));
    expect(secrets.size).toBe(2000);
  });

  it('are not all alike in their characters (a crude check that the bytes are random)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 500; i++) for (const c of generateSecret().slice(3)) counts.set(c, (counts.get(c) ?? 0) + 1);
    // 16 000 characters over a 64-letter alphabet: every letter shows up, none dominates.
    expect(counts.size).toBe(64);
    expect(Math.max(...counts.values())).toBeLessThan(500);
  });

  it('come from KeyRing.create, each one different, returned with their record', () => {
    const { ring } = setup();
    const a = ring.create({ user: 'alice' });
    const b = ring.create({ user: 'alice' });
    expect(a.secret).toMatch(/^og_[A-Za-z0-9_-]{32}$/);
    expect(a.secret).not.toBe(b.secret);
    expect(a.key.id).not.toBe(b.key.id);
    expect(a.key.hash).toBe(hashSecret(a.secret));
  });
});

describe('at rest only the hash is kept', () => {
  it('stores the SHA-256 of the secret and a short prefix, and no field holds the secret', () => {
    const { ring, store } = setup();
    const { secret, key } = ring.create({ user: 'alice', scope: 'full' });
    const [stored] = store.list();
    expect(stored).toEqual(key);
    expect(stored!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored!.hash).toBe(hashSecret(secret));
    expect(stored!.prefix).toBe(secret.slice(0, 8));
    for (const [field, value] of Object.entries(stored!)) {
      expect(String(value), field).not.toContain(secret);
    }
    // Nothing beyond the 8 visible characters leaks anywhere in the record.
    expect(JSON.stringify(store.list())).not.toContain(secret.slice(0, 9));
  });

  it('hashSecret is SHA-256 in lower-case hex', () => {
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('displayPrefix', () => {
  it('shows og_ and 5 characters of a generated key', () => {
    const secret = generateSecret();
    expect(displayPrefix(secret)).toBe(secret.slice(0, 8));
  });

  it('reveals at most a quarter of a short imported key', () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    for (let length = 0; length <= 64; length++) {
      for (const start of ['', 'og_', 'sk-']) {
        const secret = (start + alphabet.repeat(2)).slice(0, length);
        const prefix = displayPrefix(secret);
        expect(secret.startsWith(prefix), secret).toBe(true);
        expect(prefix.length, `${secret} shows ${prefix}`).toBeLessThanOrEqual(Math.floor(length / 4));
        expect(prefix.length).toBeLessThanOrEqual(8);
      }
    }
  });

  it('shows nothing of a key of fewer than 4 characters', () => {
    expect(displayPrefix('abc')).toBe('');
    expect(displayPrefix('')).toBe('');
  });

  it('stores that prefix for an imported key', () => {
    const { ring } = setup();
    const key = ring.importSecret('sk-123456789', 'bob');
    expect(key?.prefix).toBe('sk-');
  });
});

describe('verify', () => {
  it('accepts a known, enabled, unexpired key', () => {
    const { ring } = setup();
    const { secret, key } = ring.create({ user: 'alice' });
    expect(ring.verify(secret)).toEqual({ ok: true, key });
  });

  it('refuses an unknown key', () => {
    const { ring } = setup();
    ring.create({ user: 'alice' });
    expect(ring.verify(generateSecret())).toEqual({ ok: false, reason: 'unknown' });
    expect(ring.verify('')).toEqual({ ok: false, reason: 'unknown' });
  });

  it('refuses a disabled key, and accepts it again once enabled', () => {
    const { ring } = setup();
    const { secret, key } = ring.create({ user: 'alice' });
    ring.setEnabled(key.id, false);
    expect(ring.verify(secret)).toMatchObject({ ok: false, reason: 'disabled', key: { id: key.id } });
    expect(ring.isUsable(key.id)).toBe(false);
    ring.setEnabled(key.id, true);
    expect(ring.verify(secret).ok).toBe(true);
    expect(ring.isUsable(key.id)).toBe(true);
  });

  it('refuses a key from the moment it expires (by the injected clock)', () => {
    const { ring, clock } = setup();
    const expiresAt = clock.now() + 60_000;
    const { secret, key } = ring.create({ user: 'alice', expiresAt });
    expect(ring.verify(secret).ok).toBe(true);
    clock.advance(59_999);
    expect(ring.verify(secret).ok).toBe(true);
    expect(ring.isUsable(key.id)).toBe(true);
    clock.advance(1);
    expect(ring.verify(secret)).toMatchObject({ ok: false, reason: 'expired', key: { id: key.id } });
    expect(ring.isUsable(key.id)).toBe(false);
  });

  it('reports a disabled and expired key as disabled', () => {
    const { ring, clock } = setup();
    const { secret, key } = ring.create({ user: 'alice', expiresAt: clock.now() - 1 });
    ring.setEnabled(key.id, false);
    expect(ring.verify(secret)).toMatchObject({ ok: false, reason: 'disabled' });
  });

  it('is case-sensitive and does not trim', () => {
    const { ring } = setup();
    const { secret } = ring.create({ user: 'alice' });
    expect(ring.verify(secret.toUpperCase()).ok).toBe(false);
    expect(ring.verify(` ${secret}`).ok).toBe(false);
  });

  it('isExpired treats null as never', () => {
    const record = newKeyRecord('x', { user: 'u' }, 0);
    expect(isExpired(record, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(isExpired({ ...record, expiresAt: 10 }, 10)).toBe(true);
    expect(isExpired({ ...record, expiresAt: 10 }, 9)).toBe(false);
  });
});

describe('create', () => {
  it('fills the record from the clock with sensible defaults', () => {
    const { ring, clock } = setup();
    const { key } = ring.create({ user: '  alice  ' });
    expect(key).toMatchObject({
      user: 'alice',
      scope: 'inference',
      createdAt: clock.now(),
      enabled: true,
      expiresAt: null,
      lastUsedAt: null,
      lastUsedIp: null,
    });
    expect(key.id).toMatch(/^[0-9a-f]{8}$/);
  });

  it('refuses an empty user name', () => {
    const { ring, store } = setup();
    expect(() => ring.create({ user: '   ' })).toThrow(/user/);
    expect(store.list()).toEqual([]);
  });
});

describe('resolve', () => {
  it('finds a key by id', () => {
    const { ring } = setup();
    const { key } = ring.create({ user: 'alice' });
    expect(ring.resolve(key.id)?.id).toBe(key.id);
  });

  it('finds a key by its user when the user has exactly one', () => {
    const { ring } = setup();
    const { key } = ring.create({ user: 'alice' });
    ring.create({ user: 'bob' });
    expect(ring.resolve('alice')?.id).toBe(key.id);
  });

  it('prefers an id over a user with that name', () => {
    const { ring } = setup();
    const { key } = ring.create({ user: 'alice' });
    ring.create({ user: key.id });
    expect(ring.resolve(key.id)?.user).toBe('alice');
  });

  it('throws for a user with several keys, naming their ids', () => {
    const { ring } = setup();
    const a = ring.create({ user: 'alice' }).key;
    const b = ring.create({ user: 'alice' }).key;
    expect(() => ring.resolve('alice')).toThrow(/2 keys/);
    expect(() => ring.resolve('alice')).toThrow(new RegExp(`${a.id}.*${b.id}`));
  });

  it('returns undefined when nothing matches', () => {
    const { ring } = setup();
    ring.create({ user: 'alice' });
    expect(ring.resolve('carol')).toBeUndefined();
  });
});

describe('importSecret', () => {
  it('keeps only the hash of an imported key, which then verifies', () => {
    const { ring, store } = setup();
    const key = ring.importSecret('sk-seed-key-0001', 'alice', 'full');
    expect(key).toMatchObject({ user: 'alice', scope: 'full', hash: hashSecret('sk-seed-key-0001') });
    expect(JSON.stringify(store.list())).not.toContain('sk-seed-key-0001');
    expect(ring.verify('sk-seed-key-0001')).toMatchObject({ ok: true, key: { user: 'alice' } });
  });

  it('skips a key it already has (returns undefined and adds nothing)', () => {
    const { ring, store } = setup();
    expect(ring.importSecret('sk-seed', 'alice')).toBeDefined();
    expect(ring.importSecret('sk-seed', 'somebody-else')).toBeUndefined();
    expect(store.list()).toHaveLength(1);
    expect(store.list()[0]!.user).toBe('alice');
  });

  it('defaults to the inference scope', () => {
    const { ring } = setup();
    expect(ring.importSecret('sk-seed', 'alice')?.scope).toBe('inference');
  });
});

describe('touch and flushTouches', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows the last use at once but writes it to the store only on flushTouches', async () => {
    const { ring, store, clock } = setup();
    const { key } = ring.create({ user: 'alice' });
    clock.advance(5);
    ring.touch(key.id, '192.168.1.20');

    expect(store.updates).toEqual([]);
    expect(store.list()[0]).toMatchObject({ lastUsedAt: null, lastUsedIp: null });
    expect(ring.get(key.id)).toMatchObject({ lastUsedAt: clock.now(), lastUsedIp: '192.168.1.20' });
    expect(ring.list()[0]).toMatchObject({ lastUsedAt: clock.now(), lastUsedIp: '192.168.1.20' });

    await ring.flushTouches();
    expect(store.updates).toEqual([{ id: key.id, patch: { lastUsedAt: clock.now(), lastUsedIp: '192.168.1.20' } }]);
    expect(store.list()[0]).toMatchObject({ lastUsedAt: clock.now(), lastUsedIp: '192.168.1.20' });
    await ring.close();
  });

  it('writes many touches of one key as a single update with the latest use', async () => {
    const { ring, store, clock } = setup();
    const { key } = ring.create({ user: 'alice' });
    for (let i = 1; i <= 100; i++) {
      clock.advance(1);
      ring.touch(key.id, `10.0.0.${i}`);
    }
    await ring.flushTouches();
    expect(store.updates).toHaveLength(1);
    expect(store.updates[0]!.patch).toEqual({ lastUsedAt: clock.now(), lastUsedIp: '10.0.0.100' });
    await ring.flushTouches();
    expect(store.updates).toHaveLength(1);
    await ring.close();
  });

  it('flushes by itself within 5 seconds', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { ring, store } = setup();
    const { key } = ring.create({ user: 'alice' });
    ring.touch(key.id, '10.0.0.1');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(store.updates).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.updates).toHaveLength(1);
    await ring.close();
  });

  it('flushes pending touches on close', async () => {
    const { ring, store } = setup();
    const { key } = ring.create({ user: 'alice' });
    ring.touch(key.id, '10.0.0.1');
    await ring.close();
    expect(store.list()[0]!.lastUsedIp).toBe('10.0.0.1');
  });

  it('drops the touch of a key removed before the flush', async () => {
    const { ring, store } = setup();
    const { key } = ring.create({ user: 'alice' });
    ring.touch(key.id, '10.0.0.1');
    ring.remove(key.id);
    await ring.flushTouches();
    expect(store.updates).toEqual([]);
    await ring.close();
  });

  it('survives a store it cannot write: reports it once, keeps showing the use and writes it once the store works again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { ring, store, clock } = setup();
    const { key } = ring.create({ user: 'alice' });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    let broken = true;
    const updateEach = store.updateEach.bind(store);
    store.updateEach = (patches) => {
      if (broken) throw new Error('the disk is full');
      updateEach(patches);
    };
    try {
      clock.advance(5);
      ring.touch(key.id, '10.0.0.7');
      await expect(ring.flushTouches()).resolves.toBeUndefined();
      await expect(ring.flushTouches()).resolves.toBeUndefined();
      expect(errors.mock.calls.map((call) => String(call[0]))).toEqual(['ollama-gate: could not save when keys were last used: the disk is full']);
      expect(ring.get(key.id)).toMatchObject({ lastUsedAt: clock.now(), lastUsedIp: '10.0.0.7' });
      expect(store.list()[0]!.lastUsedIp).toBeNull();

      // Retried by itself, with no new request to trigger it.
      broken = false;
      await vi.advanceTimersByTimeAsync(5_000);
      expect(store.list()[0]).toMatchObject({ lastUsedAt: clock.now(), lastUsedIp: '10.0.0.7' });
    } finally {
      errors.mockRestore();
      await ring.close();
    }
  });

  it('keeps a use made while its flush was being written for the next flush', async () => {
    const { ring, store, clock } = setup();
    const { key } = ring.create({ user: 'alice' });
    // A background write that finishes when the test says so.
    const writes: Array<() => void> = [];
    const updateEach = store.updateEach.bind(store);
    Object.assign(store, {
      updateEachInBackground: async (patches: Parameters<typeof store.updateEach>[0]) => {
        await new Promise<void>((resolve) => writes.push(resolve));
        updateEach(patches);
      },
    });
    clock.advance(5);
    ring.touch(key.id, '10.0.0.1');
    const first = ring.flushTouches();
    await vi.waitFor(() => expect(writes).toHaveLength(1));
    clock.advance(5);
    ring.touch(key.id, '10.0.0.2');
    writes[0]!();
    await first;
    expect(store.list()[0]!.lastUsedIp).toBe('10.0.0.1');
    expect(ring.get(key.id)!.lastUsedIp).toBe('10.0.0.2');

    const second = ring.flushTouches();
    await vi.waitFor(() => expect(writes).toHaveLength(2));
    writes[1]!();
    await second;
    expect(store.list()[0]).toMatchObject({ lastUsedAt: clock.now(), lastUsedIp: '10.0.0.2' });
    await ring.close();
  });
});

describe('hasModelAllowLists', () => {
  it('says whether any key limits its models, following updates, removals and other processes', async () => {
    const { ring, store } = setup();
    expect(ring.hasModelAllowLists).toBe(false);
    const { key } = ring.create({ user: 'alice' });
    expect(ring.hasModelAllowLists).toBe(false);
    ring.update(key.id, { models: ['llama3*'] });
    expect(ring.hasModelAllowLists).toBe(true);
    ring.update(key.id, { models: [] });
    expect(ring.hasModelAllowLists).toBe(false);
    const other = ring.create({ user: 'bob', models: ['qwen2.5:7b'] });
    expect(ring.hasModelAllowLists).toBe(true);
    store.update(other.key.id, { models: [] });
    store.announceChange();
    expect(ring.hasModelAllowLists).toBe(false);
    ring.update(other.key.id, { models: ['x'] });
    ring.remove(other.key.id);
    expect(ring.hasModelAllowLists).toBe(false);
    await ring.close();
  });
});

describe('remove, setEnabled and update', () => {
  it('remove deletes the key from the store and the ring', () => {
    const { ring, store } = setup();
    const { key, secret } = ring.create({ user: 'alice' });
    const other = ring.create({ user: 'bob' });
    ring.remove(key.id);
    expect(store.list().map((k) => k.id)).toEqual([other.key.id]);
    expect(ring.get(key.id)).toBeUndefined();
    expect(ring.verify(secret)).toEqual({ ok: false, reason: 'unknown' });
    expect(ring.isUsable(key.id)).toBe(false);
  });

  it('throws for an unknown id and changes nothing', () => {
    const { ring, store } = setup();
    ring.create({ user: 'alice' });
    const before = store.list();
    expect(() => ring.remove('nope')).toThrow(/nope/);
    expect(() => ring.setEnabled('nope', false)).toThrow(/nope/);
    expect(store.list()).toEqual(before);
  });

  it('update changes scope, user and expiry', () => {
    const { ring, clock } = setup();
    const { key, secret } = ring.create({ user: 'alice' });
    ring.update(key.id, { scope: 'full', user: 'alice2', expiresAt: clock.now() + 1 });
    expect(ring.get(key.id)).toMatchObject({ scope: 'full', user: 'alice2', expiresAt: clock.now() + 1 });
    clock.advance(1);
    expect(ring.verify(secret)).toMatchObject({ ok: false, reason: 'expired' });
  });
});

describe('onChange', () => {
  it('fires with the full list after create, enable/disable, update and remove', () => {
    const { ring } = setup();
    const seen: string[][] = [];
    ring.onChange((keys) => seen.push(keys.map((k) => `${k.user}:${k.enabled ? 'on' : 'off'}`)));
    const { key } = ring.create({ user: 'alice' });
    ring.setEnabled(key.id, false);
    ring.importSecret('sk-seed', 'bob');
    ring.remove(key.id);
    expect(seen).toEqual([['alice:on'], ['alice:off'], ['alice:off', 'bob:on'], ['bob:on']]);
  });

  it('fires when the store reports a change made elsewhere, and the ring then sees it', () => {
    const { ring, store } = setup();
    const { key, secret } = ring.create({ user: 'alice' });
    const listener = vi.fn();
    ring.onChange(listener);

    // Another process disables the key in the shared store.
    store.update(key.id, { enabled: false });
    expect(ring.verify(secret).ok).toBe(true); // not yet told
    store.announceChange();
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listener.mock.calls[0]![0]).toEqual([expect.objectContaining({ id: key.id, enabled: false })]);
    expect(ring.verify(secret)).toMatchObject({ ok: false, reason: 'disabled' });
  });

  it('stops firing after unsubscribe, and close() detaches from the store', async () => {
    const { ring, store } = setup();
    const listener = vi.fn();
    const unsubscribe = ring.onChange(listener);
    unsubscribe();
    ring.create({ user: 'alice' });
    expect(listener).not.toHaveBeenCalled();

    expect(store.listenerCount).toBe(1);
    await ring.close();
    expect(store.listenerCount).toBe(0);
  });
});

describe('reading from an existing store', () => {
  it('indexes the records already in the store', () => {
    const secret = 'og_existing_key_abcdefghijklmnopqrstu';
    const record = newKeyRecord(secret, { user: 'carol' }, 1);
    const ring = new KeyRing(new MemoryKeyStore([record]), new FakeClock());
    expect(ring.verify(secret)).toMatchObject({ ok: true, key: { id: record.id, user: 'carol' } });
  });

  it('hands out copies: changing a listed record does not change the ring', () => {
    const { ring } = setup();
    const { key, secret } = ring.create({ user: 'alice' });
    ring.list()[0]!.enabled = false;
    ring.get(key.id)!.enabled = false;
    expect(ring.verify(secret).ok).toBe(true);
  });
});
