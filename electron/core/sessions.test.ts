import { describe, expect, it } from 'vitest';
import { KeyRing } from './keyring.js';
import { type KeyRecord, newKeyRecord } from './keys.js';
import { SessionCache } from './sessions.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { MemoryKeyStore } from '../../test/support/memory-key-store.js';

const SECOND = 1000;

function key(user = 'alice'): KeyRecord {
  return newKeyRecord(`og_${user}_secret_key_for_tests_only`, { user }, 0);
}

/** A cache whose TTL and key usability the test controls. */
function setup(ttlSeconds = 3600) {
  const clock = new FakeClock();
  let ttl = ttlSeconds;
  const unusable = new Set<string>();
  const cache = new SessionCache(clock, { ttlSeconds: () => ttl, maxPerKey: () => 32 }, (id) => !unusable.has(id));
  return {
    clock,
    cache,
    setTtl: (seconds: number) => (ttl = seconds),
    makeUnusable: (id: string) => unusable.add(id),
  };
}

describe('SessionCache: creating and using a session', () => {
  it('trusts the IP for the TTL, bound to the key and its user', () => {
    const { cache, clock } = setup(60);
    const k = key();
    const created = cache.create('10.0.0.5', k);
    expect(created).toEqual({
      ip: '10.0.0.5',
      keyId: k.id,
      user: 'alice',
      createdAt: clock.now(),
      lastSeenAt: clock.now(),
      expiresAt: clock.now() + 60 * SECOND,
    });
    expect(cache.use('10.0.0.5')).toMatchObject({ keyId: k.id, user: 'alice' });
  });

  it('trusts only the IP that authenticated', () => {
    const { cache } = setup();
    cache.create('10.0.0.5', key());
    expect(cache.use('10.0.0.6')).toBeUndefined();
    expect(cache.use('10.0.0.50')).toBeUndefined();
  });

  it("replaces an IP's session when it authenticates again with another key", () => {
    const { cache } = setup();
    cache.create('10.0.0.5', key('alice'));
    const bob = key('bob');
    cache.create('10.0.0.5', bob);
    expect(cache.use('10.0.0.5')?.keyId).toBe(bob.id);
    expect(cache.list()).toHaveLength(1);
  });
});

describe('SessionCache: sliding expiry', () => {
  it('expires exactly TTL after the last use', () => {
    const { cache, clock } = setup(60);
    cache.create('10.0.0.5', key());
    clock.advance(60 * SECOND - 1);
    expect(cache.use('10.0.0.5')).toBeDefined();
    clock.advance(60 * SECOND - 1);
    expect(cache.use('10.0.0.5')).toBeDefined();
    clock.advance(60 * SECOND);
    expect(cache.use('10.0.0.5')).toBeUndefined();
  });

  it('without use it ends at createdAt + TTL', () => {
    const { cache, clock } = setup(60);
    cache.create('10.0.0.5', key());
    clock.advance(60 * SECOND);
    expect(cache.use('10.0.0.5')).toBeUndefined();
  });

  it('renews lastSeenAt and expiresAt on each use', () => {
    const { cache, clock } = setup(60);
    const created = cache.create('10.0.0.5', key());
    clock.advance(30 * SECOND);
    const used = cache.use('10.0.0.5');
    expect(used?.createdAt).toBe(created.createdAt);
    expect(used?.lastSeenAt).toBe(clock.now());
    expect(used?.expiresAt).toBe(clock.now() + 60 * SECOND);
  });

  it('keeps a session alive indefinitely while it is used within the TTL', () => {
    const { cache, clock } = setup(10);
    cache.create('10.0.0.5', key());
    for (let i = 0; i < 100; i++) {
      clock.advance(9 * SECOND);
      expect(cache.use('10.0.0.5'), `use ${i}`).toBeDefined();
    }
  });

  it('does not come back once expired', () => {
    const { cache, clock } = setup(10);
    cache.create('10.0.0.5', key());
    clock.advance(10 * SECOND);
    expect(cache.use('10.0.0.5')).toBeUndefined();
    clock.time -= 5 * SECOND; // even if the clock steps back
    expect(cache.use('10.0.0.5')).toBeUndefined();
  });

  it('list() leaves out expired sessions', () => {
    const { cache, clock } = setup(10);
    cache.create('10.0.0.1', key('a'));
    clock.advance(5 * SECOND);
    cache.create('10.0.0.2', key('b'));
    clock.advance(5 * SECOND);
    expect(cache.list().map((s) => s.ip)).toEqual(['10.0.0.2']);
  });

  it('list() hands out copies', () => {
    const { cache, clock } = setup(10);
    cache.create('10.0.0.1', key());
    cache.list()[0]!.expiresAt = clock.now() + 1e9;
    clock.advance(10 * SECOND);
    expect(cache.use('10.0.0.1')).toBeUndefined();
  });
});

describe('SessionCache: TTL 0 turns sessions off', () => {
  it('reports disabled and trusts nobody', () => {
    const { cache } = setup(0);
    expect(cache.enabled).toBe(false);
    cache.create('10.0.0.5', key());
    expect(cache.use('10.0.0.5')).toBeUndefined();
    expect(cache.list()).toEqual([]);
  });

  it('ends live sessions when the TTL is set to 0 while running', () => {
    const { cache, setTtl } = setup(3600);
    cache.create('10.0.0.5', key());
    expect(cache.enabled).toBe(true);
    setTtl(0);
    expect(cache.enabled).toBe(false);
    expect(cache.use('10.0.0.5')).toBeUndefined();
    setTtl(3600);
    expect(cache.use('10.0.0.5')).toBeUndefined();
  });
});

