import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TrayAction, TrayState } from './menu.js';

const electron = vi.hoisted(() => {
  class FakeTray {
    static created: FakeTray[] = [];
    readonly image: unknown;
    readonly setImage = vi.fn();
    readonly setToolTip = vi.fn();
    readonly setContextMenu = vi.fn();
    readonly destroy = vi.fn();
    readonly listeners = new Map<string, () => void>();
    constructor(image: unknown) {
      this.image = image;
      FakeTray.created.push(this);
    }
    on(event: string, listener: () => void) {
      this.listeners.set(event, listener);
      return this;
    }
  }
  const createFromPath = vi.fn((path: string) => ({ path, isEmpty: () => path.includes('missing'), setTemplateImage: vi.fn() }));
  const buildFromTemplate = vi.fn((template: unknown[]) => ({ template }));
  return { Tray: FakeTray, Menu: { buildFromTemplate }, nativeImage: { createFromPath } };
});
vi.mock('electron', () => ({ default: electron, ...electron }));

const { TrayController } = await import('./controller.js');

const STATE: TrayState = {
  appVersion: '0.1.0',
  status: { state: 'listening', host: '0.0.0.0', port: 8000, urls: ['http://127.0.0.1:8000'], error: null, reason: null, tls: null },
  ollama: { reachable: true, version: '0.12.6', error: null, exposedOn: [] },
  keys: [{ id: 'k1', user: 'alice', name: null, enabled: true, expired: false }],
  backends: [],
  sharedOnLan: true,
  lanUrl: 'http://192.168.1.5:8000',
  launchAtLogin: false,
  launchAtLoginSupported: true,
  language: 'en',
};

type Template = Array<{ label?: string; click?: () => void }>;
const lastTemplate = (): Template => electron.Menu.buildFromTemplate.mock.lastCall![0] as Template;

describe('TrayController', () => {
  beforeEach(() => {
    electron.Tray.created.length = 0;
    vi.clearAllMocks();
  });

  it('creates the tray with the icon for the state, its tooltip and menu', () => {
    const controller = new TrayController({ iconDirectory: '/res/tray', platform: 'linux', onAction: () => {} });
    expect(controller.update(STATE)).toBe(true);
    const [tray] = electron.Tray.created;
    expect(tray!.image).toMatchObject({ path: join('/res/tray', 'tray-serving.png') });
    expect(tray!.setToolTip).toHaveBeenCalledWith('Ollama Gate 0.1.0\nServing on http://192.168.1.5:8000\nOllama 0.12.6');
    expect(tray!.setContextMenu).toHaveBeenCalledTimes(1);
    expect(lastTemplate().map((i) => i.label)).toContain('alice');
  });

  it('rebuilds only when what it shows changes', () => {
    const controller = new TrayController({ iconDirectory: '/res/tray', platform: 'linux', onAction: () => {} });
    controller.update(STATE);
    expect(controller.update({ ...STATE, keys: [...STATE.keys] })).toBe(false);
    expect(electron.Menu.buildFromTemplate).toHaveBeenCalledTimes(1);

    expect(controller.update({ ...STATE, keys: [{ ...STATE.keys[0]!, enabled: false }] })).toBe(true);
    expect(electron.Menu.buildFromTemplate).toHaveBeenCalledTimes(2);
    const tray = electron.Tray.created[0]!;
    expect(tray.setImage).not.toHaveBeenCalled(); // same icon

    controller.update({ ...STATE, status: { ...STATE.status, state: 'stopped', urls: [] } });
    expect(tray.setImage).toHaveBeenCalledWith(expect.objectContaining({ path: join('/res/tray', 'tray-stopped.png') }));
    controller.update({ ...STATE, ollama: { ...STATE.ollama!, reachable: false } });
    expect(tray.setImage).toHaveBeenLastCalledWith(expect.objectContaining({ path: join('/res/tray', 'tray-offline.png') }));
    expect(tray.setToolTip).toHaveBeenLastCalledWith('Ollama Gate 0.1.0\nServing on http://192.168.1.5:8000\nOllama is not reachable');
    controller.update({ ...STATE, ollama: { ...STATE.ollama!, exposedOn: ['192.168.1.5:11434'] } });
    expect(tray.setImage).toHaveBeenLastCalledWith(expect.objectContaining({ path: join('/res/tray', 'tray-exposed.png') }));
    controller.update({ ...STATE, status: { ...STATE.status, state: 'error', urls: [], error: 'port in use' } });
    expect(tray.setImage).toHaveBeenLastCalledWith(expect.objectContaining({ path: join('/res/tray', 'tray-error.png') }));
    expect(electron.Tray.created).toHaveLength(1);
  });

  it("turns a click into the item's action", () => {
    const actions: TrayAction[] = [];
    const controller = new TrayController({ iconDirectory: '/res/tray', platform: 'linux', onAction: (a) => actions.push(a) });
    controller.update(STATE);
    const template = lastTemplate();
    template.find((i) => i.label === 'alice')!.click!();
    template.find((i) => i.label === 'Stop proxy')!.click!();
    template.find((i) => i.label === 'Quit Ollama Gate')!.click!();
    expect(actions).toEqual([{ type: 'set-key-enabled', keyId: 'k1', enabled: false }, { type: 'stop' }, { type: 'quit' }]);
    expect(template.find((i) => i.label === 'Ollama 0.12.6')!.click).toBeUndefined();
  });

  it('uses template images on macOS', () => {
    const controller = new TrayController({ iconDirectory: '/res/tray', platform: 'darwin', onAction: () => {} });
    controller.update(STATE);
    const image = electron.Tray.created[0]!.image as { path: string; setTemplateImage: ReturnType<typeof vi.fn> };
    expect(image.path).toBe(join('/res/tray', 'tray-servingTemplate.png'));
    expect(image.setTemplateImage).toHaveBeenCalledWith(true);
  });

  it('opens the window on a left click on Windows', () => {
    const actions: TrayAction[] = [];
    new TrayController({ iconDirectory: '/res/tray', platform: 'win32', onAction: (a) => actions.push(a) }).update(STATE);
    electron.Tray.created[0]!.listeners.get('click')!();
    expect(actions).toEqual([{ type: 'open' }]);
  });

  it('reports a missing image, once per state', () => {
    const missing: string[] = [];
    const controller = new TrayController({ iconDirectory: '/missing', platform: 'linux', onAction: () => {}, onMissingImage: (p) => missing.push(p) });
    controller.update(STATE);
    controller.update({ ...STATE, keys: [] });
    expect(missing).toEqual([join('/missing', 'tray-serving.png')]);
  });
});
