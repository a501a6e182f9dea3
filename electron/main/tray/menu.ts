import type { BackendView, KeyView, ProxyStatus } from '../../shared/contract.js';
import type { TrayIconState } from './icons.js';

/**
 * The tray as a pure function of state: plain data in, a menu template of plain data out, with an
 * action on each item the controller turns into a click. No electron import, so every state can be
 * rendered and checked in a test.
 */

export type TrayLanguage = 'en' | 'zh-CN';

/** An Ollama behind the gate, as the tray says it: `disabled` in Settings, `skipped` after it refused a connection. */
export interface TrayBackend {
  name: string;
  state: 'up' | 'down' | 'skipped' | 'disabled' | 'checking';
  /** installed models; null before its first check */
  models: number | null;
  /** why it is down */
  error: string | null;
}

/** A backend as the gate reports it, reduced to what the tray shows (the window's words: renderer backend-state.ts). */
export function trayBackend(view: Pick<BackendView, 'name' | 'enabled' | 'skipped' | 'health'>): TrayBackend {
  const { health } = view;
  const state: TrayBackend['state'] = !view.enabled ? 'disabled' : health && !health.reachable ? 'down' : view.skipped ? 'skipped' : health ? 'up' : 'checking';
  return { name: view.name, state, models: view.enabled && health ? health.models.length : null, error: state === 'down' ? (health?.error ?? null) : null };
}

export interface TrayState {
  appVersion: string;
  status: ProxyStatus;
  /** null until Ollama was first checked */
  ollama: { reachable: boolean; version: string | null; error: string | null; exposedOn: string[] } | null;
  keys: Array<Pick<KeyView, 'id' | 'user' | 'name' | 'enabled' | 'expired'>>;
  /**
   * Every Ollama the gate forwards to, the default first. With more than one the menu and tooltip
   * list each (`big: up, 3 models`); with the default alone they speak of "Ollama", as before.
   */
  backends: TrayBackend[];
  /** the proxy is set to listen on all interfaces */
  sharedOnLan: boolean;
  /** the first LAN URL when shared on the LAN and this machine has a LAN address */
  lanUrl: string | null;
  launchAtLogin: boolean;
  /** Linux outside a package has no way to register a login item */
  launchAtLoginSupported: boolean;
  language: TrayLanguage;
}

export type TrayAction =
  | { type: 'toggle-lan'; share: boolean }
  | { type: 'copy-lan-url'; url: string }
  | { type: 'start' }
  | { type: 'stop' }
  | { type: 'set-key-enabled'; keyId: string; enabled: boolean }
  | { type: 'new-key' }
  | { type: 'open'; page?: 'keys' }
  | { type: 'open-logs' }
  | { type: 'set-launch-at-login'; enabled: boolean }
  | { type: 'quit' };

/** The parts of Electron's MenuItemConstructorOptions the tray uses, with an action instead of a click handler. */
export interface TrayMenuItem {
  type?: 'normal' | 'separator' | 'checkbox';
  label?: string;
  enabled?: boolean;
  checked?: boolean;
  action?: TrayAction;
}

/** More keys than this are left to the window: a menu taller than the screen helps nobody. */
export const MAX_KEYS_IN_MENU = 15;

