import * as v from 'valibot';
import type {
  AppInfo,
  DesktopSettings,
  EventName,
  GateApiError,
  GateApiErrorCode,
  GateEvents,
  GateReason,
  GateRequest,
  GateResponse,
  GateResult,
  HealthView,
  KeyView,
  LogEntry,
  MethodName,
  Navigation,
  PinnedSetting,
  ProxySettings,
  ProxyStatus,
  ProxyTestAnswer,
  ProxyTestResult,
  SettingsView,
} from '../shared/contract.js';
import { methodSchemas } from './api-schemas.js';
import { type Clock, systemClock } from './clock.js';
import { type Explained, explain } from './errors.js';
import { Emitter, type RequestLogEntry } from './events.js';
import { StoreError } from './gate-store.js';
import type { Gateway } from './gateway.js';
import { getText } from './http-get.js';
import { isExpired } from './keyring.js';
import type { KeyRecord } from './keys.js';
import { Batcher, RecentBuffer } from './log-buffer.js';
import { LogHistoryFile } from './log-history.js';
import { canonicalIp, lanAddresses } from './network.js';
import type { GateSettings, SettingsProvider } from './settings.js';
import { utcDay } from './usage.js';

/** What the service needs of the settings store (GateStore in both hosts). */
export interface SettingsStore extends SettingsProvider {
  readonly path: string;
  /** the stored settings alone, without command-line overrides */
  storedSettings(): Partial<GateSettings>;
  updateSettings(patch: Partial<GateSettings>): GateSettings;
  /** called after keys or settings changed, here or in another process */
  subscribe(listener: () => void): () => void;
}

/** The desktop host's own settings (launch at login, Dock icon…); the headless host has none. */
export interface DesktopSettingsHost {
  get(): DesktopSettings;
  update(patch: Partial<DesktopSettings>): DesktopSettings | Promise<DesktopSettings>;
}

export interface GateServiceDeps {
  gateway: Gateway;
  store: SettingsStore;
  app: AppInfo;
  desktop?: DesktopSettingsHost;
  /** recent history kept for a window opened later */
  logCapacity?: number;
  /** settings this run's command line or environment decides (the store applies their values) */
  pinned?: readonly PinnedSetting[];
  /** where the newest `logHistoryEntries` requests are kept across restarts (JSON lines); none: memory only */
  logHistoryFile?: string;
  /** the shortest time between two log batches */
  logIntervalMs?: number;
  clock?: Clock;
}

/** Every method, by name, with its contract types: what both transports dispatch to. */
export type GateHandlers = { [M in MethodName]: (request: GateRequest<M>) => Promise<GateResponse<M>> };

