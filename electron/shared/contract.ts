/**
 * GateApi: everything the window can ask of the gate and everything it is told, in one place.
 *
 * The preload (IPC), the headless admin (HTTP + SSE), the service that implements the methods and
 * the renderer are all typed from this file. It is plain data types plus two name lists, with no
 * node, electron or DOM import, so the renderer's browser build can include it as it is. The
 * shapes are redeclared here rather than imported from the core because core modules import node
 * types; electron/core/service.ts checks at compile time that the core's types still fit them.
 */

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/** `inference` runs models; `full` may also pull, push, create, copy and delete them. */
export type Scope = 'inference' | 'full';

/** What a caller may set on a key. */
export interface KeyFields {
  /** who the key belongs to; shown in logs */
  user: string;
  /** an optional label, such as the device the key lives on */
  name: string | null;
  scope: Scope;
  /** model patterns this key may use (`llama3*`, `qwen2.5:72b`); empty means every model */
  models: string[];
  /** requests per minute; null = no limit */
  rpm: number | null;
  /** requests in flight at once; null = no limit */
  concurrency: number | null;
  /** prompt plus completion tokens per day (UTC); null = no limit */
  dailyTokens: number | null;
  /** epoch ms; null = never */
  expiresAt: number | null;
}

/** A key as the window sees it: never its secret or hash, only the display prefix. */
export interface KeyView extends KeyFields {
  id: string;
  /** the first characters of the secret, enough to recognise it */
  prefix: string;
  enabled: boolean;
  /** expiresAt has passed: the key is refused although it may still be enabled */
  expired: boolean;
  createdAt: number;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
  /** this key's usage so far today (UTC) */
  today: { requests: number; tokens: number };
}

/** A key together with its secret: the only answer that ever carries one, after create and rotate. */
export interface KeyWithSecret {
  key: KeyView;
  secret: string;
}

