import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Conf from 'conf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_FILE_OPTIONS } from '../core/gate-store.js';
import { JsonFile } from './json-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ollama-gate-json-file-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('JsonFile', () => {
  it('reads a missing file as empty and creates it, and its folder, on the first write', () => {
    const file = new JsonFile(join(dir, 'nested', 'gate.json'));
    expect(file.store).toEqual({});
    file.set('keys', []);
    expect(JSON.parse(readFileSync(file.path, 'utf8'))).toEqual({ keys: [] });
    expect(statSync(file.path).mode & 0o777).toBe(0o600);
  });

  it('writes byte for byte what electron-store (conf) writes, so either host can own the file', () => {
    const document = { keys: [{ id: 'k1', models: ['llama3.2'] }], settings: { port: 8000, corsOrigins: [] } };
    const ours = new JsonFile(join(dir, 'ours.json'));
    ours.set('keys', document.keys);
    ours.set('settings', document.settings);
    const conf = new Conf<Record<string, unknown>>({ cwd: dir, configName: 'theirs', ...STORE_FILE_OPTIONS });
    conf.set('keys', document.keys);
    conf.set('settings', document.settings);
    expect(readFileSync(ours.path, 'utf8')).toBe(readFileSync(conf.path, 'utf8'));
  });

  it("sees another writer's change on the next read and keeps its other sections when writing one", () => {
    const path = join(dir, 'gate.json');
    const file = new JsonFile(path);
    file.set('keys', [{ id: 'a' }]);
    writeFileSync(path, JSON.stringify({ keys: [{ id: 'b' }], desktop: { language: 'en' } }));
    expect(file.store).toEqual({ keys: [{ id: 'b' }], desktop: { language: 'en' } });
    file.set('settings', { port: 9000 });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ keys: [{ id: 'b' }], desktop: { language: 'en' }, settings: { port: 9000 } });
  });

  it('refuses a file that is not a JSON object, and a failed write leaves the old file and no temporary one', () => {
    const path = join(dir, 'gate.json');
    writeFileSync(path, '[1, 2]');
    expect(() => new JsonFile(path).store).toThrow(/not a JSON object/);
    writeFileSync(path, '{"keys": [');
    expect(() => new JsonFile(path).store).toThrow(SyntaxError);

    // The file's place is taken by a folder: the rename fails after the temporary file was written.
    const blocked = join(dir, 'blocked.json');
    mkdirSync(join(blocked, 'inside'), { recursive: true });
    const file = new JsonFile(blocked);
    Object.defineProperty(file, 'store', { get: () => ({}) });
    expect(() => file.set('keys', [])).toThrow();
    expect(readdirSync(dir).sort()).toEqual(['blocked.json', 'gate.json']);
    expect(readFileSync(path, 'utf8')).toBe('{"keys": [');
  });

  describe('update (in the background)', () => {
    it('writes the same bytes as set, mode 0600, and resolves with what it wrote', async () => {
      const path = join(dir, 'gate.json');
      const viaSet = new JsonFile(join(dir, 'set.json'));
      viaSet.set('keys', [{ id: 'a' }]);
      viaSet.set('settings', { port: 9000 });
      const file = new JsonFile(path);
      file.set('keys', [{ id: 'a' }]);
      const written = await file.update((document) => ({ ...document, settings: { port: 9000 } }));
      expect(written).toEqual({ keys: [{ id: 'a' }], settings: { port: 9000 } });
      expect(readFileSync(path, 'utf8')).toBe(readFileSync(viaSet.path, 'utf8'));
      expect(statSync(path).mode & 0o777).toBe(0o600);
    });

    it('makes its change again on what another writer wrote meanwhile, so neither change is lost', async () => {
      const path = join(dir, 'gate.json');
      const file = new JsonFile(path);
      file.set('keys', [{ id: 'a' }]);
      const seen: unknown[] = [];
      await file.update((document) => {
        seen.push(document);
        // Another writer adds a key after this change read the file (once).
        if (seen.length === 1) new JsonFile(path).set('keys', [{ id: 'a' }, { id: 'b' }]);
        return { ...document, settings: { port: 9000 } };
      });
      expect(seen).toEqual([{ keys: [{ id: 'a' }] }, { keys: [{ id: 'a' }, { id: 'b' }] }]);
      expect(new JsonFile(path).store).toEqual({ keys: [{ id: 'a' }, { id: 'b' }], settings: { port: 9000 } });
    });

    it('gives up on a file that keeps changing under it, leaving the last writer its file and no temporary one', async () => {
      const path = join(dir, 'gate.json');
      const file = new JsonFile(path);
      file.set('keys', []);
      let calls = 0;
      const update = file.update((document) => {
        calls++;
        // Another writer replaces the file after each read.
        writeFileSync(path, JSON.stringify({ keys: [{ id: `other-${calls}` }] }));
        return { ...document, settings: { port: 9000 } };
      });
      await expect(update).rejects.toThrow(/kept changing/);
      expect(calls).toBe(5);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ keys: [{ id: 'other-5' }] });
      expect(readdirSync(dir)).toEqual(['gate.json']);
    });

    it('leaves a broken file as it is', async () => {
      const path = join(dir, 'gate.json');
      writeFileSync(path, '{"keys": [');
      await expect(new JsonFile(path).update((document) => document)).rejects.toThrow(SyntaxError);
      expect(readFileSync(path, 'utf8')).toBe('{"keys": [');
      expect(readdirSync(dir)).toEqual(['gate.json']);
    });
  });
});
