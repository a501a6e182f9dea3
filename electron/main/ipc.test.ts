import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IpcMainInvokeEvent, WebContents } from 'electron';
import { MemoryDocument } from '../../test/support/memory-document.js';
import { GateStore } from '../core/gate-store.js';
import { createGateway } from '../core/gateway.js';
import { type GateService, createGateService } from '../core/service.js';
import { GATE_METHODS, type GateResult, type MethodName } from '../shared/contract.js';

vi.mock('electron', () => {
  const electron = { shell: { openExternal: vi.fn() }, BrowserWindow: vi.fn() };
  return { default: electron, ...electron };
});

const { registerIpc, isTrustedSender } = await import('./ipc.js');

const APP_URL = 'app://gate/index.html';

type Handler = (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<GateResult<unknown>>;

function fakeContents(id: number) {
  return { id, isDestroyed: vi.fn(() => false), send: vi.fn() };
}

function event(sender: { id: number }, frame: { url: string; parent: unknown } | null = { url: `${APP_URL}#/keys`, parent: null }) {
  return { sender, senderFrame: frame } as unknown as IpcMainInvokeEvent;
}

/** For every method, an input its schema must refuse; the mapped type makes a missing method a compile error. */
const BAD_INPUT: { [M in MethodName]: unknown } = {
  'keys.list': { all: true },
  'keys.create': { name: 'no user' },
  'keys.update': { user: 'no id' },
  'keys.setEnabled': { id: 'k', enabled: 'yes' },
  'keys.rotate': {},
  'keys.remove': { id: 42 },
  'sessions.list': 'everything',
  'sessions.revoke': { ip: '' },
  'lockouts.list': [1],
  'lockouts.unlock': { ip: 'not an address' },
  'usage.query': { since: 'yesterday' },
  'backends.list': { name: 'default' },
  'logs.recent': { limit: -1 },
  'health.get': [1],
  'health.check': 1,
  'proxy.status': { verbose: true },
  'proxy.start': { port: 1 },
  'proxy.stop': { force: true },
  'proxy.test': { key: '' },
  'settings.get': { section: 'proxy' },
  'settings.update': { proxy: { port: 'eighty' } },
  'network.addresses': { family: 'IPv6' },
  'app.info': { detail: true },
};

describe('IPC handlers', () => {
  const handlers = new Map<string, Handler>();
  const ipcMain = {
    handle: vi.fn((channel: string, handler: Handler) => void handlers.set(channel, handler)),
    removeHandler: vi.fn((channel: string) => void handlers.delete(channel)),
  };
  const own = fakeContents(1);
  let window: ReturnType<typeof fakeContents> | undefined = own;
  let service: GateService;
  let call: ReturnType<typeof vi.spyOn>;
  let dispose: () => void;

  beforeAll(() => {
    const store = new GateStore(new MemoryDocument(), { host: '127.0.0.1', port: 0 });
    const gateway = createGateway({
      keys: store,
      settings: store,
      exposureAddresses: () => [],
      health: { probe: async () => ({ reachable: false, version: null, latencyMs: null, error: 'down', reason: null, models: [], loaded: [] }) },
    });
    service = createGateService({
      gateway,
      store,
      app: { name: 'Ollama Gate', version: '0.1.0', host: 'desktop', platform: 'linux', versions: {}, dataDir: '/d', logsDir: '/l' },
    });
    call = vi.spyOn(service, 'call');
    dispose = registerIpc({ ipcMain, service, window: () => window as unknown as WebContents | undefined, appUrl: APP_URL });
  });

  afterAll(async () => {
    dispose();
    await service.close();
  });

  const invoke = (method: MethodName, e: IpcMainInvokeEvent, ...args: unknown[]) => handlers.get(`gate:${method}`)!(e, ...args);

  it('registers one handler per contract method, on its own channel', () => {
    expect([...handlers.keys()].sort()).toEqual(GATE_METHODS.map((m) => `gate:${m}`).sort());
  });

  it.each(GATE_METHODS)('%s rejects a foreign sender, an iframe and a page that is not the app, without running', async (method) => {
    call.mockClear();
    const input = BAD_INPUT[method];
    for (const e of [
      event(fakeContents(2)),
      event(own, { url: APP_URL, parent: { url: APP_URL } }),
      event(own, { url: 'https://evil.example/', parent: null }),
      event(own, { url: 'file:///etc/passwd', parent: null }),
      event(own, null),
    ]) {
      expect(await invoke(method, e, input)).toEqual({ ok: false, error: { code: 'forbidden', message: 'only the Ollama Gate window may call the gate' } });
    }
    expect(call).not.toHaveBeenCalled();
  });

  it.each(GATE_METHODS)('%s validates its input', async (method) => {
    const result = await invoke(method, event(own), BAD_INPUT[method]);
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(!result.ok && result.error.message.length).toBeGreaterThan(0);
    expect(await invoke(method, event(own), undefined, 'extra')).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', message: `${method} takes one argument` },
    });
  });

  it('answers the own window with the service result, and typed errors for failures', async () => {
    const created = await invoke('keys.create', event(own), { user: 'alice' });
    expect(created).toMatchObject({ ok: true, value: { key: { user: 'alice', enabled: true }, secret: expect.stringMatching(/^og_/) } });
    expect(await invoke('keys.list', event(own))).toMatchObject({ ok: true, value: [{ user: 'alice' }] });
    expect(await invoke('keys.remove', event(own), { id: 'missing' })).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'no key with id "missing"' },
    });
    expect(await invoke('settings.update', event(own), { desktop: { language: 'en' } })).toMatchObject({ ok: false, error: { code: 'unsupported' } });
  });

  it('trusts nobody when the window is gone', async () => {
    window = undefined;
    expect(await invoke('keys.list', event(own))).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    window = own;
  });

  it("forwards the service's events to the window", async () => {
    own.send.mockClear();
    await invoke('keys.create', event(own), { user: 'bob' });
    await vi.waitFor(() => expect(own.send).toHaveBeenCalledWith('gate:event:keys', expect.arrayContaining([expect.objectContaining({ user: 'bob' })])));
    own.isDestroyed.mockReturnValueOnce(true);
    own.send.mockClear();
    service.navigate({ page: 'keys' });
    expect(own.send).not.toHaveBeenCalled();
    service.navigate({ page: 'keys', action: 'create-key' });
    expect(own.send).toHaveBeenCalledWith('gate:event:navigate', { page: 'keys', action: 'create-key' });
  });

  it('removes every handler and stops forwarding when disposed', async () => {
    const extra = new Map<string, Handler>();
    const local = { handle: (c: string, h: Handler) => void extra.set(c, h), removeHandler: (c: string) => void extra.delete(c) };
    const contents = fakeContents(5);
    const stop = registerIpc({ ipcMain: local, service, window: () => contents as unknown as WebContents, appUrl: APP_URL });
    expect(extra.size).toBe(GATE_METHODS.length);
    stop();
    expect(extra.size).toBe(0);
    service.navigate({ page: 'logs' });
    expect(contents.send).not.toHaveBeenCalled();
  });
});

describe('isTrustedSender', () => {
  const own = fakeContents(1) as unknown as WebContents;
  it('accepts the main frame of the own window on the app page, also from the dev server', () => {
    expect(isTrustedSender(event(own), own, APP_URL)).toBe(true);
    const dev = 'http://localhost:5173/';
    expect(isTrustedSender(event(own, { url: 'http://localhost:5173/#/logs', parent: null }), own, dev)).toBe(true);
    expect(isTrustedSender(event(own, { url: 'http://localhost:5174/', parent: null }), own, dev)).toBe(false);
  });
});
