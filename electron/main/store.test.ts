import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Conf from 'conf';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStore } from '../cli/open-store.js';
import { GateStore, STORE_NAME, StoreError } from '../core/gate-store.js';
import { DEFAULT_SETTINGS } from '../core/settings.js';
import { DESKTOP_DEFAULTS, DesktopSettingsStore, openAppStore, storeOptions } from './store.js';

const electron = vi.hoisted(() => {
  const app = { getPath: vi.fn((_name: string) => ''), getVersion: vi.fn(() => '0.1.0') };
  const ipcMain = { on: vi.fn() };
  return { app, ipcMain, shell: {} };
});
vi.mock('electron', () => ({ default: electron, ...electron }));

/** The app's store options through plain conf, as the app's electron-store would open the file. */
function openWithConf(cwd: string, projectVersion = '0.1.0') {
  return new Conf<Record<string, unknown>>({ ...storeOptions(), cwd, configName: STORE_NAME, projectVersion });
}

const readFile = (dir: string) => JSON.parse(readFileSync(join(dir, `${STORE_NAME}.json`), 'utf8')) as Record<string, unknown>;

describe('the desktop store options (through conf in plain Node)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gate-store-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the defaults on first run and records the migrated version', () => {
    openWithConf(dir);
    expect(readFile(dir)).toEqual({
      keys: [],
      settings: {},
      desktop: DESKTOP_DEFAULTS,
      __internal__: { migrations: { version: '0.1.0' } },
    });
  });

  it('gives a GateStore the default settings and no keys, and keeps what it writes', () => {
    const conf = openWithConf(dir);
    const gate = new GateStore(conf);
    expect(gate.current()).toEqual(DEFAULT_SETTINGS);
    expect(gate.list()).toEqual([]);
    gate.updateSettings({ port: 9000 });
    expect(readFile(dir)).toMatchObject({ settings: { port: 9000 }, desktop: DESKTOP_DEFAULTS, __internal__: { migrations: { version: '0.1.0' } } });
  });

  it('migrates a file written before 0.1.0: keys gain the new fields as "none", settings stay', () => {
    const oldKey = {
      id: 'k1',
      user: 'alice',
      scope: 'inference',
      hash: 'a'.repeat(64),
      prefix: 'og_abcde',
      createdAt: 1,
      enabled: true,
      expiresAt: null,
      lastUsedAt: null,
      lastUsedIp: null,
    };
    writeFileSync(join(dir, `${STORE_NAME}.json`), JSON.stringify({ keys: [oldKey], settings: { port: 8080 } }));
    openWithConf(dir);
    const file = readFile(dir);
    expect(file.keys).toEqual([{ ...oldKey, name: null, models: [], rpm: null, concurrency: null, dailyTokens: null }]);
    expect(file.settings).toEqual({ port: 8080 });
    expect(file.desktop).toEqual(DESKTOP_DEFAULTS);
    expect(file.__internal__).toEqual({ migrations: { version: '0.1.0' } });
    // The CLI reads the migrated file as it is.
    const cli = openStore(dir);
    expect(cli.list()[0]).toMatchObject({ id: 'k1', user: 'alice', models: [] });
    expect(cli.current().port).toBe(8080);
  });

  it('runs a migration once, and not for an app older than it', () => {
    writeFileSync(join(dir, `${STORE_NAME}.json`), JSON.stringify({ keys: [{ id: 'k' }] }));
    openWithConf(dir, '0.0.9');
    expect(readFile(dir).keys).toEqual([{ id: 'k' }]);
    openWithConf(dir, '0.1.0');
    expect(readFile(dir).keys).toEqual([{ id: 'k', name: null, models: [], rpm: null, concurrency: null, dailyTokens: null }]);
    // Recorded: a later start at the same version leaves a key missing fields alone.
    const conf = openWithConf(dir, '0.1.0');
    conf.set('keys', [{ id: 'k2' }]);
    openWithConf(dir, '0.1.0');
    expect(readFile(dir).keys).toEqual([{ id: 'k2' }]);
  });

  it('refuses a file whose sections have the wrong shape', () => {
    writeFileSync(join(dir, `${STORE_NAME}.json`), JSON.stringify({ keys: {}, settings: [] }));
    expect(() => openWithConf(dir, '0.0.1')).toThrow('Config schema violation: `keys` must be array; `settings` must be object');
  });

  it('keeps desktop settings, each bad field falling back to its default', () => {
    const conf = openWithConf(dir);
    const desktop = new DesktopSettingsStore(conf);
    expect(desktop.get()).toEqual(DESKTOP_DEFAULTS);
    expect(desktop.update({ language: 'zh-CN', launchAtLogin: true })).toEqual({ ...DESKTOP_DEFAULTS, language: 'zh-CN', launchAtLogin: true });
    expect(new DesktopSettingsStore(openWithConf(dir)).get().language).toBe('zh-CN');
    conf.set('desktop', { language: 'fr', startOnLaunch: 'yes', showInDock: true });
    expect(desktop.get()).toEqual({ ...DESKTOP_DEFAULTS, showInDock: true });
  });
});