export interface GateService {
  /**
   * Validates the input against the method's schema, runs it and answers with a result: the one
   * entry point for every transport. Never rejects.
   */
  call<M extends MethodName>(method: M, input?: unknown): Promise<GateResult<GateResponse<M>>>;
  call(method: string, input?: unknown): Promise<GateResult<unknown>>;
  on<E extends EventName>(event: E, listener: (payload: GateEvents[E]) => void): () => void;
  /** desktop: asks the window to show a page */
  navigate(to: Navigation): void;
  /** starts polling Ollama (the gateway's health monitor) */
  start(): void;
  /**
   * Stops polling and closes the proxy (requests in flight get `graceMs` to finish), then flushes the
   * last log batch and the history file. The one place the gateway is closed.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** A failure a method reports on purpose, with its code. */
export class GateApiFailure extends Error {
  constructor(
    readonly code: GateApiErrorCode,
    message: string,
    readonly issues?: GateApiError['issues'],
  ) {
    super(message);
  }
}

/** The shortest time between two health checks caused by requests that used a model. */
const MODEL_RECHECK_MS = 2_000;

/** How long a proxy test request may take. */
const TEST_TIMEOUT_MS = 10_000;

/** The shortest time between two lockouts events: a scan of wrong keys changes the list with every request. */
const LOCKOUTS_EVENT_MS = 250;

/**
 * GateApi over the core: one object for the Electron IPC and the headless admin HTTP, which both
 * dispatch to it by method name through `call`. It owns the log history, polls Ollama through the
 * gateway's health monitor while started, and turns core events into contract events.
 */
export function createGateService(deps: GateServiceDeps): GateService {
  const { gateway, store } = deps;
  const clock = deps.clock ?? systemClock;
  const { health } = gateway;
  const persisted = deps.logHistoryFile
    ? new LogHistoryFile({ file: deps.logHistoryFile, limit: () => store.current().logHistoryEntries, keepBodies: () => store.current().logRequestBodies })
    : undefined;
  const restored = persisted?.load() ?? [];
  const history = new RecentBuffer<RequestLogEntry>(Math.max(deps.logCapacity ?? 2_000, persisted ? store.current().logHistoryEntries : 0), restored);
  const emitter = new Emitter<GateEvents>();
  const batcher = new Batcher<LogEntry>((batch) => emitter.emit('logs', batch), {
    intervalMs: deps.logIntervalMs ?? 100,
    maxBatch: history.capacity,
    now: () => clock.now(),
  });

  // --- views -----------------------------------------------------------------------------------

  const usageToday = (): Map<string, KeyView['today']> => {
    const today = new Map<string, KeyView['today']>();
    for (const row of gateway.usage.query({ since: utcDay(clock.now()) })) {
      today.set(row.keyId, { requests: row.requests, tokens: row.promptTokens + row.completionTokens });
    }
    return today;
  };

  const keyView = (key: KeyRecord, today = usageToday()): KeyView => ({
    id: key.id,
    user: key.user,
    name: key.name,
    scope: key.scope,
    models: [...key.models],
    rpm: key.rpm,
    concurrency: key.concurrency,
    dailyTokens: key.dailyTokens,
    expiresAt: key.expiresAt,
    prefix: key.prefix,
    enabled: key.enabled,
    expired: isExpired(key, clock.now()),
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    lastUsedIp: key.lastUsedIp,
    today: today.get(key.id) ?? { requests: 0, tokens: 0 },
  });

  const listKeys = (): KeyView[] => {
    const today = usageToday();
    return gateway.keys
      .list()
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((key) => keyView(key, today));
  };

  const requireKey = (id: string): KeyRecord => {
    const key = gateway.keys.get(id);
    if (!key) throw new GateApiFailure('not_found', `no key with id "${id}"`);
    return key;
  };

  const status = (): ProxyStatus => {
    const { state, host, port, urls, error, reason, tls } = gateway.status();
    return { state, host, port, urls: [...urls], error, reason, tls: tls && { ...tls, urls: [...tls.urls] } };
  };

  const settingsView = (): SettingsView => ({
    proxy: { ...store.current() },
    desktop: deps.desktop?.get() ?? null,
    pinned: pinned.map((setting) => ({ ...setting })),
    storePath: store.path,
  });

  const healthNow = async (): Promise<HealthView> => health.current() ?? health.check();

  // --- applying settings -------------------------------------------------------------------------

  /** the host and port the listener was last asked to use */
  let applied = listenerSettings(store.current());
  /** set while this service writes settings itself, so the store's echo does not restart twice */
  let writingSettings = false;

  /**
   * Brings a running proxy in line with the settings (host, port, HTTPS: the gateway restarts only
   * what changed) and retries one that failed to start once its host or port changed. A stopped
   * proxy stays stopped.
   */
  const applyListener = async (): Promise<void> => {
    const wanted = listenerSettings(store.current());
    const moved = wanted !== applied;
    applied = wanted;
    const { state } = gateway.status();
    if (state === 'listening') await gateway.restart();
    else if (state === 'error' && moved) await gateway.listen();
  };

  const updateProxySettings = async (patch: Partial<ProxySettings>): Promise<void> => {
    const before = store.storedSettings();
    // The store's change listener (onStoreChange) probes a new upstream; the listener is moved here.
    writeSettings(patch);
    let failure: string | undefined;
    try {
      await applyListener();
      // HTTPS that cannot start (port taken, unreadable certificate) is refused like a port that is taken.
      const tlsError = gateway.status().tls?.error;
      if (tlsError && TLS_FIELDS.some((field) => field in patch)) failure = tlsError;
    } catch (error) {
      failure = (error as Error).message;
    }
    if (failure === undefined) return;
    // The previous listeners keep serving: put back the settings they serve with, so the settings
    // and the status say what is true, and say why.
    writeSettings(Object.fromEntries(LISTENER_FIELDS.map((field) => [field, before[field]])));
    await applyListener().catch(() => undefined);
    throw new GateApiFailure('listen_failed', failure);
  };

  const pinned: readonly PinnedSetting[] = deps.pinned ?? [];

  /** The patch without the pinned settings it leaves as they are; refused when it would change one. */
  const unpinned = (patch: Partial<ProxySettings>): Partial<ProxySettings> => {
    const current = store.current();
    const rest: Partial<ProxySettings> = { ...patch };
    const issues: Array<{ path: string; message: string }> = [];
    for (const { field, by } of pinned) {
      if (!(field in rest)) continue;
      if (JSON.stringify(rest[field]) !== JSON.stringify(current[field]))
        issues.push({ path: `proxy.${field}`, message: `set by ${by} for this run: start the gate without ${by} to change it` });
      delete rest[field];
    }
    if (issues.length > 0)
      throw new GateApiFailure('invalid_input', issues.map((issue) => `${issue.path.slice('proxy.'.length)} is ${issue.message}`).join('; '), issues);
    return rest;
  };

  const writeSettings = (patch: Partial<GateSettings>): void => {
    writingSettings = true;
    try {
      store.updateSettings(patch);
    } finally {
      writingSettings = false;
    }
  };

  // --- methods ---------------------------------------------------------------------------------

  const handlers: GateHandlers = {
    'keys.list': async () => listKeys(),
    'keys.create': async (fields) => {
      if (fields.expiresAt != null && fields.expiresAt <= clock.now()) {
        throw new GateApiFailure('invalid_input', 'the expiry date has already passed', [{ path: 'expiresAt', message: 'must be in the future' }]);
      }
      const { key, secret } = gateway.keys.create(fields);
      return { key: keyView(key), secret };
    },
    'keys.update': async ({ id, ...patch }) => {
      requireKey(id);
      gateway.keys.update(id, patch);
      return keyView(requireKey(id));
    },
    'keys.setEnabled': async ({ id, enabled }) => {
      requireKey(id);
      gateway.keys.setEnabled(id, enabled);
      return keyView(requireKey(id));
    },
    'keys.rotate': async ({ id }) => {
      requireKey(id);
      // Rotating answers a leak: IPs trusted with the old secret lose that trust too, whichever
      // process rotates (a session holds the secret it was opened with; see sessions.ts).
      const { key, secret } = gateway.keys.rotate(id);
      return { key: keyView(key), secret };
    },
    'keys.remove': async ({ id }) => {
      requireKey(id);
      gateway.keys.remove(id);
      return null;
    },

    'sessions.list': async () => gateway.sessions.list().sort((a, b) => b.lastSeenAt - a.lastSeenAt),
    'sessions.revoke': async ({ ip }) => {
      if (!gateway.sessions.revoke(ip)) throw new GateApiFailure('not_found', `no session for ${ip}`);
      return null;
    },

    'lockouts.list': async () => gateway.lockout.list(),
    'lockouts.unlock': async ({ ip }) => {
      if (!gateway.lockout.unlock(canonicalIp(ip))) throw new GateApiFailure('not_found', `${ip} is not locked out and has no wrong keys counted`);
      return null;
    },

    'usage.query': async (filter) => gateway.usage.query(filter ?? {}),

    'logs.recent': async (options) => history.recent(options ?? {}),

    'backends.list': async () => gateway.backends.views(),

    'health.get': healthNow,
    'health.check': () => health.check(),

    'proxy.status': async () => status(),
    'proxy.start': async () => {
      applied = listenerSettings(store.current());
      try {
        await gateway.listen();
      } catch (error) {
        throw new GateApiFailure('listen_failed', (error as Error).message);
      }
      return status();
    },
    'proxy.stop': async () => {
      await gateway.close();
      return status();
    },
    'proxy.test': async (options) => testProxy(status(), options?.key, loggedReason),

    'settings.get': async () => settingsView(),
    'settings.update': async (patch) => {
      if (patch.desktop && !deps.desktop) throw new GateApiFailure('unsupported', 'desktop settings exist only in the desktop app');
      const proxy = patch.proxy && unpinned(patch.proxy);
      if (proxy && Object.keys(proxy).length > 0) await updateProxySettings(proxy);
      if (patch.desktop && deps.desktop) await deps.desktop.update(patch.desktop);
      const view = settingsView();
      publishSettings(view);
      return view;
    },

    'network.addresses': async () => {
      const addresses = lanAddresses();
      const { host, port: configured } = store.current();
      const live = gateway.status();
      const port = live.state === 'listening' ? live.port : configured;
      return { addresses, lanUrls: addresses.map((a) => `http://${a}:${port}`), sharedOnLan: host === '0.0.0.0' || host === '::' };
    },

    'app.info': async () => ({ ...deps.app, versions: { ...deps.app.versions } }),
  };

  // --- events ----------------------------------------------------------------------------------

  let lastKeys = '';
  let keysQueued = false;
  /** KeyRing reports one change several times (its own reload, the store's echo): send it once. */
  const publishKeys = () => {
    if (keysQueued) return;
    keysQueued = true;
    queueMicrotask(() => {
      keysQueued = false;
      const keys = listKeys();
      const json = JSON.stringify(keys);
      if (json === lastKeys) return;
      lastKeys = json;
      emitter.emit('keys', keys);
    });
  };

  let lastSettings = JSON.stringify(settingsView());
  const publishSettings = (view = settingsView()) => {
    const json = JSON.stringify(view);
    if (json === lastSettings) return;
    lastSettings = json;
    emitter.emit('settings', view);
  };

  let lastUpstream = store.current().upstream;
  const onStoreChange = () => {
    persisted?.settingsChanged();
    publishSettings();
    const { upstream } = store.current();
    if (upstream !== lastUpstream) {
      lastUpstream = upstream;
      void health.check();
    }
    publishBackends();
    // Another process (the CLI) changed the host or port: follow it; the status reports a failure.
    if (!writingSettings) applyListener().catch(() => {});
  };

  // The backends' states, models and settings; their load alone changes on every request and is not news.
  let lastBackends = '';
  const publishBackends = () => {
    const views = gateway.backends.views();
    const json = JSON.stringify(views.map(({ inFlight: _, ...view }) => view));
    if (json === lastBackends) return;
    lastBackends = json;
    emitter.emit('backends', views);
  };

  // At once after a quiet spell, then at most every LOCKOUTS_EVENT_MS, and only to someone listening.
  let lockoutsTimer: ReturnType<typeof setTimeout> | undefined;
  let lockoutsSentAt = Number.NEGATIVE_INFINITY;
  const publishLockouts = () => {
    if (lockoutsTimer || !emitter.listening('lockouts')) return;
    lockoutsTimer = setTimeout(
      () => {
        lockoutsTimer = undefined;
        lockoutsSentAt = performance.now();
        emitter.emit('lockouts', gateway.lockout.list());
      },
      Math.max(0, lockoutsSentAt + LOCKOUTS_EVENT_MS - performance.now()),
    );
  };

  /** The reason the gate logged for one of its own requests (its log event may come just after the answer), or null. */
  const loggedReason = (id: string): Promise<GateReason | null> => {
    const logged = history.recent({ limit: 100 }).findLast((entry) => entry.id === id);
    if (logged) return Promise.resolve(logged.reason ?? null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        stop();
        resolve(null);
      }, 1_000);
      const stop = gateway.events.on('request', (entry) => {
        if (entry.id !== id) return;
        clearTimeout(timer);
        stop();
        resolve(entry.reason);
      });
    });
  };

  // A request that named a model may have loaded one: look at Ollama again soon rather than at the
  // next poll, so the window's loaded-models list follows use (at most every MODEL_RECHECK_MS).
  let lastModelCheck = Number.NEGATIVE_INFINITY;
  const onRequest = (entry: RequestLogEntry) => {
    const seq = history.push(entry);
    persisted?.add(entry, seq);
    // Live log lines go only to someone listening (a window, a web admin page); a later one reads the history.
    if (emitter.listening('logs')) batcher.push({ ...entry, seq });
    if (entry.model && entry.decision === 'allowed' && clock.now() - lastModelCheck >= MODEL_RECHECK_MS) {
      lastModelCheck = clock.now();
      const backend = entry.backend ? gateway.backends.byName(entry.backend) : undefined;
      void (backend?.monitor ?? health).check();
    }
  };

  const unsubscribe = [
    gateway.events.on('request', onRequest),
    gateway.events.on('status', () => emitter.emit('status', status())),
    gateway.keys.onChange(publishKeys),
    gateway.lockout.onChange(publishLockouts),
    store.subscribe(onStoreChange),
    health.onChange((view) => emitter.emit('health', view)),
    gateway.backends.onChange(publishBackends),
  ];

  const call = async (method: string, input?: unknown): Promise<GateResult<unknown>> => {
    if (!Object.hasOwn(methodSchemas, method)) return { ok: false, error: { code: 'unknown_method', message: `no method "${method}"` } };
    const name = method as MethodName;
    const parsed = v.safeParse(methodSchemas[name] as v.GenericSchema, input);
    if (!parsed.success) return { ok: false, error: invalidInput(parsed.issues) };
    try {
      const value = await (handlers[name] as (request: unknown) => Promise<unknown>)(parsed.output);
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error: toApiError(error) };
    }
  };

  return {
    call: call as GateService['call'],
    on: (event, listener) => emitter.on(event, listener),
    navigate: (to) => emitter.emit('navigate', to),
    start: () => {
      health.start();
      gateway.backends.start();
    },
    async close({ graceMs = 0 } = {}) {
      health.stop();
      gateway.backends.stop();
      // The listeners first: requests that finish within the grace still reach the history.
      await gateway.close({ graceMs });
      for (const stop of unsubscribe) stop();
      clearTimeout(lockoutsTimer);
      batcher.flush();
      batcher.close();
      await persisted?.close();
      emitter.clear();
    },
  };
}

