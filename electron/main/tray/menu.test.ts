import { describe, expect, it } from 'vitest';
import type { BackendView, HealthView, ProxyStatus } from '../../shared/contract.js';
import {
  MAX_KEYS_IN_MENU,
  MAX_TOOLTIP_LENGTH,
  type TrayBackend,
  type TrayMenuItem,
  type TrayState,
  buildTrayMenu,
  trayBackend,
  trayIconState,
  trayTooltip,
} from './menu.js';

const LISTENING: ProxyStatus = {
  state: 'listening',
  host: '0.0.0.0',
  port: 8000,
  urls: ['http://127.0.0.1:8000', 'http://192.168.1.5:8000'],
  error: null,
  reason: null,
  tls: null,
};

function state(overrides: Partial<TrayState> = {}): TrayState {
  return {
    appVersion: '0.1.0',
    status: LISTENING,
    ollama: { reachable: true, version: '0.12.6', error: null, exposedOn: [] },
    keys: [
      { id: 'k1', user: 'alice', name: 'laptop', enabled: true, expired: false },
      { id: 'k2', user: 'bob', name: null, enabled: false, expired: false },
    ],
    backends: [],
    sharedOnLan: true,
    lanUrl: 'http://192.168.1.5:8000',
    launchAtLogin: false,
    launchAtLoginSupported: true,
    language: 'en',
    ...overrides,
  };
}

const labels = (menu: TrayMenuItem[]) => menu.map((item) => (item.type === 'separator' ? '---' : item.label));
const byLabel = (menu: TrayMenuItem[], label: string) => {
  const item = menu.find((i) => i.label === label);
  if (!item) throw new Error(`no menu item "${label}" in ${JSON.stringify(labels(menu))}`);
  return item;
};

