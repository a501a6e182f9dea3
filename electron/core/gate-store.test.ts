import { pbkdf2 } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStore } from '../cli/open-store.js';
import { systemClock } from './clock.js';
import { GateStore, type JsonDocument, STORE_NAME, StoreError, defaultDataDir } from './gate-store.js';
import { KeyRing } from './keyring.js';
import { newKeyRecord } from './keys.js';
import { DEFAULT_SETTINGS } from './settings.js';
import { MemoryDocument } from '../../test/support/memory-document.js';

let dir: string;
let file: string;
const opened: GateStore[] = [];

/** Opens the store in the temp dir and closes it after the test. */
function open(overrides = {}): GateStore {
  const store = openStore(dir, overrides);
  opened.push(store);
  return store;
}

function bytes(): Buffer {
  return readFileSync(file);
}

/** Polls until `check` holds, failing after `timeoutMs`; returns how long it took. */
async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

/** Whether this process can write a file whose mode forbids it (root can, so chmod proves nothing). */
function permissionsAreBypassed(): boolean {
  const probeDir = mkdtempSync(join(tmpdir(), 'og-probe-'));
  const probe = join(probeDir, 'probe');
  writeFileSync(probe, 'x');
  chmodSync(probe, 0o444);
  try {
    closeSync(openSync(probe, 'r+'));
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probeDir, { recursive: true, force: true });
  }
}
const PERMISSIONS_BYPASSED = permissionsAreBypassed();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'og-store-'));
  file = join(dir, `${STORE_NAME}.json`);
});

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  vi.restoreAllMocks();
  chmodSync(dir, 0o700);
  rmSync(dir, { recursive: true, force: true });
});

describe('GateStore on conf: round trip', () => {
  it('starts empty with the default settings', () => {
    const store = open();
    expect(store.path).toBe(file);
    expect(store.list()).toEqual([]);
    expect(store.current()).toEqual(DEFAULT_SETTINGS);
    expect(store.storedSettings()).toEqual({});
  });

  it('keeps keys across openings: add, update, remove', async () => {
    const first = open();
    const ring = new KeyRing(first, systemClock);
    const alice = ring.create({ user: 'alice', scope: 'full' });
    const bob = ring.create({ user: 'bob' });
    ring.setEnabled(bob.key.id, false);
    ring.touch(alice.key.id, '10.1.2.3');
    await ring.close();

    const second = open();
    expect(second.list()).toEqual(first.list());
    expect(second.list()).toEqual([
      { ...alice.key, lastUsedAt: expect.any(Number), lastUsedIp: '10.1.2.3' },
      { ...bob.key, enabled: false },
    ]);
    const reopened = new KeyRing(second, systemClock);
    expect(reopened.verify(alice.secret)).toMatchObject({ ok: true, key: { user: 'alice', scope: 'full' } });
    expect(reopened.verify(bob.secret)).toMatchObject({ ok: false, reason: 'disabled' });

    reopened.remove(alice.key.id);
    expect(
      open()
        .list()
        .map((k) => k.id),
    ).toEqual([bob.key.id]);
  });

  it('never writes a secret to the file, only its hash', () => {
    const ring = new KeyRing(open(), systemClock);
    const { secret, key } = ring.create({ user: 'alice' });
    ring.importSecret('sk-seed-plain-text-key', 'bob');
    const text = bytes().toString('utf8');
    expect(text).toContain(key.hash);
    expect(text).not.toContain(secret);
    expect(text).not.toContain('sk-seed-plain-text-key');
  });

  it('keeps settings across openings, merged over the defaults', () => {
    const first = open();
    const returned = first.updateSettings({ port: 9001, corsOrigins: ['http://localhost:*'], sessionTtlSeconds: 0 });
    expect(returned).toEqual({ ...DEFAULT_SETTINGS, port: 9001, corsOrigins: ['http://localhost:*'], sessionTtlSeconds: 0 });
    first.updateSettings({ host: '127.0.0.1' });

    const second = open();
    expect(second.storedSettings()).toEqual({ port: 9001, corsOrigins: ['http://localhost:*'], sessionTtlSeconds: 0, host: '127.0.0.1' });
    expect(second.current()).toEqual({ ...DEFAULT_SETTINGS, port: 9001, corsOrigins: ['http://localhost:*'], sessionTtlSeconds: 0, host: '127.0.0.1' });
  });

  it('applies overrides on top without writing them', () => {
    open().updateSettings({ port: 9001 });
    const store = open({ port: 1234, host: undefined, upstream: 'http://10.0.0.2:11434' });
    expect(store.current()).toMatchObject({ port: 1234, host: DEFAULT_SETTINGS.host, upstream: 'http://10.0.0.2:11434' });
    expect(store.storedSettings()).toEqual({ port: 9001 });

    new KeyRing(store, systemClock).create({ user: 'alice' });
    store.updateSettings({ sessionTtlSeconds: 60 });
    expect(store.current()).toMatchObject({ port: 1234, sessionTtlSeconds: 60 });
    const onDisk = JSON.parse(bytes().toString('utf8')) as { settings: Record<string, unknown> };
    expect(onDisk.settings).toEqual({ port: 9001, sessionTtlSeconds: 60 });
  });

  it('refuses invalid settings and leaves the file as it was', () => {
    const store = open();
    store.updateSettings({ port: 9001 });
    const before = bytes();
    expect(() => store.updateSettings({ port: 70000 })).toThrow();
    expect(() => store.updateSettings({ upstream: 'ftp://example.com' })).toThrow();
    expect(() => store.updateSettings({ sessionTtlSeconds: -1 })).toThrow();
    expect(bytes().equals(before)).toBe(true);
    expect(store.current().port).toBe(9001);
  });

  it('refuses a key record the file format does not allow, and leaves the file loadable', () => {
    const store = open();
    new KeyRing(store, systemClock).create({ user: 'alice' });
    const before = bytes();
    const bad = { ...newKeyRecord('sk-seed', { user: 'bob' }, Date.now()), user: '' };
    expect(() => store.add(bad)).toThrow();
    expect(bytes().equals(before)).toBe(true);
    expect(() => open()).not.toThrow();
  });

  it('creates a data directory that does not exist yet', () => {
    const nested = join(dir, 'a', 'b');
    const store = openStore(nested);
    opened.push(store);
    new KeyRing(store, systemClock).create({ user: 'alice' });
    expect(existsSync(join(nested, `${STORE_NAME}.json`))).toBe(true);
  });
});

