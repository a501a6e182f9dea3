import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Session, WebContents } from 'electron';

const electron = await vi.hoisted(async () => {
  // Imports are not there yet when vi.hoisted runs.
  const { EventEmitter } = await import('node:events');
  /** Just enough of a WebContents to record what the window factory wires up. */
  class FakeContents extends EventEmitter {
    windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined;
    setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
      this.windowOpenHandler = handler;
    }
  }
  class FakeWindow extends EventEmitter {
    static created: FakeWindow[] = [];
    readonly webContents = new FakeContents();
    readonly loadURL = vi.fn(async () => {});
    readonly show = vi.fn();
    readonly hide = vi.fn();
    readonly focus = vi.fn();
    readonly restore = vi.fn();
    readonly destroy = vi.fn(() => (this.destroyed = true));
    readonly isMinimized = vi.fn(() => false);
    destroyed = false;
    constructor(readonly options: unknown) {
      super();
      FakeWindow.created.push(this);
    }
    isDestroyed() {
      return this.destroyed;
    }
  }
  return { BrowserWindow: FakeWindow, shell: { openExternal: vi.fn(async () => {}) }, FakeContents };
});
vi.mock('electron', () => ({ default: electron, ...electron }));

const { MainWindow, hardenContents, hardenSession, isExternalWebUrl, pageUrl, windowOptions } = await import('./window.js');
const { APP_URL, CONTENT_SECURITY_POLICY, contentSecurityPolicy } = await import('./renderer-protocol.js');

/** The app's own origin, as a permission check names it (Node's URL gives a custom scheme none). */
const APP_ORIGIN = `${new URL(APP_URL).protocol}//${new URL(APP_URL).host}`;

describe('windowOptions', () => {
  it.each([false, true])('follows the security checklist with devTools %s, loading the preload it is given', (devTools) => {
    const options = windowOptions({ preload: '/app/dist/preload/index.cjs', devTools });
    // Electron's security checklist: whatever else changes, these may not.
    expect(options.webPreferences).toMatchObject({
      preload: '/app/dist/preload/index.cjs',
      devTools,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
    });
  });

  it('opens no smaller than the smallest size it allows', () => {
    const { width, height, minWidth, minHeight } = windowOptions({ preload: '/p.cjs', devTools: false });
    expect(width).toBeGreaterThanOrEqual(minWidth!);
    expect(height).toBeGreaterThanOrEqual(minHeight!);
  });
});

describe('hardenContents', () => {
  let contents: InstanceType<typeof electron.FakeContents>;
  beforeEach(() => {
    contents = new electron.FakeContents();
    electron.shell.openExternal.mockClear();
    hardenContents(contents as unknown as WebContents, APP_URL);
  });

  const navigate = (url: string) => {
    const event = { url, preventDefault: vi.fn() };
    contents.emit('will-navigate', event);
    return event.preventDefault;
  };

  it('denies every navigation; a web link goes to the system browser instead', () => {
    expect(navigate('https://ollama.com/library')).toHaveBeenCalled();
    expect(electron.shell.openExternal).toHaveBeenCalledWith('https://ollama.com/library');
    electron.shell.openExternal.mockClear();
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', new URL('other.html', APP_URL).href, 'smb://server/share', 'not a url']) {
      expect(navigate(url)).toHaveBeenCalled();
    }
    expect(electron.shell.openExternal).not.toHaveBeenCalled();
  });

  it('denies every new window; http(s) links open in the system browser', () => {
    expect(contents.windowOpenHandler!({ url: 'http://192.168.1.5:8000/' })).toEqual({ action: 'deny' });
    expect(electron.shell.openExternal).toHaveBeenCalledWith('http://192.168.1.5:8000/');
    for (const url of ['file:///C:/Windows/system32/calc.exe', 'ms-settings:', APP_URL]) {
      expect(contents.windowOpenHandler!({ url })).toEqual({ action: 'deny' });
    }
    expect(electron.shell.openExternal).toHaveBeenCalledTimes(1);
  });

  it('refuses to attach webviews', () => {
    const event = { preventDefault: vi.fn() };
    contents.emit('will-attach-webview', event, {}, {});
    expect(event.preventDefault).toHaveBeenCalled();
  });

  it('tells external web links from everything else', () => {
    expect(isExternalWebUrl('https://github.com/', APP_URL)).toBe(true);
    expect(isExternalWebUrl('http://localhost:5173/', 'http://localhost:5173/index.html')).toBe(false);
    expect(isExternalWebUrl('data:text/html,hi', APP_URL)).toBe(false);
  });
});

