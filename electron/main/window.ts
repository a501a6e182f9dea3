import { BrowserWindow, type BrowserWindowConstructorOptions, type Session, type WebContents, shell } from 'electron';
import type { Navigation } from '../shared/contract.js';
import { CONTENT_SECURITY_POLICY } from './renderer-protocol.js';

/**
 * The one window, hardened after Electron's security checklist: an isolated, sandboxed renderer
 * without Node, that can neither navigate away, open windows, embed webviews nor get permissions,
 * and whose only way out is the preload's `window.gate`. Each rule is a small function, tested.
 */

export interface WindowSettings {
  /** the preload bundle (CommonJS, as a sandboxed preload must be) */
  preload: string;
  /** developer tools: on while developing, off in a packaged app */
  devTools: boolean;
}

export function windowOptions({ preload, devTools }: WindowSettings): BrowserWindowConstructorOptions {
  return {
    width: 1120,
    height: 760,
    minWidth: 720,
    minHeight: 480,
    title: 'Ollama Gate',
    show: false,
    autoHideMenuBar: true,
    webPreferences: {
      preload,
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
      safeDialogs: true,
      spellcheck: false,
      devTools,
    },
  };
}

/** Whether a URL belongs to the app's own page (same scheme and host as the page it loads). */
export function isAppUrl(url: string, appUrl: string): boolean {
  try {
    const candidate = new URL(url);
    const app = new URL(appUrl);
    return candidate.protocol === app.protocol && candidate.host === app.host;
  } catch {
    return false;
  }
}

/** Only web pages go to the system browser: never file:, javascript:, custom schemes or the app itself. */
export function isExternalWebUrl(url: string, appUrl: string): boolean {
  try {
    const { protocol } = new URL(url);
    return (protocol === 'https:' || protocol === 'http:') && !isAppUrl(url, appUrl);
  } catch {
    return false;
  }
}

/** No navigation, no new windows, no webviews: external web links open in the system browser instead. */
export function hardenContents(contents: WebContents, appUrl: string): void {
  contents.on('will-navigate', (event) => {
    event.preventDefault();
    if (isExternalWebUrl(event.url, appUrl)) void shell.openExternal(event.url);
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalWebUrl(url, appUrl)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/**
 * Permissions are refused, except writing text to the clipboard from the app's own page (the copy
 * buttons next to a new key); the CSP header also covers pages served over http (Vite's dev server).
 */
export function hardenSession(session: Session, appUrl: string, policy = CONTENT_SECURITY_POLICY): void {
  const allowed = (permission: string, url: string) => permission === 'clipboard-sanitized-write' && isAppUrl(url, appUrl);
  session.setPermissionRequestHandler((_contents, permission, callback, details) => callback(allowed(permission, details.requestingUrl)));
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) => allowed(permission, requestingOrigin));
  session.setDevicePermissionHandler(() => false);
  session.webRequest.onHeadersReceived({ urls: ['http://*/*', 'https://*/*'] }, (details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [policy] } });
  });
}

/** Where a window opened for a navigation starts: `#/keys?action=create-key`. */
export function pageUrl(appUrl: string, to?: Navigation): string {
  if (!to) return appUrl;
  return `${appUrl.split('#')[0]}#/${to.page}${to.action ? `?action=${to.action}` : ''}`;
}

export interface MainWindowOptions extends WindowSettings {
  /** the renderer's page: app://gate/index.html, or the dev server */
  appUrl: string;
  /** closing hides the window unless the app is quitting */
  isQuitting: () => boolean;
  /** tells an open window to show a page (the service's `navigate` event) */
  navigate: (to: Navigation) => void;
}

/**
 * The app's single window, created on first use. Closing it hides it: the app lives in the tray,
 * and a window shown again keeps its state.
 */
export class MainWindow {
  private window: BrowserWindow | undefined;

  constructor(private readonly options: MainWindowOptions) {}

  show(to?: Navigation): void {
    const existing = this.window;
    if (existing && !existing.isDestroyed()) {
      if (to) this.options.navigate(to);
      if (existing.isMinimized()) existing.restore();
      existing.show();
      existing.focus();
      return;
    }
    const window = new BrowserWindow(windowOptions(this.options));
    this.window = window;
    hardenContents(window.webContents, this.options.appUrl);
    window.on('close', (event) => {
      if (this.options.isQuitting()) return;
      event.preventDefault();
      window.hide();
    });
    window.on('closed', () => {
      if (this.window === window) this.window = undefined;
    });
    window.once('ready-to-show', () => window.show());
    void window.loadURL(pageUrl(this.options.appUrl, to));
  }

  /** The live window's page, for sending events and checking senders. */
  contents(): WebContents | undefined {
    const window = this.window;
    return window && !window.isDestroyed() ? window.webContents : undefined;
  }

  destroy(): void {
    this.window?.destroy();
    this.window = undefined;
  }
}