/** The settings the HTTPS listener is opened with. */
const TLS_FIELDS = ['host', 'tlsEnabled', 'tlsPort', 'tlsCertFile', 'tlsKeyFile'] as const satisfies ReadonlyArray<keyof ProxySettings>;
/** The settings both listeners are opened with: a change to them that cannot listen is put back. */
const LISTENER_FIELDS = ['port', ...TLS_FIELDS] as const;

function listenerSettings(settings: GateSettings): string {
  return `${settings.host}|${settings.port}`;
}

/** A test's detail and reason, from a reason and its English. */
const said = ({ text, reason }: Explained): Pick<ProxyTestResult, 'detail' | 'reason'> => ({ detail: text, reason });

/**
 * The window's test: GET /api/tags with the key, as a client sends it. Without a key, the same
 * request without one (what such a client gets: 401, or 429 while this address is locked out), and
 * GET /health, which needs none.
 */
async function testProxy(
  status: ProxyStatus,
  key: string | undefined,
  loggedReason: (requestId: string) => Promise<GateReason | null>,
): Promise<ProxyTestResult> {
  const base = status.urls[0];
  if (status.state !== 'listening' || !base)
    return { url: '/api/tags', status: null, durationMs: 0, ...said(explain('test_not_running')), retryAfterSeconds: null, health: null };
  const tags = await testRequest(`${base}/api/tags`, key, loggedReason);
  return { ...tags, health: key ? null : await testRequest(`${base}/health`, undefined, loggedReason) };
}

