/**
 * A stand-in for the `electron` module, installed as node_modules/electron beside an extracted
 * app.asar so the packaged main entry runs in plain Node (scripts/package-check/smoke.ts). It is
 * CommonJS with its exports listed literally, as Electron's own module is seen by ESM named
 * imports. It does what the main process needs from Electron and tells the check what happened,
 * over the IPC channel of the forked process:
 *   - a tray image is read from disk and must be a PNG (an empty image is reported, as Electron
 *     would silently show nothing);
 *   - loadURL on a window fetches the page and each file it references through the handler the
 *     app registered with protocol.handle, as Chromium would;
 *   - the check can call an IPC handler as the window's page (`invoke`) and ask the app to quit.
 * Settings come from the environment: ELECTRON_STUB_APP_PATH (the extracted asar),
 * ELECTRON_STUB_RESOURCES (process.resourcesPath), ELECTRON_STUB_USER_DATA, ELECTRON_STUB_VERSION.
 */
'use strict';
const { EventEmitter } = require('node:events');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const env = process.env;
const appPath = env.ELECTRON_STUB_APP_PATH || process.cwd();
const manifest = JSON.parse(readFileSync(join(appPath, 'package.json'), 'utf8'));
process.resourcesPath = env.ELECTRON_STUB_RESOURCES || join(appPath, '..');
process.versions.electron = env.ELECTRON_STUB_VERSION || '0.0.0-stub';
process.versions.chrome = '0.0.0-stub';
process.type = 'browser';

/** @param {Record<string, unknown>} message */
function report(message) {
  if (process.send) process.send(message);
}

/** @param {unknown} error */
function describe(error) {
  return error instanceof Error ? `${error.message}\n${error.stack}` : String(error);
}

// --- app -----------------------------------------------------------------------------------------

const paths = new Map();
paths.set('userData', env.ELECTRON_STUB_USER_DATA || join(appPath, '..', 'user-data'));

let ready = false;
let quitting = false;

class App extends EventEmitter {
  name = manifest.productName || manifest.name;
  isPackaged = true;
  dock = undefined;
  commandLine = { appendSwitch() {}, hasSwitch: () => false, getSwitchValue: () => '' };

  getName() {
    return this.name;
  }
  getVersion() {
    return manifest.version;
  }
  getAppPath() {
    return appPath;
  }
  /** @param {string} name */
  getPath(name) {
    if (name === 'logs' && !paths.has('logs')) return join(this.getPath('userData'), 'logs');
    if (name === 'exe') return process.execPath;
    const path = paths.get(name);
    if (!path) throw new Error(`electron stub: no path for ${name}`);
    return path;
  }
  /** @param {string} name @param {string} path */
  setPath(name, path) {
    paths.set(name, path);
  }
  setAppLogsPath(path) {
    paths.set('logs', path ?? join(this.getPath('userData'), 'logs'));
  }
  getLocale() {
    return 'en-US';
  }
  getPreferredSystemLanguages() {
    return ['en-US'];
  }
  requestSingleInstanceLock() {
    return true;
  }
  isReady() {
    return ready;
  }
  whenReady() {
    return ready ? Promise.resolve() : new Promise((resolve) => this.once('ready', () => resolve()));
  }
  getLoginItemSettings() {
    return { openAtLogin: false };
  }
  setLoginItemSettings() {}
  /** Electron's order: before-quit, then will-quit (which may be prevented), then quit and exit. */
  quit() {
    if (!quitting) {
      quitting = true;
      this.emit('before-quit', { preventDefault() {} });
    }
    let prevented = false;
    this.emit('will-quit', {
      preventDefault() {
        prevented = true;
      },
    });
    if (prevented) return;
    this.emit('quit', {}, 0);
    // What the process still holds once the app is done: a listening gate would show here.
    report({ event: 'quit', resources: process.getActiveResourcesInfo() });
    setImmediate(() => process.exit(0));
  }
  /** @param {number} [code] */
  exit(code = 0) {
    report({ event: 'exit', code });
    setImmediate(() => process.exit(code));
  }
}
const app = new App();

// --- IPC, protocols, sessions ------------------------------------------------------------------

const handlers = new Map();
class IpcMain extends EventEmitter {
  /** @param {string} channel @param {Function} handler */
  handle(channel, handler) {
    if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    handlers.set(channel, handler);
  }
  handleOnce(channel, handler) {
    this.handle(channel, handler);
  }
  /** @param {string} channel */
  removeHandler(channel) {
    handlers.delete(channel);
  }
}
const ipcMain = new IpcMain();

