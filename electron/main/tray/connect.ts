import type { GateService } from '../../core/service.js';
import type { BackendView, GateResult, HealthView, KeyView, Language, Navigation, NetworkAddresses, ProxyStatus, SettingsView } from '../../shared/contract.js';
import { type TrayAction, type TrayLanguage, type TrayState, trayBackend } from './menu.js';

/** What the tray needs from the app around it. */
export interface TrayHost {
  appVersion: string;
  launchAtLoginSupported: boolean;
  /** the system's preferred languages, most preferred first */
  systemLanguages: () => string[];
  render: (state: TrayState) => void;
  copy: (text: string) => void;
  showWindow: (to?: Navigation) => void;
  openLogs: () => void;
  quit: () => void;
  /** an action that failed, in words, for the log */
  report: (message: string) => void;
}

export interface TrayConnection {
  run(action: TrayAction): Promise<void>;
  dispose(): void;
}

/**
 * Keeps the tray in step with the gate: it follows the service's events (status, health, backends,
 * keys, settings) into one TrayState, renders it on every change (the controller skips what looks the
 * same), and turns menu clicks into the same GateApi calls the window makes.
 */
export async function connectTray(service: Pick<GateService, 'call' | 'on'>, host: TrayHost): Promise<TrayConnection> {
  let status: ProxyStatus | undefined;
  let health: HealthView | null = null;
  /** the default alone until the list comes: the tray speaks of one Ollama */
  let backends: BackendView[] = [];
  let keys: KeyView[] = [];
  let settings: SettingsView | undefined;
  let network: NetworkAddresses = { addresses: [], lanUrls: [], sharedOnLan: false };
  let disposed = false;

  const render = () => {
    if (disposed || !status || !settings) return;
    host.render({
      appVersion: host.appVersion,
      status,
      ollama: health && { reachable: health.reachable, version: health.version, error: health.error, exposedOn: health.exposedOn },
      keys: keys.map(({ id, user, name, enabled, expired }) => ({ id, user, name, enabled, expired })),
      // Only states and models: requests in flight are not shown, so load alone never redraws the menu.
      backends: backends.map(trayBackend),
      sharedOnLan: network.sharedOnLan,
      lanUrl: network.sharedOnLan ? (network.lanUrls[0] ?? null) : null,
      launchAtLogin: settings.desktop?.launchAtLogin ?? false,
      launchAtLoginSupported: host.launchAtLoginSupported,
      language: trayLanguage(settings.desktop?.language ?? 'system', host.systemLanguages()),
    });
  };

  /** LAN URLs follow the port and the bind address. */
  const refreshNetwork = async () => {
    const result = await service.call('network.addresses');
    if (result.ok) network = result.value;
    render();
  };

  const unsubscribe = [
    service.on('status', (next) => {
      status = next;
      void refreshNetwork();
    }),
    service.on('health', (next) => {
      health = next;
      render();
    }),
    service.on('backends', (next) => {
      backends = next;
      render();
    }),
    service.on('keys', (next) => {
      keys = next;
      render();
    }),
    service.on('settings', (next) => {
      settings = next;
      void refreshNetwork();
    }),
  ];

  const [initialStatus, initialKeys, initialSettings, initialNetwork] = await Promise.all([
    service.call('proxy.status'),
    service.call('keys.list'),
    service.call('settings.get'),
    service.call('network.addresses'),
  ]);
  status ??= value(initialStatus);
  keys = value(initialKeys);
  settings ??= value(initialSettings);
  network = value(initialNetwork);
  render();
  void service.call('backends.list').then((result) => {
    // (an event may have brought a newer list meanwhile)
    if (result.ok && backends.length === 0) {
      backends = result.value;
      render();
    }
  });
  // The first probe may take a while: the tray says "checking" until it answers.
  void service.call('health.get').then((result) => {
    if (result.ok && !health) {
      health = result.value;
      render();
    }
  });

  const check = async (pending: Promise<GateResult<unknown>>, what: string) => {
    const result = await pending;
    if (!result.ok) host.report(`${what}: ${result.error.message}`);
  };

  return {
    async run(action) {
      switch (action.type) {
        case 'toggle-lan':
          return check(service.call('settings.update', { proxy: { host: action.share ? '0.0.0.0' : '127.0.0.1' } }), 'Share on LAN');
        case 'copy-lan-url':
          return host.copy(action.url);
        case 'start':
          return check(service.call('proxy.start'), 'Start proxy');
        case 'stop':
          return check(service.call('proxy.stop'), 'Stop proxy');
        case 'set-key-enabled':
          return check(service.call('keys.setEnabled', { id: action.keyId, enabled: action.enabled }), 'Enable key');
        case 'new-key':
          return host.showWindow({ page: 'keys', action: 'create-key' });
        case 'open':
          return host.showWindow(action.page ? { page: action.page } : undefined);
        case 'open-logs':
          return host.openLogs();
        case 'set-launch-at-login':
          return check(service.call('settings.update', { desktop: { launchAtLogin: action.enabled } }), 'Launch at login');
        case 'quit':
          return host.quit();
      }
    },
    dispose() {
      disposed = true;
      for (const stop of unsubscribe) stop();
    },
  };
}

/** The tray's language: the setting, or for `system` Chinese when the system prefers any Chinese. */
export function trayLanguage(setting: Language, systemLanguages: string[]): TrayLanguage {
  if (setting !== 'system') return setting;
  return systemLanguages[0]?.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

function value<T>(result: GateResult<T>): T {
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}
