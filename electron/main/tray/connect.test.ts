import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryDocument } from '../../../test/support/memory-document.js';
import { GateStore } from '../../core/gate-store.js';
import { createGateway } from '../../core/gateway.js';
import { type GateService, createGateService } from '../../core/service.js';
import type { DesktopSettings } from '../../shared/contract.js';
import { type TrayConnection, type TrayHost, connectTray, trayLanguage } from './connect.js';
import type { TrayState } from './menu.js';

describe('the tray connected to the real service', () => {
  let service: GateService;
  let connection: TrayConnection;
  const rendered: TrayState[] = [];
  const host = {
    appVersion: '0.1.0',
    launchAtLoginSupported: true,
    systemLanguages: () => ['en-GB'],
    render: (state: TrayState) => void rendered.push(state),
    copy: vi.fn(),
    showWindow: vi.fn(),
    openLogs: vi.fn(),
    quit: vi.fn(),
    report: vi.fn(),
  } satisfies TrayHost;
  const last = () => rendered.at(-1)!;
  let desktop: DesktopSettings = { startOnLaunch: true, launchAtLogin: false, showInDock: false, language: 'system' };

  beforeAll(async () => {
    const store = new GateStore(new MemoryDocument());
    store.updateSettings({ host: '127.0.0.1', port: 0 });
    const gateway = createGateway({
      keys: store,
      settings: store,
      exposureAddresses: () => [],
      health: { probe: async () => ({ reachable: true, version: '0.12.6', latencyMs: 1, error: null, reason: null, models: [], loaded: [] }) },
    });
    service = createGateService({
      gateway,
      store,
      app: { name: 'Ollama Gate', version: '0.1.0', host: 'desktop', platform: 'linux', versions: {}, dataDir: '/d', logsDir: '/l' },
      desktop: { get: () => desktop, update: (patch) => (desktop = { ...desktop, ...patch }) },
    });
    await service.call('keys.create', { user: 'alice' });
    connection = await connectTray(service, host);
  });

  afterAll(async () => {
    connection.dispose();
    await service.close();
  });

  it('renders the state at once: stopped, keys, Ollama once checked', async () => {
    expect(rendered.length).toBeGreaterThan(0);
    expect(rendered[0]).toMatchObject({
      appVersion: '0.1.0',
      status: { state: 'stopped' },
      keys: [{ user: 'alice', enabled: true }],
      sharedOnLan: false,
      lanUrl: null,
      language: 'en',
    });
    await vi.waitFor(() => expect(last().ollama).toEqual({ reachable: true, version: '0.12.6', error: null, exposedOn: [] }));
  });

  it('follows the proxy starting and stopping from the menu', async () => {
    await connection.run({ type: 'start' });
    await vi.waitFor(() => expect(last().status.state).toBe('listening'));
    await connection.run({ type: 'stop' });
    await vi.waitFor(() => expect(last().status.state).toBe('stopped'));
  });

  it('toggles a key from its checkbox', async () => {
    const id = last().keys[0]!.id;
    await connection.run({ type: 'set-key-enabled', keyId: id, enabled: false });
    await vi.waitFor(() => expect(last().keys[0]!.enabled).toBe(false));
    expect(await service.call('keys.list')).toMatchObject({ ok: true, value: [{ id, enabled: false }] });
  });

  it('shares on the LAN and back', async () => {
    await connection.run({ type: 'toggle-lan', share: true });
    await vi.waitFor(() => expect(last().sharedOnLan).toBe(true));
    const network = await service.call('network.addresses');
    expect(last().lanUrl).toBe(network.ok ? (network.value.lanUrls[0] ?? null) : 'unreachable');
    await connection.run({ type: 'toggle-lan', share: false });
    await vi.waitFor(() => expect(last()).toMatchObject({ sharedOnLan: false, lanUrl: null }));
  });

  it('switches launch at login and follows the language setting', async () => {
    await connection.run({ type: 'set-launch-at-login', enabled: true });
    await vi.waitFor(() => expect(last().launchAtLogin).toBe(true));
    await service.call('settings.update', { desktop: { language: 'zh-CN' } });
    await vi.waitFor(() => expect(last().language).toBe('zh-CN'));
  });

  it('lists the backends once there is more than the default, and drops the list with them', async () => {
    await vi.waitFor(() => expect(last().backends).toEqual([{ name: 'default', state: 'up', models: 0, error: null }]));
    await service.call('settings.update', { proxy: { backends: [{ name: 'big', url: 'http://127.0.0.1:9', enabled: false, weight: 2 }] } });
    await vi.waitFor(() =>
      expect(last().backends).toEqual([
        { name: 'default', state: 'up', models: 0, error: null },
        { name: 'big', state: 'disabled', models: null, error: null },
      ]),
    );
    await service.call('settings.update', { proxy: { backends: [] } });
    await vi.waitFor(() => expect(last().backends).toHaveLength(1));
  });

  it('opens the window, the new-key form, the logs, copies and quits through the host', async () => {
    await connection.run({ type: 'new-key' });
    expect(host.showWindow).toHaveBeenLastCalledWith({ page: 'keys', action: 'create-key' });
    await connection.run({ type: 'open' });
    expect(host.showWindow).toHaveBeenLastCalledWith(undefined);
    await connection.run({ type: 'open', page: 'keys' });
    expect(host.showWindow).toHaveBeenLastCalledWith({ page: 'keys' });
    await connection.run({ type: 'copy-lan-url', url: 'http://192.168.1.5:8000' });
    expect(host.copy).toHaveBeenCalledWith('http://192.168.1.5:8000');
    await connection.run({ type: 'open-logs' });
    expect(host.openLogs).toHaveBeenCalled();
    await connection.run({ type: 'quit' });
    expect(host.quit).toHaveBeenCalled();
  });

  it('reports an action that failed, and the tray shows the error', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      await service.call('settings.update', { proxy: { port } });
      await connection.run({ type: 'start' });
      expect(host.report).toHaveBeenCalledWith(expect.stringContaining(`Start proxy: port ${port} is already in use`));
      await vi.waitFor(() => expect(last().status).toMatchObject({ state: 'error', error: expect.stringContaining('already in use') }));
    } finally {
      taken.close();
    }
  });
});

describe('trayLanguage', () => {
  it('uses the setting, or Chinese when the system prefers it', () => {
    expect(trayLanguage('en', ['zh-CN'])).toBe('en');
    expect(trayLanguage('zh-CN', ['en-US'])).toBe('zh-CN');
    expect(trayLanguage('system', ['zh-Hans-CN', 'en-US'])).toBe('zh-CN');
    expect(trayLanguage('system', ['en-US', 'zh-CN'])).toBe('en');
    expect(trayLanguage('system', [])).toBe('en');
  });
});