const schemes = new Map();
const protocol = {
  registered: [],
  registerSchemesAsPrivileged(list) {
    if (ready) throw new Error('registerSchemesAsPrivileged must be called before the app is ready');
    this.registered.push(...list);
  },
  /** @param {string} scheme @param {(request: { url: string, method: string, headers: Headers }) => Response | Promise<Response>} handler */
  handle(scheme, handler) {
    schemes.set(scheme, handler);
  },
  unhandle(scheme) {
    schemes.delete(scheme);
  },
  isProtocolHandled(scheme) {
    return schemes.has(scheme);
  },
};

/** Fetches a URL as the window would: custom schemes through the app's handler. */
async function fetchPage(url) {
  const scheme = new URL(url).protocol.slice(0, -1);
  const handler = schemes.get(scheme);
  if (!handler) throw new Error(`no handler for ${scheme}: (loading ${url})`);
  const response = await handler({ url, method: 'GET', headers: new Headers() });
  return { status: response.status, type: response.headers.get('content-type'), body: Buffer.from(await response.arrayBuffer()) };
}

/** The files a built page references: scripts, styles, icons (relative URLs only). */
function referencedUrls(html, base) {
  const urls = [];
  for (const match of html.matchAll(/\s(?:src|href)\s*=\s*["']([^"']+)["']/g)) {
    const target = match[1];
    if (/^(?:[a-z][a-z0-9+.-]*:|#|\/\/)/i.test(target)) continue;
    urls.push(new URL(target, base).href);
  }
  return urls;
}

class Session {
  preloads = [];
  webRequest = { onHeadersReceived() {}, onBeforeRequest() {}, onBeforeSendHeaders() {} };
  setPermissionRequestHandler() {}
  setPermissionCheckHandler() {}
  setDevicePermissionHandler() {}
  registerPreloadScript(script) {
    this.preloads.push(script.filePath);
  }
  setPreloads(list) {
    this.preloads = [...list];
  }
  getPreloads() {
    return this.preloads;
  }
}
const session = { defaultSession: new Session() };

// --- windows -----------------------------------------------------------------------------------

let nextId = 1;
const windows = new Set();

class WebContents extends EventEmitter {
  id = nextId++;
  url = '';
  destroyed = false;
  sent = [];
  windowOpenHandler = undefined;
  setWindowOpenHandler(handler) {
    this.windowOpenHandler = handler;
  }
  getURL() {
    return this.url;
  }
  isDestroyed() {
    return this.destroyed;
  }
  isCrashed() {
    return false;
  }
  isLoading() {
    return false;
  }
  send(channel) {
    this.sent.push(channel);
  }
  openDevTools() {}
}

class BrowserWindow extends EventEmitter {
  static getAllWindows() {
    return [...windows];
  }
  visible = false;
  destroyed = false;
  /** @param {import('electron').BrowserWindowConstructorOptions} options */
  constructor(options = {}) {
    super();
    this.options = options;
    this.webContents = new WebContents();
    windows.add(this);
    const preload = options.webPreferences?.preload;
    report({
      event: 'window',
      preload,
      preloadExists: Boolean(preload && existsSync(preload)),
      webPreferences: { ...options.webPreferences },
    });
  }
  /** @param {string} url */
  async loadURL(url) {
    this.webContents.url = url;
    const page = url.split('#')[0];
    const files = [];
    try {
      const index = await fetchPage(page);
      files.push({ url: page, status: index.status, type: index.type, bytes: index.body.length });
      for (const asset of referencedUrls(index.body.toString('utf8'), page)) {
        const file = await fetchPage(asset);
        files.push({ url: asset, status: file.status, type: file.type, bytes: file.body.length });
      }
      report({ event: 'loaded', url, files });
      this.webContents.emit('did-finish-load');
      this.emit('ready-to-show');
    } catch (error) {
      report({ event: 'load-failed', url, files, error: describe(error) });
      throw error;
    }
  }
  show() {
    this.visible = true;
    report({ event: 'window-shown' });
  }
  hide() {
    this.visible = false;
  }
  focus() {}
  restore() {}
  isMinimized() {
    return false;
  }
  isVisible() {
    return this.visible;
  }
  isDestroyed() {
    return this.destroyed;
  }
  close() {
    const event = {
      defaultPrevented: false,
      preventDefault() {
        this.defaultPrevented = true;
      },
    };
    this.emit('close', event);
    if (!event.defaultPrevented) this.destroy();
  }
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.webContents.destroyed = true;
    windows.delete(this);
    this.emit('closed');
  }
}

const webContents = { getAllWebContents: () => [...windows].map((window) => window.webContents) };

// --- tray, menus, images -----------------------------------------------------------------------

class NativeImage {
  /** @param {string} path @param {Buffer | null} png */
  constructor(path, png) {
    this.path = path;
    this.png = png;
    this.template = false;
  }
  isEmpty() {
    return !this.png;
  }
  getSize() {
    return this.png ? { width: this.png.readUInt32BE(16), height: this.png.readUInt32BE(20) } : { width: 0, height: 0 };
  }
  setTemplateImage(template) {
    this.template = template;
  }
  isTemplateImage() {
    return this.template;
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const nativeImage = {
  /** An image Electron could show: the file exists and is a PNG; anything else is empty. */
  createFromPath(path) {
    let png = null;
    try {
      const bytes = readFileSync(path);
      if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) png = bytes;
    } catch {
      // a missing file is an empty image, as in Electron
    }
    return new NativeImage(path, png);
  },
  createEmpty: () => new NativeImage('', null),
};

const menuLabels = (template) => template.map((item) => [item.label ?? item.type ?? '', ...(item.submenu ? menuLabels(item.submenu) : [])]).flat();
const Menu = {
  buildFromTemplate(template) {
    return { items: template, labels: menuLabels(template) };
  },
  setApplicationMenu() {},
};

class Tray extends EventEmitter {
  /** @param {NativeImage} image */
  constructor(image) {
    super();
    report({ event: 'tray', ...describeImage(image) });
  }
  setImage(image) {
    report({ event: 'tray-image', ...describeImage(image) });
  }
  setToolTip(text) {
    report({ event: 'tray-tooltip', text });
  }
  setContextMenu(menu) {
    report({ event: 'tray-menu', labels: menu.labels });
  }
  setTitle() {}
  destroy() {
    report({ event: 'tray-destroyed' });
  }
}

function describeImage(image) {
  return { path: image.path, empty: image.isEmpty(), size: image.getSize(), template: image.isTemplateImage() };
}

// --- the rest ----------------------------------------------------------------------------------

const clipboard = { writeText() {}, readText: () => '' };
const dialog = {
  /** A dialog is how the app reports that it could not start: the check fails on it. */
  showErrorBox(title, content) {
    report({ event: 'error-box', title, content });
  },
  showMessageBox: async () => ({ response: 0, checkboxChecked: false }),
};
const shell = { openPath: async () => '', openExternal: async () => {}, showItemInFolder() {} };
const screen = { getPrimaryDisplay: () => ({ workAreaSize: { width: 1920, height: 1080 }, scaleFactor: 1 }) };
const powerMonitor = new EventEmitter();
const nativeTheme = Object.assign(new EventEmitter(), { shouldUseDarkColors: false, themeSource: 'system' });

// The check drives the app from outside: call a handler as the window's page, or quit.
process.on('message', async (message) => {
  if (message?.type === 'quit') return app.quit();
  if (message?.type !== 'invoke') return;
  const handler = handlers.get(message.channel);
  const window = [...windows][0];
  try {
    if (!handler) throw new Error(`no IPC handler for ${message.channel}`);
    if (!window) throw new Error('no window to call from');
    const event = { sender: window.webContents, senderFrame: { url: window.webContents.getURL(), parent: null } };
    report({ event: 'invoked', id: message.id, result: await handler(event, ...(message.args ?? [])) });
  } catch (error) {
    report({ event: 'invoked', id: message.id, error: describe(error) });
  }
});

process.on('uncaughtException', (error) => report({ event: 'uncaught', error: describe(error) }));
process.on('unhandledRejection', (error) => report({ event: 'uncaught', error: describe(error) }));

// Electron is ready once the main module has run its first turn.
setTimeout(() => {
  ready = true;
  report({ event: 'ready' });
  app.emit('ready', {}, {});
}, 0);

module.exports = {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  nativeTheme,
  powerMonitor,
  protocol,
  screen,
  session,
  shell,
  Tray,
  webContents,
};
