/**
 * The desktop app's main process: wiring only. It opens the shared store, starts the gate and the
 * service that implements GateApi, and connects the tray, the window and IPC to that service.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, clipboard, dialog, ipcMain, protocol, session, shell } from 'electron';
import log from 'electron-log/main';
import { createGateHost } from '../core/gate-host.js';
import type { DesktopSettingsHost } from '../core/service.js';
import type { DesktopSettings } from '../shared/contract.js';
import { registerIpc } from './ipc.js';
import { createLoginItem } from './login-item.js';
import { APP_URL, contentSecurityPolicy, registerAppScheme, serveRenderer } from './renderer-protocol.js';
import { openAppStore } from './store.js';
import { connectTray } from './tray/connect.js';
import { TrayController } from './tray/controller.js';
import type { TrayAction } from './tray/menu.js';
import { MainWindow, hardenSession } from './window.js';

const here = dirname(fileURLToPath(import.meta.url));

// The CLI honours OLLAMA_GATE_DATA_DIR; so does the app, to keep sharing one store with it.
if (process.env.OLLAMA_GATE_DATA_DIR) app.setPath('userData', process.env.OLLAMA_GATE_DATA_DIR);
// Custom schemes must be declared before the app is ready.
registerAppScheme(protocol);

if (app.requestSingleInstanceLock()) {
  main().catch((error: unknown) => {
    log.error('Ollama Gate could not start:', error);
    dialog.showErrorBox('Ollama Gate cannot start', error instanceof Error ? error.message : String(error));
    app.exit(1);
  });
} else {
  // Another instance runs already; it shows its window (second-instance) and this one leaves.
  app.quit();
}

async function main(): Promise<void> {
  let quitting = false;
  // The app lives in the tray: closing the window must not end it.
  app.on('window-all-closed', () => {});
  app.on('before-quit', () => {
    quitting = true;
  });

  await app.whenReady();
  const userData = app.getPath('userData');
  // Logs beside the store on every platform, where `ollama-gate serve` writes them too
  // (Electron's default on macOS is ~/Library/Logs).
  app.setAppLogsPath(join(userData, 'logs'));
  const logsDir = app.getPath('logs');
  // An error nothing caught is logged, never shown as a dialog over the user's work.
  log.errorHandler.startCatching({ showDialog: false });
  const store = openAppStore(userData);
  store.gate.watch();

  const loginItem = createLoginItem({ app, platform: process.platform });
  const showInDock = (show: boolean) => {
    if (process.platform !== 'darwin') return;
    if (show) void app.dock?.show();
    else app.dock?.hide();
  };
  const desktop: DesktopSettingsHost = {
    get: (): DesktopSettings => ({ ...store.desktop.get(), launchAtLogin: loginItem.supported && loginItem.get() }),
    update(patch) {
      if (patch.launchAtLogin !== undefined && loginItem.supported) loginItem.set(patch.launchAtLogin);
      const next = store.desktop.update(patch);
      if (patch.showInDock !== undefined) showInDock(next.showInDock);
      return desktop.get();
    },
  };
  showInDock(store.desktop.get().showInDock);

  const host = createGateHost({
    store: store.gate,
    dataDir: userData,
    logsDir,
    logger: log,
    app: {
      name: app.getName(),
      version: app.getVersion(),
      host: 'desktop',
      platform: process.platform,
      versions: { node: process.versions.node, electron: process.versions.electron, chrome: process.versions.chrome },
    },
    historyFile: 'request-history.jsonl',
    desktop,
  });
  const { gateway, service } = host;
  log.info(`Ollama Gate ${app.getVersion()}: store ${store.path}`);

  // The renderer: Vite's dev server while developing, else the built files on app://gate/.
  const devServer = app.isPackaged ? undefined : process.env.VITE_DEV_SERVER_URL;
  const appUrl = devServer ?? APP_URL;
  serveRenderer(protocol, join(here, '..', 'renderer'));
  hardenSession(session.defaultSession, appUrl, contentSecurityPolicy(devServer && process.env.OLLAMA_GATE_DEV_CSP_NONCE));
  const window = new MainWindow({
    preload: join(here, '..', 'preload', 'index.cjs'),
    devTools: !app.isPackaged,
    appUrl,
    isQuitting: () => quitting,
    navigate: (to) => service.navigate(to),
  });
  const disposeIpc = registerIpc({ ipcMain, service, window: () => window.contents(), appUrl });

  // The controller needs its click handler before the connection that runs the actions exists.
  let runTrayAction: (action: TrayAction) => void = () => {};
  const tray = new TrayController({
    iconDirectory: app.isPackaged ? join(process.resourcesPath, 'tray') : join(app.getAppPath(), 'build', 'tray'),
    platform: process.platform,
    onAction: (action) => runTrayAction(action),
    onMissingImage: (path) => log.error(`tray image missing: ${path}`),
  });
  const trayConnection = await connectTray(service, {
    appVersion: app.getVersion(),
    launchAtLoginSupported: loginItem.supported,
    systemLanguages: () => app.getPreferredSystemLanguages(),
    render: (state) => tray.update(state),
    copy: (text) => clipboard.writeText(text),
    showWindow: (to) => window.show(to),
    openLogs: () => void shell.openPath(logsDir),
    quit: () => app.quit(),
    report: (message) => log.warn(message),
  });
  runTrayAction = (action) => void trayConnection.run(action);

  app.on('second-instance', () => window.show());
  app.on('activate', () => window.show());

  let closed = false;
  app.on('will-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    trayConnection.dispose();
    disposeIpc();
    tray.destroy();
    void host.close().finally(() => {
      closed = true;
      app.quit();
    });
  });

  service.start();
  if (store.desktop.get().startOnLaunch) {
    const started = await service.call('proxy.start');
    if (!started.ok) log.error(`the proxy did not start: ${started.error.message}`);
  }
  // First run: nothing works without a key, so open the window at the new-key form.
  if (gateway.keys.list().length === 0) window.show({ page: 'keys', action: 'create-key' });
}