const LABELS = {
  en: {
    servingOn: (url: string) => `Serving on ${url}`,
    stopped: 'Proxy stopped',
    cannotStart: (error: string) => `Cannot start: ${error}`,
    warning: (error: string) => `⚠ ${error}`,
    ollama: (version: string | null) => `Ollama ${version ?? '(unknown version)'}`,
    ollamaDown: 'Ollama is not reachable',
    ollamaChecking: 'Checking Ollama…',
    exposed: (where: string) => `⚠ Ollama also answers on ${where}, without a key`,
    shareOnLan: 'Share on LAN',
    copyLanUrl: 'Copy LAN URL',
    start: 'Start proxy',
    stop: 'Stop proxy',
    keys: 'Keys',
    noKeys: 'No keys yet',
    expired: 'expired',
    moreKeys: (n: number) => `${n} more keys…`,
    newKey: 'New key…',
    open: 'Open Ollama Gate',
    openLogs: 'Open logs folder',
    launchAtLogin: 'Launch at login',
    quit: 'Quit Ollama Gate',
    exposedShort: '⚠ Ollama is open on the LAN without a key',
    servingWithProblem: (error: string) => `⚠ Serving, but: ${error}`,
    backendStates: { up: 'up', down: 'down', skipped: 'skipped', disabled: 'off', checking: 'checking…' },
    models: (n: number) => (n === 1 ? '1 model' : `${n} models`),
    backend: (name: string, state: string, more: string | null) => `${name}: ${state}${more ? `, ${more}` : ''}`,
    moreBackends: (n: number) => `and ${n} more`,
  },
  'zh-CN': {
    servingOn: (url: string) => `服务地址 ${url}`,
    stopped: '代理已停止',
    cannotStart: (error: string) => `无法启动：${error}`,
    warning: (error: string) => `⚠ ${error}`,
    ollama: (version: string | null) => `Ollama ${version ?? '（版本未知）'}`,
    ollamaDown: '无法连接 Ollama',
    ollamaChecking: '正在检查 Ollama…',
    exposed: (where: string) => `⚠ Ollama 在 ${where} 无需密钥即可访问`,
    shareOnLan: '在局域网共享',
    copyLanUrl: '复制局域网地址',
    start: '启动代理',
    stop: '停止代理',
    keys: '密钥',
    noKeys: '还没有密钥',
    expired: '已过期',
    moreKeys: (n: number) => `另外 ${n} 个密钥…`,
    newKey: '新建密钥…',
    open: '打开 Ollama Gate',
    openLogs: '打开日志文件夹',
    launchAtLogin: '登录时启动',
    quit: '退出 Ollama Gate',
    exposedShort: '⚠ Ollama 在局域网上无需密钥即可访问',
    servingWithProblem: (error: string) => `⚠ 正在服务，但：${error}`,
    backendStates: { up: '在线', down: '离线', skipped: '已跳过', disabled: '已停用', checking: '检查中…' },
    models: (n: number) => `${n} 个模型`,
    backend: (name: string, state: string, more: string | null) => `${name}：${state}${more ? `，${more}` : ''}`,
    moreBackends: (n: number) => `另外 ${n} 个`,
  },
} as const;

/**
 * Which icon the tray shows, from the gate's state and Ollama's: a gate that cannot serve beats
 * everything, then stopped, then an Ollama that does not answer, then one open on the LAN.
 */
export function trayIconState(state: Pick<TrayState, 'status' | 'ollama' | 'backends'>): TrayIconState {
  const { status, ollama } = state;
  if (status.state === 'error' || status.error) return 'error';
  if (status.state === 'stopped') return 'stopped';
  if (severalBackends(state)) {
    // Requests still find their models while any backend is up: offline is when none is.
    const enabled = state.backends.filter((backend) => backend.state !== 'disabled');
    if (enabled.length > 0 && enabled.every((backend) => backend.state === 'down' || backend.state === 'skipped')) return 'offline';
  } else if (ollama && !ollama.reachable) return 'offline';
  return ollama?.exposedOn.length ? 'exposed' : 'serving';
}

/** Windows cuts a tray tooltip at 127 characters; the other systems show it whole. */
export const MAX_TOOLTIP_LENGTH = 127;

/**
 * The tooltip: the app and its version, then one line for the gate and one for Ollama, so hovering
 * the icon says both without opening the menu.
 */
export function trayTooltip(state: TrayState): string {
  const text = LABELS[state.language];
  const { status, ollama } = state;
  const gate =
    status.state === 'error'
      ? text.cannotStart(status.error ?? '')
      : status.state === 'stopped'
        ? text.stopped
        : status.error
          ? text.servingWithProblem(status.error)
          : text.servingOn(preferredUrl(state) ?? `${status.host}:${status.port}`);
  const head = `Ollama Gate ${state.appVersion}`;
  const room = (upstream: string) => MAX_TOOLTIP_LENGTH - head.length - upstream.length - 2;
  if (severalBackends(state)) {
    // A line per backend, without reasons (the LAN warning first, if any); those that do not fit are counted instead.
    const lines = [...(ollama?.exposedOn.length ? [text.exposedShort] : []), ...state.backends.map((backend) => backendLine(backend, text, false))];
    let upstream = lines.join('\n');
    // The gate's line is kept whole (or to its first 48 characters, a long error) before every backend is.
    for (let kept = lines.length - 1; kept >= 1 && room(upstream) < Math.min(gate.length, 48); kept--) {
      upstream = [...lines.slice(0, kept), text.moreBackends(lines.length - kept)].join('\n');
    }
    return [head, shorten(gate, Math.max(room(upstream), 20)), upstream].join('\n').slice(0, MAX_TOOLTIP_LENGTH);
  }
  const upstream =
    ollama === null ? text.ollamaChecking : !ollama.reachable ? text.ollamaDown : ollama.exposedOn.length ? text.exposedShort : text.ollama(ollama.version);
  return [head, shorten(gate, Math.max(room(upstream), 20)), upstream].join('\n').slice(0, MAX_TOOLTIP_LENGTH);
}