async function testRequest(url: string, key: string | undefined, loggedReason: (requestId: string) => Promise<GateReason | null>): Promise<ProxyTestAnswer> {
  const started = performance.now();
  try {
    const answer = await getText(url, { timeoutMs: TEST_TIMEOUT_MS, headers: key ? { authorization: `Bearer ${key}` } : {} });
    const durationMs = Math.round(performance.now() - started);
    const described = describeTestAnswer(new URL(url).pathname, answer.status, answer.text);
    // The gate's own refusal (a wrong key, a lockout): its reason is in the request's log entry.
    const id = answer.headers['x-request-id'];
    const reason = described.refusal && typeof id === 'string' ? await loggedReason(id) : described.reason;
    const retryAfter = Number(answer.headers['retry-after']);
    return { url, status: answer.status, durationMs, detail: described.text, reason, retryAfterSeconds: retryAfter > 0 ? retryAfter : null };
  } catch (error) {
    const durationMs = Math.round(performance.now() - started);
    return { url, status: null, durationMs, ...said(explain('test_no_answer', { detail: (error as Error).message })), retryAfterSeconds: null };
  }
}

/** What a test's answer says, with its reason when the service knows it; `refusal`: the gate's own error answer. */
function describeTestAnswer(path: string, status: number, text: string): { text: string; reason: GateReason | null; refusal?: boolean } {
  let json: { error?: unknown; models?: unknown } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    return { text: text.slice(0, 300), reason: null };
  }
  if (typeof json.error === 'string') return { text: json.error, reason: null, refusal: true };
  if (path === '/api/tags' && Array.isArray(json.models)) {
    return json.models.length === 1 ? explain('test_key_works_one') : explain('test_key_works', { count: json.models.length });
  }
  if (status === 200) return explain('test_gate_ok');
  return { text: text.slice(0, 300), reason: null };
}

function invalidInput(problems: readonly v.BaseIssue<unknown>[]): GateApiError {
  const issues = problems.map((issue) => ({ path: v.getDotPath(issue) ?? '', message: issue.message }));
  const message = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  return { code: 'invalid_input', message: message || 'invalid input', issues };
}

/** Every failure, as the contract's error: the code says what kind, the message says it in words. */
export function toApiError(error: unknown): GateApiError {
  if (error instanceof GateApiFailure) return { code: error.code, message: error.message, ...(error.issues ? { issues: error.issues } : {}) };
  if (error instanceof v.ValiError) return invalidInput(error.issues);
  if (error instanceof StoreError) return { code: 'store_error', message: error.message };
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}