describe('SessionCache: revoking', () => {
  it('revoke(ip) ends one session and says whether there was one', () => {
    const { cache } = setup();
    cache.create('10.0.0.5', key('a'));
    cache.create('10.0.0.6', key('b'));
    expect(cache.revoke('10.0.0.5')).toBe(true);
    expect(cache.revoke('10.0.0.5')).toBe(false);
    expect(cache.use('10.0.0.5')).toBeUndefined();
    expect(cache.use('10.0.0.6')).toBeDefined();
  });

  it('clear() ends them all', () => {
    const { cache } = setup();
    cache.create('10.0.0.1', key('a'));
    cache.create('10.0.0.2', key('b'));
    cache.clear();
    expect(cache.list()).toEqual([]);
  });
});

describe('SessionCache: a key that stops being usable ends its sessions at once', () => {
  it('ends the session when isKeyUsable turns false, and keeps others', () => {
    const { cache, makeUnusable } = setup();
    const alice = key('alice');
    const bob = key('bob');
    cache.create('10.0.0.1', alice);
    cache.create('10.0.0.2', bob);
    makeUnusable(alice.id);
    expect(cache.use('10.0.0.1')).toBeUndefined();
    expect(cache.list().map((s) => s.keyId)).toEqual([bob.id]);
  });

  describe('with a real KeyRing', () => {
    function withRing() {
      const clock = new FakeClock();
      const ring = new KeyRing(new MemoryKeyStore(), clock);
      const cache = new SessionCache(clock, { ttlSeconds: () => 3600, maxPerKey: () => 32 }, (id, hash) => ring.isUsable(id, hash));
      const { key: k } = ring.create({ user: 'alice', expiresAt: clock.now() + 120 * SECOND });
      cache.create('10.0.0.9', k);
      return { clock, ring, cache, k };
    }

    it('a disabled key ends the session, and re-enabling does not revive it', () => {
      const { ring, cache, k } = withRing();
      expect(cache.use('10.0.0.9')).toBeDefined();
      ring.setEnabled(k.id, false);
      expect(cache.use('10.0.0.9')).toBeUndefined();
      ring.setEnabled(k.id, true);
      expect(cache.use('10.0.0.9')).toBeUndefined();
    });

    it('a removed key ends the session', () => {
      const { ring, cache, k } = withRing();
      ring.remove(k.id);
      expect(cache.use('10.0.0.9')).toBeUndefined();
      expect(cache.list()).toEqual([]);
    });

    it('an expired key ends the session even though the session itself is still young', () => {
      const { clock, cache } = withRing();
      clock.advance(119 * SECOND);
      expect(cache.use('10.0.0.9')).toBeDefined();
      clock.advance(1 * SECOND);
      expect(cache.use('10.0.0.9')).toBeUndefined();
    });
  });
});

describe('SessionCache: bound to the secret and capped per key', () => {
  it('ends a session when its key is rotated, with nothing else told', () => {
    const clock = new FakeClock();
    const keys = new KeyRing(new MemoryKeyStore(), clock);
    // Wired as the gateway wires it, but without the prune on key changes.
    const sessions = new SessionCache(clock, { ttlSeconds: () => 3600, maxPerKey: () => 32 }, (keyId, hash) => keys.isUsable(keyId, hash));
    const { key } = keys.create({ user: 'rotating' });
    sessions.create('10.0.0.5', key);
    expect(sessions.use('10.0.0.5')?.keyId).toBe(key.id);
    keys.rotate(key.id);
    expect(sessions.use('10.0.0.5')).toBeUndefined();
    // Authenticating again with the new secret trusts the IP again.
    sessions.create('10.0.0.5', keys.get(key.id)!);
    expect(sessions.use('10.0.0.5')?.keyId).toBe(key.id);
  });

  it('keeps only the most recently used sessions past the cap, and leaves other keys alone', () => {
    const clock = new FakeClock();
    const sessions = new SessionCache(clock, { ttlSeconds: () => 3600, maxPerKey: () => 3 }, () => true);
    const alice = newKeyRecord('og_alice_secret_key_for_tests_only', { user: 'alice' }, 0);
    const bob = newKeyRecord('og_bob_secret_key_for_tests_only__', { user: 'bob' }, 0);
    sessions.create('10.0.1.1', bob);
    sessions.create('10.0.1.2', bob);
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      clock.advance(1000);
      sessions.create(ip, alice);
    }
    // 10.0.0.1 is used again: now 10.0.0.2 is alice's least recently used.
    clock.advance(1000);
    expect(sessions.use('10.0.0.1')).toBeDefined();
    for (const ip of ['10.0.0.4', '10.0.0.5']) {
      clock.advance(1000);
      sessions.create(ip, alice);
    }
    const byKey = (keyId: string) =>
      sessions
        .list()
        .filter((s) => s.keyId === keyId)
        .map((s) => s.ip)
        .sort();
    expect(byKey(alice.id)).toEqual(['10.0.0.1', '10.0.0.4', '10.0.0.5']);
    expect(byKey(bob.id)).toEqual(['10.0.1.1', '10.0.1.2']);
    expect(sessions.use('10.0.0.2')).toBeUndefined();
    expect(sessions.use('10.0.0.3')).toBeUndefined();
  });
});