describe('buildTrayMenu', () => {
  it('serving with Ollama online: the full menu, in order', () => {
    const menu = buildTrayMenu(state());
    expect(labels(menu)).toEqual([
      'Serving on http://192.168.1.5:8000',
      'Ollama 0.12.6',
      '---',
      'Share on LAN',
      'Copy LAN URL',
      'Stop proxy',
      '---',
      'Keys',
      'alice (laptop)',
      'bob',
      'New key…',
      '---',
      'Open Ollama Gate',
      'Open logs folder',
      'Launch at login',
      '---',
      'Quit Ollama Gate',
    ]);
    expect(menu[0]).toMatchObject({ enabled: false });
    expect(menu[1]).toMatchObject({ enabled: false });
    expect(byLabel(menu, 'Share on LAN')).toEqual({ type: 'checkbox', label: 'Share on LAN', checked: true, action: { type: 'toggle-lan', share: false } });
    expect(byLabel(menu, 'Copy LAN URL').action).toEqual({ type: 'copy-lan-url', url: 'http://192.168.1.5:8000' });
    expect(byLabel(menu, 'Stop proxy').action).toEqual({ type: 'stop' });
    expect(byLabel(menu, 'New key…').action).toEqual({ type: 'new-key' });
    expect(byLabel(menu, 'Open Ollama Gate').action).toEqual({ type: 'open' });
    expect(byLabel(menu, 'Open logs folder').action).toEqual({ type: 'open-logs' });
    expect(byLabel(menu, 'Launch at login')).toMatchObject({
      type: 'checkbox',
      checked: false,
      enabled: true,
      action: { type: 'set-launch-at-login', enabled: true },
    });
    expect(byLabel(menu, 'Quit Ollama Gate').action).toEqual({ type: 'quit' });
    expect(trayIconState(state())).toBe('serving');
    expect(trayTooltip(state())).toBe('Ollama Gate 0.1.0\nServing on http://192.168.1.5:8000\nOllama 0.12.6');
  });

  it('one checkbox per key, ticked when enabled, clicking flips it', () => {
    const menu = buildTrayMenu(state());
    expect(byLabel(menu, 'alice (laptop)')).toEqual({
      type: 'checkbox',
      label: 'alice (laptop)',
      checked: true,
      action: { type: 'set-key-enabled', keyId: 'k1', enabled: false },
    });
    expect(byLabel(menu, 'bob')).toMatchObject({ checked: false, action: { type: 'set-key-enabled', keyId: 'k2', enabled: true } });
  });

  it('an expired key says so; no keys says that; too many keys end in a link to the window', () => {
    expect(labels(buildTrayMenu(state({ keys: [{ id: 'k', user: 'eve', name: null, enabled: true, expired: true }] })))).toContain('eve — expired');
    const none = buildTrayMenu(state({ keys: [] }));
    expect(byLabel(none, 'No keys yet')).toMatchObject({ enabled: false });
    const many = Array.from({ length: MAX_KEYS_IN_MENU + 3 }, (_, i) => ({ id: `k${i}`, user: `user${i}`, name: null, enabled: true, expired: false }));
    const menu = buildTrayMenu(state({ keys: many }));
    expect(menu.filter((item) => item.action?.type === 'set-key-enabled')).toHaveLength(MAX_KEYS_IN_MENU);
    expect(byLabel(menu, '3 more keys…').action).toEqual({ type: 'open', page: 'keys' });
  });

  it('serving only on this machine: loopback URL, nothing to copy', () => {
    const local = state({
      status: { ...LISTENING, host: '127.0.0.1', urls: ['http://127.0.0.1:8000'] },
      sharedOnLan: false,
      lanUrl: null,
    });
    const menu = buildTrayMenu(local);
    expect(menu[0]!.label).toBe('Serving on http://127.0.0.1:8000');
    expect(byLabel(menu, 'Share on LAN')).toMatchObject({ checked: false, action: { type: 'toggle-lan', share: true } });
    expect(byLabel(menu, 'Copy LAN URL')).toEqual({ label: 'Copy LAN URL', enabled: false });
  });

  it('Ollama offline: says so, and the icon shows it', () => {
    const offline = state({ ollama: { reachable: false, version: null, error: 'Ollama is not running', exposedOn: [] } });
    expect(buildTrayMenu(offline)[1]!.label).toBe('Ollama is not reachable');
    expect(trayIconState(offline)).toBe('offline');
    expect(trayTooltip(offline)).toBe('Ollama Gate 0.1.0\nServing on http://192.168.1.5:8000\nOllama is not reachable');
    expect(trayIconState(state({ ollama: null }))).toBe('serving');
    expect(trayTooltip(state({ ollama: null }))).toBe('Ollama Gate 0.1.0\nServing on http://192.168.1.5:8000\nChecking Ollama…');
    expect(buildTrayMenu(state({ ollama: null }))[1]!.label).toBe('Checking Ollama…');
  });

  it('warns when Ollama itself is open on the network', () => {
    const exposed = state({ ollama: { reachable: true, version: '0.12.6', error: null, exposedOn: ['192.168.1.5:11434'] } });
    expect(buildTrayMenu(exposed)[2]).toEqual({ label: '⚠ Ollama also answers on 192.168.1.5:11434, without a key', enabled: false });
    expect(trayIconState(exposed)).toBe('exposed');
    expect(trayTooltip(exposed)).toBe('Ollama Gate 0.1.0\nServing on http://192.168.1.5:8000\n⚠ Ollama is open on the LAN without a key');
    // Not answering at all is worse than answering on the LAN too.
    expect(trayIconState(state({ ollama: { reachable: false, version: null, error: 'down', exposedOn: ['192.168.1.5:11434'] } }))).toBe('offline');
  });

  it('stopped: offers Start, and the icon shows stopped', () => {
    const stopped = state({ status: { ...LISTENING, state: 'stopped', urls: [] } });
    const menu = buildTrayMenu(stopped);
    expect(menu[0]!.label).toBe('Proxy stopped');
    expect(byLabel(menu, 'Start proxy').action).toEqual({ type: 'start' });
    expect(labels(menu)).not.toContain('Stop proxy');
    expect(trayIconState(stopped)).toBe('stopped');
    expect(trayTooltip(stopped)).toBe('Ollama Gate 0.1.0\nProxy stopped\nOllama 0.12.6');
    // The gate's state comes first in the icon; the tooltip still says what Ollama is doing.
    const stoppedAndOffline = state({
      status: { ...LISTENING, state: 'stopped', urls: [] },
      ollama: { reachable: false, version: null, error: 'down', exposedOn: [] },
    });
    expect(trayIconState(stoppedAndOffline)).toBe('stopped');
    expect(trayTooltip(stoppedAndOffline)).toBe('Ollama Gate 0.1.0\nProxy stopped\nOllama is not reachable');
  });

  it('error: the port is in use at launch', () => {
    const error = 'port 8000 is already in use on 0.0.0.0: stop the other program or choose another port';
    const failed = state({ status: { ...LISTENING, state: 'error', urls: [], error } });
    const menu = buildTrayMenu(failed);
    expect(menu[0]).toEqual({ label: `Cannot start: ${error}`.slice(0, 79) + '…', enabled: false });
    expect(byLabel(menu, 'Start proxy').action).toEqual({ type: 'start' });
    expect(trayIconState(failed)).toBe('error');
    // Windows cuts tooltips at 127 characters: a long error is shortened, Ollama's line stays.
    const tooltip = trayTooltip(failed);
    expect(tooltip.length).toBeLessThanOrEqual(MAX_TOOLTIP_LENGTH);
    expect(tooltip).toMatch(/^Ollama Gate 0\.1\.0\nCannot start: port 8000 is already in use.*…\nOllama 0\.12\.6$/);
  });

  it('error: a restart failed and the previous listener still serves', () => {
    const kept = state({ status: { ...LISTENING, error: 'port 9000 is already in use on 0.0.0.0' } });
    const menu = buildTrayMenu(kept);
    expect(labels(menu).slice(0, 3)).toEqual(['Serving on http://192.168.1.5:8000', '⚠ port 9000 is already in use on 0.0.0.0', 'Ollama 0.12.6']);
    expect(byLabel(menu, 'Stop proxy')).toBeDefined();
    expect(trayIconState(kept)).toBe('error');
    expect(trayTooltip(kept)).toBe('Ollama Gate 0.1.0\n⚠ Serving, but: port 9000 is already in use on 0.0.0.0\nOllama 0.12.6');
  });

  it('an HTTPS failure is shown without stopping HTTP', () => {
    const tls = state({
      status: { ...LISTENING, tls: { port: 8443, urls: [], fingerprint256: null, certFile: null, error: 'HTTPS: port 8443 is already in use', reason: null } },
    });
    expect(labels(buildTrayMenu(tls))[1]).toBe('⚠ HTTPS: port 8443 is already in use');
  });

  it('launch at login is greyed out where it is not supported', () => {
    expect(byLabel(buildTrayMenu(state({ launchAtLoginSupported: false, launchAtLogin: false })), 'Launch at login')).toMatchObject({ enabled: false });
    expect(byLabel(buildTrayMenu(state({ launchAtLogin: true })), 'Launch at login')).toMatchObject({
      checked: true,
      action: { type: 'set-launch-at-login', enabled: false },
    });
  });

  it('speaks Simplified Chinese', () => {
    const menu = buildTrayMenu(state({ language: 'zh-CN' }));
    expect(labels(menu)).toEqual([
      '服务地址 http://192.168.1.5:8000',
      'Ollama 0.12.6',
      '---',
      '在局域网共享',
      '复制局域网地址',
      '停止代理',
      '---',
      '密钥',
      'alice (laptop)',
      'bob',
      '新建密钥…',
      '---',
      '打开 Ollama Gate',
      '打开日志文件夹',
      '登录时启动',
      '---',
      '退出 Ollama Gate',
    ]);
  });

  it('speaks Simplified Chinese in the tooltip too', () => {
    expect(trayTooltip(state({ language: 'zh-CN' }))).toBe('Ollama Gate 0.1.0\n服务地址 http://192.168.1.5:8000\nOllama 0.12.6');
    expect(trayTooltip(state({ language: 'zh-CN', ollama: { reachable: false, version: null, error: 'down', exposedOn: [] } }))).toBe(
      'Ollama Gate 0.1.0\n服务地址 http://192.168.1.5:8000\n无法连接 Ollama',
    );
  });

  it('is a pure function: the same state gives an equal menu, and the menu is plain data', () => {
    const a = buildTrayMenu(state());
    expect(buildTrayMenu(state())).toEqual(a);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });

  describe('with several backends', () => {
    const BACKENDS: TrayBackend[] = [
      { name: 'default', state: 'up', models: 3, error: null },
      { name: 'big', state: 'up', models: 1, error: null },
      { name: 'laptop', state: 'down', models: 0, error: 'Ollama is not running or refused the connection (http://10.0.0.7:11434, ECONNREFUSED)' },
      { name: 'spare', state: 'disabled', models: null, error: null },
    ];

    it('names each backend with its state instead of one Ollama line, the reason beside a down one', () => {
      const menu = buildTrayMenu(state({ backends: BACKENDS }));
      expect(labels(menu).slice(0, 6)).toEqual([
        'Serving on http://192.168.1.5:8000',
        'default: up, 3 models',
        'big: up, 1 model',
        // (cut, as every menu line, at 80 characters: the window has the whole reason)
        'laptop: down, Ollama is not running or refused the connection (http://10.0.0.7:…',
        'spare: off',
        '---',
      ]);
      expect(menu.slice(1, 5).every((item) => item.enabled === false && !item.action)).toBe(true);
      expect(labels(menu)).not.toContain('Ollama 0.12.6');
      // The rest of the menu is as with one Ollama.
      expect(labels(menu).slice(5)).toEqual(labels(buildTrayMenu(state())).slice(2));
    });

    it('says each backend in the tooltip, without reasons, and counts those that do not fit', () => {
      expect(trayTooltip(state({ backends: BACKENDS }))).toBe(
        'Ollama Gate 0.1.0\nServing on http://192.168.1.5:8000\ndefault: up, 3 models\nbig: up, 1 model\nlaptop: down\nspare: off',
      );
      const many: TrayBackend[] = Array.from({ length: 12 }, (_, i) => ({ name: `backend-${i}`, state: 'up', models: 10 + i, error: null }));
      const tooltip = trayTooltip(state({ backends: many }));
      expect(tooltip.length).toBeLessThanOrEqual(MAX_TOOLTIP_LENGTH);
      expect(tooltip).toMatch(/^Ollama Gate 0\.1\.0\nServing on http:\/\/192\.168\.1\.5:8000\nbackend-0: up, 10 models\n.*\nand \d+ more$/s);
      const shown = tooltip.split('\n').filter((line) => line.startsWith('backend-')).length;
      expect(tooltip).toContain(`and ${12 - shown} more`);
      // The LAN warning comes first, and the gate's line stays whole.
      const exposed = state({ backends: BACKENDS.slice(0, 2), ollama: { reachable: true, version: '0.12.6', error: null, exposedOn: ['192.168.1.5:11434'] } });
      expect(trayTooltip(exposed)).toBe(
        'Ollama Gate 0.1.0\nServing on http://192.168.1.5:8000\n⚠ Ollama is open on the LAN without a key\ndefault: up, 3 models\nand 1 more',
      );
    });

    it('shows offline only when no enabled backend is up: the default down with another up still serves', () => {
      const defaultDown = state({
        ollama: { reachable: false, version: null, error: 'down', exposedOn: [] },
        backends: [{ name: 'default', state: 'down', models: 0, error: 'down' }, BACKENDS[1]!, BACKENDS[3]!],
      });
      expect(trayIconState(defaultDown)).toBe('serving');
      const allDown = state({
        ollama: { reachable: false, version: null, error: 'down', exposedOn: [] },
        backends: [{ name: 'default', state: 'down', models: 0, error: 'down' }, { name: 'big', state: 'skipped', models: 1, error: null }, BACKENDS[3]!],
      });
      expect(trayIconState(allDown)).toBe('offline');
      // Still being checked is not offline; the gate's own state still comes first.
      expect(trayIconState(state({ backends: [{ name: 'default', state: 'checking', models: null, error: null }, BACKENDS[1]!] }))).toBe('serving');
      expect(trayIconState(state({ backends: BACKENDS, status: { ...LISTENING, state: 'stopped', urls: [] } }))).toBe('stopped');
    });

    it('with the default alone, speaks of one Ollama as before', () => {
      const one = state({ backends: [BACKENDS[0]!] });
      expect(buildTrayMenu(one)).toEqual(buildTrayMenu(state()));
      expect(trayTooltip(one)).toBe(trayTooltip(state()));
    });

    it('speaks Simplified Chinese', () => {
      const zh = state({ language: 'zh-CN', backends: BACKENDS });
      expect(labels(buildTrayMenu(zh)).slice(1, 5)).toEqual([
        'default：在线，3 个模型',
        'big：在线，1 个模型',
        // (the gate's reasons are in English, as the rest of the tray's)
        'laptop：离线，Ollama is not running or refused the connection (http://10.0.0.7:1143…',
        'spare：已停用',
      ]);
      expect(trayTooltip(zh)).toBe(
        'Ollama Gate 0.1.0\n服务地址 http://192.168.1.5:8000\ndefault：在线，3 个模型\nbig：在线，1 个模型\nlaptop：离线\nspare：已停用',
      );
    });

    it('reduces the gate’s backend views to states and model counts', () => {
      const health = (patch: Partial<HealthView> = {}): HealthView => ({
        upstream: 'http://10.0.0.7:11434',
        reachable: true,
        version: '0.12.6',
        latencyMs: 2,
        error: null,
        reason: null,
        checkedAt: 1,
        models: [{ name: 'a', size: 1, family: null, parameterSize: null, quantization: null, modifiedAt: null }],
        loaded: [],
        exposedOn: [],
        latency: [],
        ...patch,
      });
      const view = (patch: Partial<BackendView>): BackendView => ({
        name: 'big',
        url: 'http://10.0.0.7:11434',
        isDefault: false,
        enabled: true,
        weight: 1,
        inFlight: 0,
        skipped: false,
        health: health(),
        ...patch,
      });
      expect(trayBackend(view({}))).toEqual({ name: 'big', state: 'up', models: 1, error: null });
      expect(trayBackend(view({ health: health({ reachable: false, error: 'refused', models: [] }) }))).toEqual({
        name: 'big',
        state: 'down',
        models: 0,
        error: 'refused',
      });
      expect(trayBackend(view({ skipped: true }))).toMatchObject({ state: 'skipped' });
      expect(trayBackend(view({ health: null }))).toEqual({ name: 'big', state: 'checking', models: null, error: null });
      expect(trayBackend(view({ enabled: false, health: null }))).toEqual({ name: 'big', state: 'disabled', models: null, error: null });
      // Load alone changes nothing the tray shows.
      expect(trayBackend(view({ inFlight: 7 }))).toEqual(trayBackend(view({})));
    });
  });
});