describe('hardenSession', () => {
  const session = {
    setPermissionRequestHandler: vi.fn(),
    setPermissionCheckHandler: vi.fn(),
    setDevicePermissionHandler: vi.fn(),
    webRequest: { onHeadersReceived: vi.fn() },
  };
  hardenSession(session as unknown as Session, APP_URL);

  it('denies permission requests, except clipboard writes from the app page', () => {
    const [request] = session.setPermissionRequestHandler.mock.calls[0]!;
    const ask = (permission: string, requestingUrl: string) => {
      const callback = vi.fn();
      request({}, permission, callback, { requestingUrl });
      return callback.mock.calls[0]![0] as boolean;
    };
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'fullscreen', 'clipboard-read', 'display-capture']) {
      expect(ask(permission, APP_URL)).toBe(false);
    }
    expect(ask('clipboard-sanitized-write', APP_URL)).toBe(true);
    expect(ask('clipboard-sanitized-write', 'https://evil.example/')).toBe(false);

    const [check] = session.setPermissionCheckHandler.mock.calls[0]!;
    expect(check(null, 'media', APP_ORIGIN, {})).toBe(false);
    expect(check(null, 'clipboard-sanitized-write', APP_ORIGIN, {})).toBe(true);
    expect(check(null, 'clipboard-sanitized-write', 'https://evil.example', {})).toBe(false);
    const [device] = session.setDevicePermissionHandler.mock.calls[0]!;
    expect(device({})).toBe(false);
  });

  it('adds the CSP header, without unsafe-inline, to pages served over http (the dev server)', () => {
    const [filter, listener] = session.webRequest.onHeadersReceived.mock.calls[0]!;
    expect(filter).toEqual({ urls: ['http://*/*', 'https://*/*'] });
    const callback = vi.fn();
    listener({ responseHeaders: { 'content-type': ['text/html'] } }, callback);
    expect(callback).toHaveBeenCalledWith({ responseHeaders: { 'content-type': ['text/html'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self';");
  });

  it("lets only the dev session's nonce through when developing", () => {
    const dev = { ...session, webRequest: { onHeadersReceived: vi.fn() } };
    hardenSession(dev as unknown as Session, 'http://127.0.0.1:5173/', contentSecurityPolicy('abc'));
    const callback = vi.fn();
    dev.webRequest.onHeadersReceived.mock.calls[0]![1]({ responseHeaders: {} }, callback);
    const [policy] = callback.mock.calls[0]![0].responseHeaders['Content-Security-Policy'] as string[];
    expect(policy).toContain("script-src 'self' 'nonce-abc';");
    expect(policy).toContain("style-src 'self' 'nonce-abc';");
    expect(policy).not.toContain('unsafe-inline');
  });
});

describe('MainWindow', () => {
  let quitting = false;
  const navigate = vi.fn();
  const create = () => new MainWindow({ preload: '/p.cjs', devTools: false, appUrl: APP_URL, isQuitting: () => quitting, navigate });
  beforeEach(() => {
    electron.BrowserWindow.created.length = 0;
    navigate.mockClear();
    quitting = false;
  });

  it('creates one window with the hardened options, shows it when ready, and loads the page asked for', () => {
    const main = create();
    main.show({ page: 'keys', action: 'create-key' });
    const [window] = electron.BrowserWindow.created;
    expect(window!.options).toEqual(windowOptions({ preload: '/p.cjs', devTools: false }));
    expect(window!.loadURL).toHaveBeenCalledWith(`${APP_URL}#/keys?action=create-key`);
    expect(window!.show).not.toHaveBeenCalled();
    window!.emit('ready-to-show');
    expect(window!.show).toHaveBeenCalled();
    expect(main.contents()).toBe(window!.webContents);
  });

  it('refuses, in the window it builds, navigation away from the app, new windows and webviews', () => {
    electron.shell.openExternal.mockClear();
    create().show();
    const { webContents } = electron.BrowserWindow.created[0]!;
    for (const url of [new URL('#/logs', APP_URL).href, 'file:///etc/passwd', 'https://ollama.com/library']) {
      const event = { url, preventDefault: vi.fn() };
      webContents.emit('will-navigate', event);
      expect(event.preventDefault, url).toHaveBeenCalled();
    }
    expect(webContents.windowOpenHandler!({ url: 'https://ollama.com/' })).toEqual({ action: 'deny' });
    // Only the web links went to the system browser.
    expect(electron.shell.openExternal.mock.calls).toEqual([['https://ollama.com/library'], ['https://ollama.com/']]);
    const attach = { preventDefault: vi.fn() };
    webContents.emit('will-attach-webview', attach, {}, {});
    expect(attach.preventDefault).toHaveBeenCalled();
  });

  it('hides instead of closing, unless the app is quitting', () => {
    const main = create();
    main.show();
    const [window] = electron.BrowserWindow.created;
    const close = { preventDefault: vi.fn() };
    window!.emit('close', close);
    expect(close.preventDefault).toHaveBeenCalled();
    expect(window!.hide).toHaveBeenCalled();
    quitting = true;
    const quit = { preventDefault: vi.fn() };
    window!.emit('close', quit);
    expect(quit.preventDefault).not.toHaveBeenCalled();
  });

  it('shows the existing window again and tells it where to go, instead of opening a second one', () => {
    const main = create();
    main.show();
    main.show({ page: 'keys', action: 'create-key' });
    expect(electron.BrowserWindow.created).toHaveLength(1);
    expect(navigate).toHaveBeenCalledWith({ page: 'keys', action: 'create-key' });
    expect(electron.BrowserWindow.created[0]!.focus).toHaveBeenCalled();
  });

  it('restores a minimized window before showing it', () => {
    const main = create();
    main.show();
    const [window] = electron.BrowserWindow.created;
    window!.isMinimized.mockReturnValue(true);
    main.show();
    expect(window!.restore).toHaveBeenCalled();
    expect(window!.show).toHaveBeenCalled();
  });

  it('opens a new window after the old one was destroyed', () => {
    const main = create();
    main.show();
    const [first] = electron.BrowserWindow.created;
    first!.destroyed = true;
    first!.emit('closed');
    expect(main.contents()).toBeUndefined();
    main.show();
    expect(electron.BrowserWindow.created).toHaveLength(2);
  });

  it('destroy() ends the window, and the next show() opens a new one', () => {
    const main = create();
    main.show();
    main.destroy();
    expect(electron.BrowserWindow.created[0]!.destroy).toHaveBeenCalled();
    expect(main.contents()).toBeUndefined();
    main.show();
    expect(electron.BrowserWindow.created).toHaveLength(2);
  });

  it('builds page URLs', () => {
    expect(pageUrl(APP_URL)).toBe(APP_URL);
    expect(pageUrl(APP_URL, { page: 'logs' })).toBe(`${APP_URL}#/logs`);
    expect(pageUrl(`${APP_URL}#/keys`, { page: 'usage' })).toBe(`${APP_URL}#/usage`);
    expect(pageUrl('http://localhost:5173/#/x', { page: 'settings' })).toBe('http://localhost:5173/#/settings');
  });
});