describe('GateStore on conf: file permissions', () => {
  it('writes the file readable by its owner only (0600), on every write', () => {
    const ring = new KeyRing(open(), systemClock);
    ring.create({ user: 'alice' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    ring.create({ user: 'bob' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('tightens a file that was readable by others when it writes it', () => {
    writeFileSync(file, '{}\n', { mode: 0o644 });
    chmodSync(file, 0o644);
    new KeyRing(open(), systemClock).create({ user: 'alice' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('GateStore on conf: a file it cannot use is left untouched', () => {
  const corrupt = ['{"keys": [', '{bad', 'not json at all', ''];
  for (const content of corrupt) {
    it(`an invalid JSON file (${JSON.stringify(content)}) gives a StoreError naming the file`, () => {
      writeFileSync(file, content);
      const before = bytes();
      let error: unknown;
      try {
        open();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(/not valid JSON/);
      expect(bytes().equals(before)).toBe(true);
    });
  }

  it('a file broken after opening fails the next write with a StoreError, and is not overwritten', () => {
    const store = open();
    const ring = new KeyRing(store, systemClock);
    ring.create({ user: 'alice' });
    writeFileSync(file, '{"keys": [ half written');
    const before = bytes();
    expect(() => ring.create({ user: 'bob' })).toThrow(StoreError);
    expect(() => ring.create({ user: 'bob' })).toThrow(file);
    expect(bytes().equals(before)).toBe(true);
  });

  const invalid: Array<[string, unknown, RegExp]> = [
    ['a key record missing fields', { keys: [{ id: 'x' }] }, /keys\.0/],
    ['a hash that is not SHA-256 hex', { keys: [{ ...newKeyRecord('s', { user: 'u' }, 0), hash: 'plaintext-key' }] }, /keys\.0\.hash/],
    ['an unknown scope', { keys: [{ ...newKeyRecord('s', { user: 'u' }, 0), scope: 'admin' }] }, /keys\.0\.scope/],
    ['a port given as a string', { settings: { port: '8000' } }, /settings\.port/],
    ['keys that are not a list', { keys: 5 }, /keys/],
  ];
  for (const [name, content, path] of invalid) {
    it(`a file with ${name} gives a StoreError naming the file and the problem`, () => {
      writeFileSync(file, JSON.stringify(content, null, 2));
      const before = bytes();
      let error: unknown;
      try {
        open();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(path);
      expect(bytes().equals(before)).toBe(true);
    });
  }

  it('a JSON file that is not an object (here an array) is refused, not taken for an empty store', () => {
    const content = JSON.stringify([newKeyRecord('s', { user: 'u' }, 0)]);
    writeFileSync(file, content);
    expect(() => open()).toThrow(StoreError);
    expect(bytes().toString('utf8')).toBe(content);
  });

  it('keeps members it does not know (electron-store may keep its own there)', () => {
    writeFileSync(file, JSON.stringify({ keys: [], windowBounds: { width: 800 } }));
    new KeyRing(open(), systemClock).create({ user: 'alice' });
    expect(JSON.parse(bytes().toString('utf8'))).toMatchObject({ windowBounds: { width: 800 } });
  });
});

describe('GateStore: last-use times', () => {
  it("writes every key's last use of a flush in one synced file write", async () => {
    const document = new MemoryDocument();
    const ring = new KeyRing(new GateStore(document), systemClock);
    const keys = ['alice', 'bob', 'carol'].map((user) => ring.create({ user }).key);
    const before = document.writes.length;
    keys.forEach((key, i) => ring.touch(key.id, `10.0.0.${i + 1}`));
    await ring.flushTouches();
    expect(document.writes.slice(before)).toEqual(['keys']);
    const stored = (document.store.keys as Array<{ user: string; lastUsedIp: string | null }>).map((k) => [k.user, k.lastUsedIp]);
    expect(stored).toEqual([
      ['alice', '10.0.0.1'],
      ['bob', '10.0.0.2'],
      ['carol', '10.0.0.3'],
    ]);
    await ring.close();
  });

  it('writes them in the background, to a file another process changed meanwhile without losing its change', async () => {
    const store = open();
    const alice = new KeyRing(store, systemClock).create({ user: 'alice' }).key;
    const written = store.updateEachInBackground(new Map([[alice.id, { lastUsedAt: 1_000, lastUsedIp: '10.0.0.1' }]]));
    // Not written yet: the write and its sync to disk happen off the event loop.
    expect(open().list()[0]!.lastUsedIp).toBeNull();
    // Meanwhile another process adds a key.
    const bob = new KeyRing(open(), systemClock).create({ user: 'bob' }).key;
    await written;
    expect(open().list()).toEqual([
      { ...alice, lastUsedAt: 1_000, lastUsedIp: '10.0.0.1' },
      { ...bob, lastUsedAt: null, lastUsedIp: null },
    ]);
    expect(store.list()[0]!.lastUsedIp).toBe('10.0.0.1');
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('a running gate whose store file breaks keeps serving: the failure is reported and the last use kept', async () => {
    const store = open();
    const ring = new KeyRing(store, systemClock);
    const alice = ring.create({ user: 'alice' });
    ring.touch(alice.key.id, '10.0.0.1');
    writeFileSync(file, '{broken');
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    await ring.flushTouches();
    expect(errors).toHaveBeenCalledWith(
      expect.stringMatching(/could not save when keys were last used: cannot read the store file .*gate\.json: it is not valid JSON/),
    );
    expect(readFileSync(file, 'utf8')).toBe('{broken');
    expect(ring.verify(alice.secret)).toMatchObject({ ok: true });
    expect(ring.get(alice.key.id)!.lastUsedIp).toBe('10.0.0.1');
    await ring.close();
  });
});

describe('GateStore: write failures', () => {
  /** A document backed by memory whose writes fail like the file system would. */
  class FailingDocument implements JsonDocument {
    readonly path = '/data/Ollama Gate/gate.json';
    store: Record<string, unknown> = { keys: [] };
    failWith: string | undefined;
    set(key: string, value: unknown): void {
      if (this.failWith) throw Object.assign(new Error(`${this.failWith}: failed`), { code: this.failWith });
      this.store = { ...this.store, [key]: value };
    }
  }

  it.each([
    ['EACCES', /permission denied/],
    ['EPERM', /permission denied/],
    ['EROFS', /read-only/],
    ['ENOSPC', /disk is full/],
  ])('a write failing with %s throws a StoreError that names the file and says nothing changed', (code, reason) => {
    const document = new FailingDocument();
    const store = new GateStore(document);
    const ring = new KeyRing(store, systemClock);
    const { key } = ring.create({ user: 'alice' });
    document.failWith = code;
    let error: unknown;
    try {
      ring.create({ user: 'bob' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toContain(document.path);
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).message).toMatch(/nothing was changed/);
    expect(store.list().map((k) => k.id)).toEqual([key.id]);
    expect(() => ring.setEnabled(key.id, false)).toThrow(StoreError);
    expect(() => ring.remove(key.id)).toThrow(StoreError);
    expect(store.list()).toEqual([key]);
  });

  describe.skipIf(PERMISSIONS_BYPASSED)('with real permissions (skipped as root, where chmod does not stop writes)', () => {
    it('a read-only store file is not replaced: the write throws a StoreError and the file is unchanged', () => {
      const ring = new KeyRing(open(), systemClock);
      ring.create({ user: 'alice' });
      chmodSync(file, 0o444);
      const before = bytes();
      expect(() => ring.create({ user: 'bob' })).toThrow(StoreError);
      expect(bytes().equals(before)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o444);
    });

    it('a store in a read-only directory: the write throws a StoreError saying permission denied, and the file is unchanged', () => {
      const ring = new KeyRing(open(), systemClock);
      ring.create({ user: 'alice' });
      chmodSync(file, 0o444);
      chmodSync(dir, 0o555);
      const before = bytes();
      expect(() => ring.create({ user: 'bob' })).toThrow(/permission denied/);
      expect(bytes().equals(before)).toBe(true);
    });
  });
});

describe('GateStore: watching the file for another process', () => {
  it('a second store on the same directory sees keys added by the first within 1 s', async () => {
    const writer = open();
    const writerRing = new KeyRing(writer, systemClock);
    writerRing.create({ user: 'alice' });

    const reader = open();
    reader.watch();
    const changed = vi.fn();
    reader.subscribe(changed);

    const { key } = writerRing.create({ user: 'bob' });
    const took = await waitFor('the reader to see bob', () => reader.list().some((k) => k.id === key.id), 1000);
    expect(took).toBeLessThan(1000);
    expect(changed).toHaveBeenCalled();
  });

  it('a KeyRing over the watching store stops accepting a key disabled by the other process', async () => {
    const writer = open();
    const writerRing = new KeyRing(writer, systemClock);
    const { key, secret } = writerRing.create({ user: 'alice' });

    const reader = open();
    reader.watch(50);
    const readerRing = new KeyRing(reader, systemClock);
    const onChange = vi.fn();
    readerRing.onChange(onChange);
    expect(readerRing.verify(secret).ok).toBe(true);

    writerRing.setEnabled(key.id, false);
    // Not a latency check (that is the test above, at the default interval): room for a loaded machine.
    await waitFor('the reader ring to refuse the key', () => !readerRing.verify(secret).ok, 3000);
    expect(readerRing.verify(secret)).toMatchObject({ ok: false, reason: 'disabled' });
    expect(onChange).toHaveBeenCalled();

    writerRing.remove(key.id);
    await waitFor(
      'the reader ring to forget the key',
      () => {
        const result = readerRing.verify(secret);
        return !result.ok && result.reason === 'unknown';
      },
      3000,
    );
  });

  it('sees settings changed by the other process', async () => {
    const writer = open();
    const reader = open({ host: '127.0.0.1' });
    reader.watch(50);
    writer.updateSettings({ sessionTtlSeconds: 42 });
    await waitFor('the new TTL', () => reader.current().sessionTtlSeconds === 42, 3000);
    expect(reader.current().host).toBe('127.0.0.1');
  });

  it('sees a change made before its first poll, however late that poll runs', async () => {
    const writer = open();
    new KeyRing(writer, systemClock).create({ user: 'alice' });
    const reader = open();
    // Node's thread pool (4 threads) busy: fs.watchFile's first stat, its view to compare with,
    // would come after the change below and never see it as one (a flaky test on a loaded machine).
    const busy = Array.from({ length: 4 }, () => new Promise((resolve) => pbkdf2('x', 'y', 300_000, 32, 'sha512', resolve)));
    reader.watch(20);
    const renamed = JSON.parse(bytes().toString('utf8')) as { keys: Array<Record<string, unknown>> };
    renamed.keys[0]!.user = 'alice-renamed';
    writeFileSync(file, JSON.stringify(renamed));
    await Promise.all(busy);
    await waitFor('the change', () => reader.list()[0]?.user === 'alice-renamed', 5000);
  });

  it('keeps what it loaded when the file turns invalid, and picks up the file once it is fixed', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const writer = open();
    const writerRing = new KeyRing(writer, systemClock);
    const { key } = writerRing.create({ user: 'alice' });
    const good = bytes();

    const reader = open();
    reader.watch(50);
    writeFileSync(file, '{"keys": [');
    await waitFor('the broken file to be reported', () => errors.mock.calls.length > 0, 5000);
    expect(String(errors.mock.calls[0]![0])).toContain(file);
    expect(reader.list().map((k) => k.id)).toEqual([key.id]);

    const fixed = JSON.parse(good.toString('utf8')) as { keys: Array<Record<string, unknown>> };
    fixed.keys[0]!.user = 'alice-renamed';
    writeFileSync(file, JSON.stringify(fixed));
    await waitFor('the fixed file', () => reader.list()[0]?.user === 'alice-renamed', 5000);
  });

  it('close() stops watching and calling listeners', async () => {
    const writer = open();
    const reader = open();
    reader.watch(20);
    const changed = vi.fn();
    reader.subscribe(changed);
    reader.close();
    new KeyRing(writer, systemClock).create({ user: 'alice' });
    // A second watcher on the same file tells us when the change was observable.
    const witness = open();
    witness.watch(20);
    const seen = vi.fn();
    witness.subscribe(seen);
    new KeyRing(writer, systemClock).create({ user: 'bob' });
    await waitFor('the witness to see the change', () => seen.mock.calls.length > 0, 2000);
    expect(changed).not.toHaveBeenCalled();
    expect(reader.list()).toEqual([]);
  });

  it('closing one store does not stop another store in the same process from watching the same file', async () => {
    const writer = open();
    const watching = open();
    watching.watch(20);
    const closed = open();
    closed.watch(20);
    closed.close();
    const { key } = new KeyRing(writer, systemClock).create({ user: 'alice' });
    await waitFor('the still-open store to see alice', () => watching.list().some((k) => k.id === key.id), 3000);
  });
});

describe('defaultDataDir', () => {
  it('uses OLLAMA_GATE_DATA_DIR when set, on any platform', () => {
    expect(defaultDataDir({ OLLAMA_GATE_DATA_DIR: '/srv/gate' }, 'linux')).toBe('/srv/gate');
    expect(defaultDataDir({ OLLAMA_GATE_DATA_DIR: '/srv/gate', APPDATA: '/x' }, 'win32')).toBe('/srv/gate');
  });

  it('is Electron\'s userData for "Ollama Gate" on macOS', () => {
    expect(defaultDataDir({}, 'darwin')).toBe(join(homedir(), 'Library', 'Application Support', 'Ollama Gate'));
  });

  it('is under APPDATA on Windows, with a fallback when it is not set', () => {
    expect(defaultDataDir({ APPDATA: 'C:/Users/a/AppData/Roaming' }, 'win32')).toBe(join('C:/Users/a/AppData/Roaming', 'Ollama Gate'));
    expect(defaultDataDir({}, 'win32')).toBe(join(homedir(), 'AppData', 'Roaming', 'Ollama Gate'));
  });

  it('follows XDG_CONFIG_HOME on Linux, else ~/.config', () => {
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/home/a/.cfg' }, 'linux')).toBe('/home/a/.cfg/Ollama Gate');
    expect(defaultDataDir({}, 'linux')).toBe(join(homedir(), '.config', 'Ollama Gate'));
    expect(defaultDataDir({}, 'freebsd')).toBe(join(homedir(), '.config', 'Ollama Gate'));
  });
});
