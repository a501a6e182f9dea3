import {
  type BackendSetting,
  DEFAULT_BACKEND_NAME,
  type GateApiError,
  type ProxySettings,
  type SettingsPatch,
  type SettingsView,
} from '../../../../electron/shared/contract.js';
import type { PlainMessageKey } from '../../i18n/translate.js';

/** The settings form as typed. */
export interface SettingsFormValues {
  host: string;
  port: string;
  upstream: string;
  /** the Ollamas beside the default one (`upstream`), in order */
  backends: BackendFormRow[];
  sessionTtlSeconds: string;
  maxSessionsPerKey: string;
  /** one origin per line (or separated by commas) */
  corsOrigins: string;
  tlsEnabled: boolean;
  tlsPort: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  logRequestBodies: boolean;
  // Limits, typed in the unit the form shows (see NUMBER_FIELDS): seconds for timeouts, MiB for sizes.
  maxConnections: string;
  clientHeadersTimeoutMs: string;
  clientBodyTimeoutMs: string;
  clientIdleTimeoutMs: string;
  maxBodyBytes: string;
  maxInspectBytes: string;
  maxUnauthenticatedBodyBytes: string;
  unauthenticatedBodyBudgetBytes: string;
  lockoutMaxFailures: string;
  lockoutWindowSeconds: string;
  lockoutCooldownSeconds: string;
  logHistoryEntries: string;
  /** desktop only */
  launchAtLogin: boolean;
}

/** One more Ollama, as typed. */
export interface BackendFormRow {
  /** React's key for the row, kept while its name is edited and rows above it are removed */
  key: string;
  name: string;
  url: string;
  weight: string;
  enabled: boolean;
}

export type SettingsField = keyof SettingsFormValues;
/** A backend's field, by its row: `backends.0.name`. (`backends` alone is the list: too many, say.) */
export type BackendColumn = 'name' | 'url' | 'weight';
export type BackendErrorKey = `backends.${number}.${BackendColumn}`;
export type SettingsErrorKey = SettingsField | BackendErrorKey;
export type SettingsErrors = Partial<Record<SettingsErrorKey, PlainMessageKey>>;

export const backendErrorKey = (index: number, column: BackendColumn): BackendErrorKey => `backends.${index}.${column}`;

/** The gate's limits on backends (electron/core/api-schemas.ts). */
export const MAX_BACKENDS = 16;
const BACKEND_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;
/** `default` is the upstream's name; `all` names a model list merged from every backend in the log. */
const RESERVED_BACKEND_NAMES = [DEFAULT_BACKEND_NAME, 'all'];

let newRows = 0;

/** An empty row for a new backend, on by default with the lightest weight. */
export function newBackendRow(): BackendFormRow {
  return { key: `new-${++newRows}`, name: '', url: '', weight: '1', enabled: true };
}

const MIB = 1024 * 1024;
const SECOND = 1000;

/**
 * A number the form shows in a human unit and the gate keeps in its own: `scale` stored units per
 * unit typed (MiB → bytes, seconds → ms). The range is the gate's (proxySettingsFields in
 * electron/core/api-schemas.ts), in stored units; `whole` refuses a fraction of the unit typed.
 */
interface NumberSpec {
  scale: number;
  min: number;
  max: number;
  whole: boolean;
  error: PlainMessageKey;
}

export type NumberField =
  | 'sessionTtlSeconds'
  | 'maxSessionsPerKey'
  | 'maxConnections'
  | 'clientHeadersTimeoutMs'
  | 'clientBodyTimeoutMs'
  | 'clientIdleTimeoutMs'
  | 'maxBodyBytes'
  | 'maxInspectBytes'
  | 'maxUnauthenticatedBodyBytes'
  | 'unauthenticatedBodyBudgetBytes'
  | 'lockoutMaxFailures'
  | 'lockoutWindowSeconds'
  | 'lockoutCooldownSeconds'
  | 'logHistoryEntries';

/** a day: the longest timeout the gate takes */
const DAY_MS = 24 * 3600 * 1000;