describe('openAppStore (electron-store, with electron mocked)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gate-userdata-'));
    electron.app.getPath.mockImplementation(() => dir);
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens gate.json in userData, the very file the CLI opens', () => {
    const store = openAppStore(dir);
    expect(store.path).toBe(join(dir, 'gate.json'));
    expect(store.gate.path).toBe(store.path);
    const key = {
      id: 'cli1',
      user: 'from-cli',
      name: null,
      scope: 'inference' as const,
      models: [],
      rpm: null,
      concurrency: null,
      dailyTokens: null,
      hash: 'b'.repeat(64),
      prefix: 'og_x',
      createdAt: 1,
      enabled: true,
      expiresAt: null,
      lastUsedAt: null,
      lastUsedIp: null,
    };
    openStore(dir).add(key);
    expect(openAppStore(dir).gate.list()).toEqual([key]);
    store.gate.updateSettings({ host: '127.0.0.1' });
    expect(openStore(dir).current().host).toBe('127.0.0.1');
    expect(readFile(dir).__internal__).toEqual({ migrations: { version: '0.1.0' } });
  });

  it('writes last-use times in the background in the bytes electron-store writes, keeping its other sections', async () => {
    const store = openAppStore(dir);
    const key = {
      id: 'k1',
      user: 'alice',
      name: null,
      scope: 'inference' as const,
      models: [],
      rpm: null,
      concurrency: null,
      dailyTokens: null,
      hash: 'c'.repeat(64),
      prefix: 'og_y',
      createdAt: 1,
      enabled: true,
      expiresAt: null,
      lastUsedAt: null,
      lastUsedIp: null,
    };
    store.gate.add(key);
    const written = store.gate.updateEachInBackground(new Map([['k1', { lastUsedAt: 5, lastUsedIp: '10.0.0.9' }]]));
    expect(readFile(dir).keys).toEqual([key]);
    await written;
    const after = readFileSync(join(dir, 'gate.json'), 'utf8');
    expect(JSON.parse(after)).toEqual({ ...readFile(dir), keys: [{ ...key, lastUsedAt: 5, lastUsedIp: '10.0.0.9' }] });
    expect(readFile(dir)).toMatchObject({ desktop: DESKTOP_DEFAULTS, __internal__: { migrations: { version: '0.1.0' } } });
    // What conf itself would write for the same document.
    const conf = openWithConf(dir);
    conf.set('keys', conf.get('keys'));
    expect(readFileSync(join(dir, 'gate.json'), 'utf8')).toBe(after);
    expect(store.gate.list()[0]!.lastUsedIp).toBe('10.0.0.9');
  });

  it.each([
    ['not JSON', '{ not json', /not valid JSON/],
    ['not an object', '[1, 2]', /the top level is not a JSON object/],
    ['keys not a list', JSON.stringify({ keys: {} }), /"keys" is not a list/],
    ['settings not an object', JSON.stringify({ keys: [], settings: [] }), /"settings" is not an object/],
    ['desktop not an object', JSON.stringify({ desktop: 'dark' }), /"desktop" is not an object/],
  ])('reports a file that is %s with its path, and leaves it as it was', (_what, text, reason) => {
    writeFileSync(join(dir, 'gate.json'), text);
    expect(() => openAppStore(dir)).toThrow(StoreError);
    expect(() => openAppStore(dir)).toThrow(join(dir, 'gate.json'));
    expect(() => openAppStore(dir)).toThrow(reason);
    expect(readFileSync(join(dir, 'gate.json'), 'utf8')).toBe(text);
  });
});