/** More than the default Ollama: the menu and tooltip then name each. */
function severalBackends(state: Pick<TrayState, 'backends'>): boolean {
  return state.backends.length > 1;
}

type Labels = (typeof LABELS)[TrayLanguage];

/** `big: up, 3 models`; `big: down` (with `why`, the reason too); `big: off`. */
function backendLine(backend: TrayBackend, text: Labels, why: boolean): string {
  const more =
    backend.state === 'up' && backend.models !== null ? text.models(backend.models) : why && backend.state === 'down' && backend.error ? backend.error : null;
  return text.backend(backend.name, text.backendStates[backend.state], more);
}

export function buildTrayMenu(state: TrayState): TrayMenuItem[] {
  const text = LABELS[state.language];
  const { status, ollama } = state;
  const listening = status.state === 'listening';
  const info = (label: string): TrayMenuItem => ({ label: shorten(label), enabled: false });
  const separator: TrayMenuItem = { type: 'separator' };

  const statusLines: TrayMenuItem[] = [];
  if (listening) statusLines.push(info(text.servingOn(preferredUrl(state) ?? `${status.host}:${status.port}`)));
  else if (status.state === 'error') statusLines.push(info(text.cannotStart(status.error ?? '')));
  else statusLines.push(info(text.stopped));
  if (listening && status.error) statusLines.push(info(text.warning(status.error)));
  if (status.tls?.error) statusLines.push(info(text.warning(status.tls.error)));
  if (severalBackends(state)) statusLines.push(...state.backends.map((backend) => info(backendLine(backend, text, true))));
  else statusLines.push(info(ollama === null ? text.ollamaChecking : ollama.reachable ? text.ollama(ollama.version) : text.ollamaDown));
  if (ollama?.exposedOn.length) statusLines.push(info(text.exposed(ollama.exposedOn.join(', '))));

  const keyItems: TrayMenuItem[] = state.keys.slice(0, MAX_KEYS_IN_MENU).map((key) => ({
    type: 'checkbox',
    label: shorten(`${key.user}${key.name ? ` (${key.name})` : ''}${key.expired ? ` — ${text.expired}` : ''}`),
    checked: key.enabled,
    action: { type: 'set-key-enabled', keyId: key.id, enabled: !key.enabled },
  }));
  if (state.keys.length > MAX_KEYS_IN_MENU) {
    keyItems.push({ label: text.moreKeys(state.keys.length - MAX_KEYS_IN_MENU), action: { type: 'open', page: 'keys' } });
  }

  return [
    ...statusLines,
    separator,
    { type: 'checkbox', label: text.shareOnLan, checked: state.sharedOnLan, action: { type: 'toggle-lan', share: !state.sharedOnLan } },
    state.lanUrl ? { label: text.copyLanUrl, action: { type: 'copy-lan-url', url: state.lanUrl } } : { label: text.copyLanUrl, enabled: false },
    listening ? { label: text.stop, action: { type: 'stop' } } : { label: text.start, action: { type: 'start' } },
    separator,
    info(text.keys),
    ...(keyItems.length ? keyItems : [info(text.noKeys)]),
    { label: text.newKey, action: { type: 'new-key' } },
    separator,
    { label: text.open, action: { type: 'open' } },
    { label: text.openLogs, action: { type: 'open-logs' } },
    {
      type: 'checkbox',
      label: text.launchAtLogin,
      checked: state.launchAtLogin,
      enabled: state.launchAtLoginSupported,
      action: { type: 'set-launch-at-login', enabled: !state.launchAtLogin },
    },
    separator,
    { label: text.quit, action: { type: 'quit' } },
  ];
}

/** The URL worth showing: the LAN one when shared, else where the proxy listens. */
function preferredUrl(state: TrayState): string | null {
  return state.lanUrl ?? state.status.urls[0] ?? null;
}

/** Menu lines stay readable: long errors are cut, the window has the whole text. */
function shorten(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