export const NUMBER_FIELDS: { readonly [F in NumberField]: NumberSpec } = {
  sessionTtlSeconds: { scale: 1, min: 0, max: 30 * 24 * 3600, whole: true, error: 'settings.error.ttl' },
  maxSessionsPerKey: { scale: 1, min: 1, max: 10_000, whole: true, error: 'settings.error.maxSessionsPerKey' },
  maxConnections: { scale: 1, min: 16, max: 1_000_000, whole: true, error: 'settings.error.maxConnections' },
  clientHeadersTimeoutMs: { scale: SECOND, min: 100, max: DAY_MS, whole: false, error: 'settings.error.clientTimeout' },
  clientBodyTimeoutMs: { scale: SECOND, min: 100, max: DAY_MS, whole: false, error: 'settings.error.clientTimeout' },
  clientIdleTimeoutMs: { scale: SECOND, min: 1_000, max: DAY_MS, whole: false, error: 'settings.error.idleTimeout' },
  maxBodyBytes: { scale: MIB, min: 0, max: Number.MAX_SAFE_INTEGER, whole: false, error: 'settings.error.maxBody' },
  maxInspectBytes: { scale: MIB, min: MIB, max: 1024 * MIB, whole: false, error: 'settings.error.maxInspect' },
  maxUnauthenticatedBodyBytes: { scale: MIB, min: 1024, max: 1024 * MIB, whole: false, error: 'settings.error.maxUnauthenticatedBody' },
  unauthenticatedBodyBudgetBytes: { scale: MIB, min: MIB, max: 16 * 1024 * MIB, whole: false, error: 'settings.error.unauthenticatedBudget' },
  lockoutMaxFailures: { scale: 1, min: 0, max: 10_000, whole: true, error: 'settings.error.lockoutFailures' },
  lockoutWindowSeconds: { scale: 1, min: 1, max: 24 * 3600, whole: true, error: 'settings.error.lockoutWindow' },
  lockoutCooldownSeconds: { scale: 1, min: 1, max: 7 * 24 * 3600, whole: true, error: 'settings.error.lockoutCooldown' },
  logHistoryEntries: { scale: 1, min: 0, max: 10_000, whole: true, error: 'settings.error.logHistory' },
};

const NUMBER_FIELD_NAMES = Object.keys(NUMBER_FIELDS) as NumberField[];

/** A stored value in the unit typed: 30000 ms → "30", 1048576 bytes → "1", 1024 bytes → "0.001" MiB. */
export function formatScaled(value: number, scale: number): string {
  if (scale === 1) return String(value);
  const typed = value / scale;
  const rounded = Number(typed.toFixed(3));
  // Never show a small limit as 0 (which may mean "no limit"): keep three significant digits.
  return String(rounded === 0 && typed !== 0 ? Number(typed.toPrecision(3)) : rounded);
}

/** What was typed, in stored units, or null when it is not a number in the field's range. */
export function parseScaled(text: string, spec: NumberSpec): number | null {
  const trimmed = text.trim();
  if (!(spec.whole ? /^\d+$/ : /^(?:\d+(?:\.\d*)?|\.\d+)$/).test(trimmed)) return null;
  const value = Math.round(Number(trimmed) * spec.scale);
  return Number.isSafeInteger(value) && value >= spec.min && value <= spec.max ? value : null;
}

export const LAN_HOST = '0.0.0.0';
export const LOCAL_HOST = '127.0.0.1';

export function isSharedOnLan(host: string): boolean {
  return host.trim() === '0.0.0.0' || host.trim() === '::';
}

/** What pins a setting for this run (`--port`, `OLLAMA_GATE_PORT`), or null when the form may change it. */
export function pinnedBy(view: SettingsView, field: keyof ProxySettings): string | null {
  return view.pinned.find((setting) => setting.field === field)?.by ?? null;
}

export function settingsFormFromView(view: SettingsView): SettingsFormValues {
  const { proxy } = view;
  return {
    host: proxy.host,
    port: String(proxy.port),
    upstream: proxy.upstream,
    backends: proxy.backends.map((backend, index) => ({
      key: `saved-${index}`,
      name: backend.name,
      url: backend.url,
      weight: String(backend.weight),
      enabled: backend.enabled,
    })),
    corsOrigins: proxy.corsOrigins.join('\n'),
    tlsEnabled: proxy.tlsEnabled,
    tlsPort: String(proxy.tlsPort),
    tlsCertFile: proxy.tlsCertFile ?? '',
    tlsKeyFile: proxy.tlsKeyFile ?? '',
    logRequestBodies: proxy.logRequestBodies,
    ...(Object.fromEntries(NUMBER_FIELD_NAMES.map((field) => [field, formatScaled(proxy[field], NUMBER_FIELDS[field].scale)])) as Record<NumberField, string>),
    launchAtLogin: view.desktop?.launchAtLogin ?? false,
  };
}