/** An IP trusted through `POST /auth`. */
export interface SessionView {
  ip: string;
  keyId: string;
  user: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

/**
 * An address that sent wrong keys: locked out (every request refused, even with a right key) until
 * `lockedUntil`, or still counting towards a lockout.
 */
export interface LockoutView {
  ip: string;
  /** wrong keys counted within the window; for a locked address, those that locked it */
  failures: number;
  /** epoch ms; null while the address is only counting */
  lockedUntil: number | null;
  /** epoch ms */
  lastFailureAt: number;
}

/** What one key did on one day (UTC). */
export interface UsageRow {
  /** YYYY-MM-DD, UTC */
  day: string;
  keyId: string;
  user: string;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  /** requests by the backend that answered them (`default` for `upstream`) */
  backends: Record<string, number>;
}

/**
 * Why the gate refused or failed something, as a code the window translates (`reason.<code>`) with
 * the values its message names. The English text beside it (`error`, `detail`) says the same for
 * logs and HTTP clients; both come from one table (electron/core/errors.ts).
 */
export interface GateReason {
  code: ReasonCode;
  params?: Record<string, string | number>;
}

/** Every reason code, at run time: a test checks that each has its English and Chinese message. */
export const REASON_CODES = [
  // who sends the request
  'missing_key',
  'missing_key_body_unread',
  'auth_missing_key',
  'bad_body_api_key',
  'invalid_key',
  'disabled_key',
  'expired_key',
  'invalid_key_locking',
  'disabled_key_locking',
  'expired_key_locking',
  'key_changed',
  'locked_out',
  'sessions_off',
  // what the key may do
  'out_of_scope',
  'budget_uncountable',
  'not_exposed',
  'model_not_allowed',
  'model_member_not_allowed',
  'model_body_unread',
  'model_body_not_object',
  'model_member_not_text',
  'model_blob_not_uploaded',
  'model_path_modelfile',
  'model_unnamed',
  'modelfile_not_text',
  'modelfile_adapter',
  'rate_limit_rpm',
  'rate_limit_concurrency',
  'rate_limit_concurrency_one',
  'rate_limit_daily_tokens',
  // the request itself
  'method_not_supported',
  'auth_method',
  'route_method',
  'body_on_bodyless',
  'trailing_json',
  'backend_unknown',
  'forward_loop',
  'target_not_path',
  'target_bad_escape',
  'target_control_char',
  'target_two_keys',
  'unforwardable_request',
  'body_too_large',
  'body_too_long_to_clean',
  'auth_body_too_large',
  'body_incomplete',
  'body_stalled',
  'client_gone',
  'client_closed',
  'busy',
  // Ollama
  'upstream_refused',
  'upstream_closed',
  'upstream_host_unreachable',
  'upstream_dns',
  'upstream_connection_closed',
  'upstream_unreadable',
  'upstream_headers_too_large',
  'upstream_connect_timeout',
  'upstream_no_answer',
  'upstream_stalled',
  'upstream_failed',
  'upstream_model_list',
  'upstream_bad_headers',
  'internal',
  'ollama_timeout',
  'ollama_bad_status',
  'ollama_no_version',
  // the listener
  'port_in_use',
  'port_not_allowed',
  'address_not_available',
  'listen_failed',
  // the window's test request
  'test_not_running',
  'test_no_answer',
  'test_key_works',
  'test_key_works_one',
  'test_gate_ok',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

export type KeySource = 'x-api-key' | 'bearer' | 'basic' | 'authorization' | 'query' | 'body' | 'session';
export type Outcome = 'ok' | 'denied' | 'upstream_error' | 'client_aborted' | 'error';

/** One finished request. It never holds a key, only its display prefix. */
export interface LogEntry {
  /**
   * Increases by one per entry for the life of the host process: a window merges the recent
   * history and live batches by it, and a gap means entries were dropped under load.
   */
  seq: number;
  /** 8 hex characters, also sent to the client as X-Request-Id */
  id: string;
  time: number;
  method: string;
  /** path and query, `api_key` redacted */
  path: string;
  ip: string;
  user: string | null;
  keyId: string | null;
  keyPrefix: string | null;
  keySource: KeySource | null;
  decision: 'public' | 'allowed' | 'denied';
  status: number;
  /** until the response's first byte */
  ttfbMs: number | null;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  model: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  /** the request body, shortened, only when body logging is on */
  requestBody: string | null;
  outcome: Outcome;
  /** why it was denied or failed, in words */
  error: string | null;
  /** the same, as a code the window translates */
  reason: GateReason | null;
  /**
   * The request's User-Agent, cleaned (control characters dropped, anything shaped like a key or
   * token replaced by `[redacted]`) and cut to 200 characters. A header the client chose: it says
   * what the client claims to be, never who it is.
   */
  client: string | null;
  /**
   * Who wrote the answer's status: `ollama` when it is Ollama's own (a 404 for a model it does not
   * have is Ollama's), `gate` when the gate answered itself (a refusal, its own routes, or a 502/504
   * because Ollama could not be reached).
   */
  answeredBy: 'gate' | 'ollama';
  /**
   * The Ollama that answered, by its name (`default` for `upstream`); `all` for a model list merged
   * from every backend; null when no Ollama was asked.
   */
  backend: string | null;
}

export interface InstalledModel {
  name: string;
  /** bytes on disk */
  size: number;
  family: string | null;
  parameterSize: string | null;
  quantization: string | null;
  modifiedAt: string | null;
}

export interface LoadedModel {
  name: string;
  /** bytes in memory */
  size: number;
  /** bytes of it in GPU memory */
  sizeVram: number;
  /** when Ollama unloads it, ISO 8601 */
  expiresAt: string | null;
}

/** Ollama as the gate sees it, polled in the background. */
export interface HealthView {
  /** the upstream URL this describes */
  upstream: string;
  reachable: boolean;
  version: string | null;
  /** of the last /api/version call */
  latencyMs: number | null;
  /** why it is not reachable, in words */
  error: string | null;
  /** the same, as a code the window translates */
  reason: GateReason | null;
  checkedAt: number;
  models: InstalledModel[];
  loaded: LoadedModel[];
  /**
   * This machine's addresses (`192.168.1.5:11434`) where Ollama answers too although the gate
   * forwards to it on loopback: anyone on the network can walk around the gate there.
   */
  exposedOn: string[];
  /** recent probes, oldest first, for a latency chart (null: that probe failed) */
  latency: Array<{ time: number; ms: number | null }>;
}

/** Another Ollama the gate may send requests to, beside the default one (`upstream`). */
export interface BackendSetting {
  /** shown in the window, the log and `/health`; a client picks it with the X-Gate-Backend header */
  name: string;
  url: string;
  /** a disabled backend gets no requests and is not probed */
  enabled: boolean;
  /** among backends equally fit for a request (model loaded, requests in flight), the heavier gets it */
  weight: number;
}

/** The name the default Ollama (`upstream`) goes by in the window, the log and `/health`. */
export const DEFAULT_BACKEND_NAME = 'default';

/** An Ollama the gate forwards to, as the window sees it. */
export interface BackendView {
  name: string;
  url: string;
  /** the default one: requests that name no model go here, and with no other backend, all do */
  isDefault: boolean;
  enabled: boolean;
  weight: number;
  /** requests it is answering now */
  inFlight: number;
  /** it refused a connection: no requests go to it until its next good probe */
  skipped: boolean;
  /** its last probe; null before the first one (and while disabled) */
  health: HealthView | null;
}

export interface ProxyStatus {
  /** `error`: the proxy could not start; `listening` with an error: a restart failed and the previous listener still serves */
  state: 'stopped' | 'listening' | 'error';
  host: string;
  port: number;
  /** URLs clients can use, loopback first, LAN addresses when listening on all interfaces */
  urls: string[];
  error: string | null;
  /** the same, as a code the window translates */
  reason: GateReason | null;
  /** the HTTPS listener beside the HTTP one, when turned on */
  tls: TlsStatus | null;
}

export interface TlsStatus {
  port: number;
  urls: string[];
  /** SHA-256 fingerprint of the certificate, for clients that pin a self-signed one */
  fingerprint256: string | null;
  certFile: string | null;
  /** why HTTPS is not serving (HTTP goes on regardless) */
  error: string | null;
  /** the same, as a code the window translates (null when there is none for it: show `error`) */
  reason: GateReason | null;
}

/** One request of the window's test, and the gate's answer to it. */
export interface ProxyTestAnswer {
  /** what was requested */
  url: string;
  /** the gate's HTTP status; null when it could not be reached */
  status: number | null;
  durationMs: number;
  /** the gate's answer or the failure, in words */
  detail: string;
  /** the same, as a code the window translates (null for an answer the gate did not explain: show `detail`) */
  reason: GateReason | null;
  /** with a lockout or a rate limit: seconds until it lifts (the gate's Retry-After) */
  retryAfterSeconds: number | null;
}

/** The result of sending real requests through the gate's own listener, as a client would. */
export interface ProxyTestResult extends ProxyTestAnswer {
  /**
   * Tested without a key: the request above went without one too (what such a client gets), and
   * this is what `/health`, which needs none, answered. Null when a key was tested.
   */
  health: ProxyTestAnswer | null;
}

/** The proxy's settings; the same fields in both hosts and in the store file. */
export interface ProxySettings {
  /** 0.0.0.0 shares on the LAN, 127.0.0.1 keeps the gate on this machine */
  host: string;
  port: number;
  /** Ollama's base URL: the default backend */
  upstream: string;
  /**
   * More Ollamas beside `upstream`: a request naming a model goes to one that has it installed;
   * model lists (`/api/tags`, `/api/ps`, `/v1/models`) merge them all. Empty: one Ollama, as before.
   */
  backends: BackendSetting[];
  /** how long `POST /auth` trusts an IP, renewed by use; 0 turns IP sessions off */
  sessionTtlSeconds: number;
  /** how many IPs one key may trust at once; one more ends its least recently used session */
  maxSessionsPerKey: number;
  /** origins allowed by CORS; `*` allows any (with a key: IP trust is never given to a web page's request) */
  corsOrigins: string[];
  /** how much of a body the gate reads to find its model and `api_key`; a longer one streams through unread */
  maxInspectBytes: number;
  /** 0 = wait forever (a model load sends nothing for minutes) */
  upstreamHeadersTimeoutMs: number;
  upstreamBodyTimeoutMs: number;
  upstreamConnectTimeoutMs: number;
  /** all request headers together; more gets 431 */
  maxHeaderBytes: number;
  /** how long a client may take to send its headers; slower gets 408 */
  clientHeadersTimeoutMs: number;
  /** largest request body outside blob uploads; more gets 413. 0 = no limit */
  maxBodyBytes: number;
  /** the longest pause inside a request body; slower gets 408 */
  clientBodyTimeoutMs: number;
  /** how long a kept-alive connection may sit idle between requests */
  clientIdleTimeoutMs: number;
  /** client connections at once; more are closed as they arrive */
  maxConnections: number;
  /** body bytes the gate reads from a client whose key it does not know yet (looking for "api_key"); more gets 401 */
  maxUnauthenticatedBodyBytes: number;
  /** those bytes from all such clients together; over it, 503 with Retry-After */
  unauthenticatedBodyBudgetBytes: number;
  /** log request bodies (prompts), shortened */
  logRequestBodies: boolean;
  /** the most recent requests kept in the data folder across restarts; 0 keeps none on disk */
  logHistoryEntries: number;
  /** wrong keys from one address within the window that lock it out; 0 turns lockout off */
  lockoutMaxFailures: number;
  lockoutWindowSeconds: number;
  lockoutCooldownSeconds: number;
  /** an HTTPS listener beside the HTTP one */
  tlsEnabled: boolean;
  tlsPort: number;
  /** the user's own certificate and key (PEM files); without them a self-signed pair is made and kept */
  tlsCertFile: string | null;
  tlsKeyFile: string | null;
}

export type Language = 'system' | 'en' | 'zh-CN';

/** Settings only the desktop app has. */
export interface DesktopSettings {
  /** start the proxy when the app starts */
  startOnLaunch: boolean;
  /** start the app when the user logs in */
  launchAtLogin: boolean;
  /** macOS: show a Dock icon (the app lives in the menu bar by default) */
  showInDock: boolean;
  language: Language;
}

/** A setting this run's command line or environment decides. */
export interface PinnedSetting {
  field: keyof ProxySettings;
  /** the flag or environment variable that set it, as typed: `--port`, `OLLAMA_GATE_PORT` */
  by: string;
}

export interface SettingsView {
  proxy: ProxySettings;
  /** null in the headless host */
  desktop: DesktopSettings | null;
  /**
   * Proxy settings pinned for this run by a command-line flag or an environment variable (`by`:
   * `--port`, `OLLAMA_GATE_PORT`): shown read-only, and settings.update refuses to change them.
   */
  pinned: PinnedSetting[];
  /** the store file */
  storePath: string;
}

export interface SettingsPatch {
  proxy?: Partial<ProxySettings>;
  desktop?: Partial<DesktopSettings>;
}

export interface NetworkAddresses {
  /** this machine's non-loopback IPv4 addresses */
  addresses: string[];
  /** the proxy's URL on each of them, for the port it is configured on */
  lanUrls: string[];
  /** whether the proxy is set to listen on all interfaces */
  sharedOnLan: boolean;
}

export interface AppInfo {
  name: string;
  version: string;
  host: 'desktop' | 'headless';
  platform: string;
  /** runtime versions: node, and electron/chrome in the desktop app */
  versions: Record<string, string>;
  dataDir: string;
  logsDir: string;
}

/** The window's pages; the desktop host may ask the window to show one (`navigate`). */
export type GatePage = 'overview' | 'keys' | 'sessions' | 'logs' | 'usage' | 'settings';

/**
 * Where the window should go. A window the host opens for this starts at `#/<page>` (plus
 * `?action=<action>`); a window already open receives the `navigate` event instead.
 */
export interface Navigation {
  page: GatePage;
  /** `create-key`: open the new-key form */
  action?: 'create-key';
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

export type GateApiErrorCode =
  /** the request did not match the method's schema, or a value was refused */
  | 'invalid_input'
  /** no key or session with that id */
  | 'not_found'
  /** the proxy could not listen (port in use…); the previous listener, if any, keeps serving */
  | 'listen_failed'
  /** this host cannot do that (desktop settings in the headless host) */
  | 'unsupported'
  /** the caller is not the app's own window, or not the admin */
  | 'forbidden'
  /** the store file could not be read or written */
  | 'store_error'
  | 'unknown_method'
  | 'internal';

export interface GateApiError {
  code: GateApiErrorCode;
  /** readable, for the user */
  message: string;
  /** with invalid_input: which field and why */
  issues?: Array<{ path: string; message: string }>;
}

/** Every method answers with this: failures are values, never thrown strings. */
export type GateResult<T> = { ok: true; value: T } | { ok: false; error: GateApiError };

// ---------------------------------------------------------------------------------------------
// Methods and events
// ---------------------------------------------------------------------------------------------

interface Method<Request, Response> {
  request: Request;
  response: Response;
}

/** Every method by name, `namespace.action`: its request (void: takes none) and its response. */
export interface GateMethods {
  'keys.list': Method<void, KeyView[]>;
  /** the secret is in this answer and nowhere else, ever */
  'keys.create': Method<Pick<KeyFields, 'user'> & Partial<Omit<KeyFields, 'user'>> & { enabled?: boolean }, KeyWithSecret>;
  /** rename, re-assign, change scope, models, limits or expiry */
  'keys.update': Method<{ id: string } & Partial<KeyFields>, KeyView>;
  /** takes effect on the next request; disabling also ends the key's IP sessions */
  'keys.setEnabled': Method<{ id: string; enabled: boolean }, KeyView>;
  /** a new secret for the same key; the old one stops working at once, and IPs trusted through it lose that trust */
  'keys.rotate': Method<{ id: string }, KeyWithSecret>;
  'keys.remove': Method<{ id: string }, null>;

  'sessions.list': Method<void, SessionView[]>;
  'sessions.revoke': Method<{ ip: string }, null>;

  /** locked-out addresses, then those with recent wrong keys; the most recent first */
  'lockouts.list': Method<void, LockoutView[]>;
  /** lifts a lockout (or forgets the wrong keys counted so far) at once */
  'lockouts.unlock': Method<{ ip: string }, null>;

  'usage.query': Method<{ since?: string; keyId?: string } | void, UsageRow[]>;

  /** the bounded recent history, oldest first; `after` returns only entries with a greater seq */
  'logs.recent': Method<{ limit?: number; after?: number } | void, LogEntry[]>;

  /** every Ollama the gate forwards to, the default first, with its last probe and its load */
  'backends.list': Method<void, BackendView[]>;

  /** the last known health (probing first if there is none yet) */
  'health.get': Method<void, HealthView>;
  /** probes Ollama now */
  'health.check': Method<void, HealthView>;

  'proxy.status': Method<void, ProxyStatus>;
  'proxy.start': Method<void, ProxyStatus>;
  'proxy.stop': Method<void, ProxyStatus>;
  /** real requests through the gate: `/api/tags` with the key, or without one and then `/health` */
  'proxy.test': Method<{ key?: string } | void, ProxyTestResult>;

  'settings.get': Method<void, SettingsView>;
  /** applied live: a new host or port restarts the listener (refused and rolled back if it cannot listen) */
  'settings.update': Method<SettingsPatch, SettingsView>;

  'network.addresses': Method<void, NetworkAddresses>;

  'app.info': Method<void, AppInfo>;
}

/** Everything pushed to the window. */
export interface GateEvents {
  /** finished requests, batched: at most about ten messages a second however heavy the traffic */
  logs: LogEntry[];
  health: HealthView;
  /** the full list (backends.list) when a backend's state, models or settings change; load alone is not sent */
  backends: BackendView[];
  status: ProxyStatus;
  /** the full list after any change, here or in another process */
  keys: KeyView[];
  /** the full list (lockouts.list) after a wrong key, a lockout or an unlock; a lockout's end is not sent (see lockedUntil) */
  lockouts: LockoutView[];
  settings: SettingsView;
  /** desktop only: the tray asks the window to show a page */
  navigate: Navigation;
}

export type MethodName = keyof GateMethods;
export type EventName = keyof GateEvents;
export type GateRequest<M extends MethodName> = GateMethods[M]['request'];
export type GateResponse<M extends MethodName> = GateMethods[M]['response'];

/** The method names at run time, for transports that register or generate one entry per method. */
export const GATE_METHODS = [
  'keys.list',
  'keys.create',
  'keys.update',
  'keys.setEnabled',
  'keys.rotate',
  'keys.remove',
  'sessions.list',
  'sessions.revoke',
  'lockouts.list',
  'lockouts.unlock',
  'usage.query',
  'logs.recent',
  'backends.list',
  'health.get',
  'health.check',
  'proxy.status',
  'proxy.start',
  'proxy.stop',
  'proxy.test',
  'settings.get',
  'settings.update',
  'network.addresses',
  'app.info',
] as const satisfies readonly MethodName[];

export const GATE_EVENTS = ['logs', 'health', 'backends', 'status', 'keys', 'lockouts', 'settings', 'navigate'] as const satisfies readonly EventName[];

/** IPC channel names: one per method and one per event, derived, never typed by hand. */
export const methodChannel = (method: MethodName): `gate:${MethodName}` => `gate:${method}`;
export const eventChannel = (event: EventName): `gate:event:${EventName}` => `gate:event:${event}`;

// ---------------------------------------------------------------------------------------------
// The window's view: `window.gate`
// ---------------------------------------------------------------------------------------------

type Invoker<M extends MethodName> = [GateRequest<M>] extends [void]
  ? () => Promise<GateResult<GateResponse<M>>>
  : undefined extends GateRequest<M>
    ? (request?: Exclude<GateRequest<M>, void>) => Promise<GateResult<GateResponse<M>>>
    : (request: GateRequest<M>) => Promise<GateResult<GateResponse<M>>>;

type Namespace<M extends string> = M extends `${infer N}.${string}` ? N : never;

/**
 * `window.gate`: one function per method, grouped by namespace (`gate.keys.create({...})`), and
 * `on(event, listener)` that returns its unsubscribe function.
 */
export type GateApi = {
  readonly [N in Namespace<MethodName>]: {
    readonly [M in MethodName as M extends `${N}.${infer Action}` ? Action : never]: Invoker<M>;
  };
} & {
  on<E extends EventName>(event: E, listener: (payload: GateEvents[E]) => void): () => void;
};

// ---------------------------------------------------------------------------------------------
// Compile-time checks: a method or event missing from a list, or declared without its types, fails here.
// ---------------------------------------------------------------------------------------------

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

export type ContractChecks = [
  Assert<Equal<(typeof GATE_METHODS)[number], MethodName>>,
  Assert<Equal<(typeof GATE_EVENTS)[number], EventName>>,
  Assert<GateMethods extends { [M in MethodName]: Method<unknown, unknown> } ? true : false>,
  // every method name is `namespace.action`, so it has a place in GateApi
  Assert<MethodName extends `${string}.${string}` ? true : false>,
];
