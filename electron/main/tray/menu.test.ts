import { describe, expect, it } from 'vitest';
import type { ProxyStatus } from '../../shared/contract.js';
import { MAX_KEYS_IN_MENU, MAX_TOOLTIP_LENGTH, type TrayMenuItem, type TrayState, buildTrayMenu, trayIconState, trayTooltip } from './menu.js';

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
});