export type ParsedSettings = { ok: true; patch: SettingsPatch } | { ok: false; errors: SettingsErrors };

const HOST_PATTERN = /^(?:[0-9a-fA-F:.]+|[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?)$/;
/** A scheme and host, `*` allowed in either part: https://example.com:3000, http://localhost:*, app://* */
const ORIGIN_PATTERN = /^[a-z*][a-z0-9+.*-]*:\/\/[^/\s?#]+$/i;

/**
 * Checks the form as the gate will and returns only what changed: an untouched field is never
 * sent, and a setting pinned on the command line never is (the form shows it read-only).
 */
export function parseSettingsForm(values: SettingsFormValues, view: SettingsView): ParsedSettings {
  const errors: SettingsErrors = {};
  const current = settingsFormFromView(view);
  const host = values.host.trim();
  if (!host) errors.host = 'settings.error.hostRequired';
  else if (!HOST_PATTERN.test(host)) errors.host = 'settings.error.host';
  // A port the gate already has is kept as it is, even 0 (any free port, set on the command line).
  const port = values.port.trim() === current.port ? view.proxy.port : parsePort(values.port);
  if (port === null) errors.port = 'settings.error.port';
  const upstream = parseOllamaUrl(values.upstream);
  if (upstream === null) errors.upstream = 'settings.error.upstream';
  // Backends pinned on the command line are shown, never checked or sent.
  const backends = pinnedBy(view, 'backends') ? view.proxy.backends : parseBackends(values.backends, errors);
  // Numbers: a value the gate already has is kept as it is (a limit set on the command line need not
  // fit the form's unit or range); anything typed is converted to the stored unit and checked.
  const numbers: Partial<Record<NumberField, number>> = {};
  for (const field of NUMBER_FIELD_NAMES) {
    const spec = NUMBER_FIELDS[field];
    const value = values[field].trim() === current[field] ? view.proxy[field] : parseScaled(values[field], spec);
    if (value === null) errors[field] = spec.error;
    else numbers[field] = value;
  }
  const corsOrigins = [
    ...new Set(
      values.corsOrigins
        .split(/[\s,]+/)
        .filter(Boolean)
        .map((origin) => origin.replace(/\/+$/, '')),
    ),
  ];
  if (corsOrigins.some((origin) => origin !== '*' && !ORIGIN_PATTERN.test(origin))) errors.corsOrigins = 'settings.error.origin';
  const tlsPort = values.tlsPort.trim() === current.tlsPort ? view.proxy.tlsPort : parsePort(values.tlsPort);
  if (tlsPort === null) errors.tlsPort = 'settings.error.port';
  else if (values.tlsEnabled && tlsPort === port) errors.tlsPort = 'settings.error.samePort';
  const tlsCertFile = values.tlsCertFile.trim() || null;
  const tlsKeyFile = values.tlsKeyFile.trim() || null;
  if ((tlsCertFile === null) !== (tlsKeyFile === null)) errors[tlsCertFile ? 'tlsKeyFile' : 'tlsCertFile'] = 'settings.error.certPair';
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const wanted: Partial<ProxySettings> = {
    host,
    port: port!,
    upstream: upstream!,
    backends,
    ...numbers,
    corsOrigins,
    tlsEnabled: values.tlsEnabled,
    tlsPort: tlsPort!,
    tlsCertFile,
    tlsKeyFile,
    logRequestBodies: values.logRequestBodies,
  };
  const proxy: Partial<ProxySettings> = {};
  for (const [field, value] of Object.entries(wanted) as Array<[keyof ProxySettings, unknown]>) {
    if (pinnedBy(view, field)) continue;
    const current = field === 'backends' ? view.proxy.backends.map(backendSetting) : view.proxy[field];
    if (JSON.stringify(value) !== JSON.stringify(current)) Object.assign(proxy, { [field]: value });
  }
  const patch: SettingsPatch = {};
  if (Object.keys(proxy).length > 0) patch.proxy = proxy;
  if (view.desktop && values.launchAtLogin !== view.desktop.launchAtLogin) patch.desktop = { launchAtLogin: values.launchAtLogin };
  return { ok: true, patch };
}

/** An http(s) URL as the gate takes it, without a trailing slash; null when it is not one. */
function parseOllamaUrl(text: string): string | null {
  const trimmed = text.trim();
  try {
    const url = new URL(trimmed);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return /^https?:\/\//i.test(trimmed) ? trimmed.replace(/\/+$/, '') : null;
  } catch {
    return null;
  }
}

/** The same fields in the same order, whatever order the gate sent them in: for comparing. */
function backendSetting({ name, url, enabled, weight }: BackendSetting): BackendSetting {
  return { name, url, enabled, weight };
}

/** The rows as the gate will check them (api-schemas.ts), each mistake on its row's field. */
function parseBackends(rows: readonly BackendFormRow[], errors: SettingsErrors): BackendSetting[] {
  const names = new Set<string>();
  const backends = rows.map((row, index): BackendSetting => {
    const name = row.name.trim();
    const lower = name.toLowerCase();
    if (!name) errors[backendErrorKey(index, 'name')] = 'settings.error.backendNameRequired';
    else if (!BACKEND_NAME.test(name)) errors[backendErrorKey(index, 'name')] = 'settings.error.backendName';
    else if (RESERVED_BACKEND_NAMES.includes(lower)) errors[backendErrorKey(index, 'name')] = 'settings.error.backendNameReserved';
    else if (names.has(lower)) errors[backendErrorKey(index, 'name')] = 'settings.error.backendNameTaken';
    names.add(lower);
    const url = parseOllamaUrl(row.url);
    if (url === null) errors[backendErrorKey(index, 'url')] = row.url.trim() ? 'settings.error.upstream' : 'settings.error.backendUrlRequired';
    const weight = /^\d+$/.test(row.weight.trim()) ? Number(row.weight.trim()) : Number.NaN;
    if (!(weight >= 1 && weight <= 100)) errors[backendErrorKey(index, 'weight')] = 'settings.error.backendWeight';
    return { name, url: url ?? '', enabled: row.enabled, weight };
  });
  if (rows.length > MAX_BACKENDS) errors.backends = 'settings.error.backendsMax';
  return backends;
}

function parsePort(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  const port = Number(trimmed);
  return port >= 1 && port <= 65535 ? port : null;
}

/**
 * The gate's reasons by form field (`proxy.port` → port, `proxy.backends.1.url` → that row's URL,
 * anything else about the backends → the list); the rest, and non-field errors, in `general`.
 */
export function settingsErrorsFromIssues(error: GateApiError): { fields: Partial<Record<SettingsErrorKey, string>>; general: string | null } {
  const fields: Partial<Record<SettingsErrorKey, string>> = {};
  const rest: string[] = [];
  for (const issue of error.issues ?? []) {
    const [, name = '', index, column] = issue.path.split('.');
    const row = name === 'backends' && index !== undefined && /^\d+$/.test(index) && (column === 'name' || column === 'url' || column === 'weight');
    const field = (row ? backendErrorKey(Number(index), column) : Object.hasOwn(FIELD_NAMES, name) ? name : null) as SettingsErrorKey | null;
    if (field) fields[field] ??= issue.message;
    else rest.push(issue.path ? `${issue.path}: ${issue.message}` : issue.message);
  }
  const general = error.issues?.length ? (rest.length ? rest.join('; ') : null) : error.message;
  return { fields, general };
}

const FIELD_NAMES: Record<SettingsField, true> = {
  host: true,
  port: true,
  upstream: true,
  backends: true,
  sessionTtlSeconds: true,
  maxSessionsPerKey: true,
  corsOrigins: true,
  tlsEnabled: true,
  tlsPort: true,
  tlsCertFile: true,
  tlsKeyFile: true,
  logRequestBodies: true,
  maxConnections: true,
  clientHeadersTimeoutMs: true,
  clientBodyTimeoutMs: true,
  clientIdleTimeoutMs: true,
  maxBodyBytes: true,
  maxInspectBytes: true,
  maxUnauthenticatedBodyBytes: true,
  unauthenticatedBodyBudgetBytes: true,
  lockoutMaxFailures: true,
  lockoutWindowSeconds: true,
  lockoutCooldownSeconds: true,
  logHistoryEntries: true,
  launchAtLogin: true,
};
