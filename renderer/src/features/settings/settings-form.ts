import type { GateApiError, ProxySettings, SettingsPatch, SettingsView } from '../../../../electron/shared/contract.js';
import type { PlainMessageKey } from '../../i18n/translate.js';

/** The settings form as typed. */
export interface SettingsFormValues {
  host: string;
  port: string;
  upstream: string;
  sessionTtlSeconds: string;
  /** one origin per line (or separated by commas) */
  corsOrigins: string;
  tlsEnabled: boolean;
  tlsPort: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  logRequestBodies: boolean;
  /** desktop only */
  launchAtLogin: boolean;
}

export type SettingsField = keyof SettingsFormValues;
export type SettingsErrors = Partial<Record<SettingsField, PlainMessageKey>>;

export const LAN_HOST = '0.0.0.0';
export const LOCAL_HOST = '127.0.0.1';

export function isSharedOnLan(host: string): boolean {
  return host.trim() === '0.0.0.0' || host.trim() === '::';
}

export function settingsFormFromView(view: SettingsView): SettingsFormValues {
  const { proxy } = view;
  return {
    host: proxy.host,
    port: String(proxy.port),
    upstream: proxy.upstream,
    sessionTtlSeconds: String(proxy.sessionTtlSeconds),
    corsOrigins: proxy.corsOrigins.join('\n'),
    tlsEnabled: proxy.tlsEnabled,
    tlsPort: String(proxy.tlsPort),
    tlsCertFile: proxy.tlsCertFile ?? '',
    tlsKeyFile: proxy.tlsKeyFile ?? '',
    logRequestBodies: proxy.logRequestBodies,
    launchAtLogin: view.desktop?.launchAtLogin ?? false,
  };
}

export type ParsedSettings = { ok: true; patch: SettingsPatch } | { ok: false; errors: SettingsErrors };

const HOST_PATTERN = /^(?:[0-9a-fA-F:.]+|[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?)$/;
/** A scheme and host, `*` allowed in either part: https://example.com:3000, http://localhost:*, app://* */
const ORIGIN_PATTERN = /^[a-z*][a-z0-9+.*-]*:\/\/[^/\s?#]+$/i;

/**
 * Checks the form as the gate will and returns only what changed: an untouched field is never
 * sent, so a value pinned on the command line is not rewritten by saving something else.
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
  let upstream = values.upstream.trim();
  try {
    const url = new URL(upstream);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    upstream = upstream.replace(/\/+$/, '');
  } catch {
    errors.upstream = 'settings.error.upstream';
  }
  const ttlText = values.sessionTtlSeconds.trim();
  const ttl = /^\d+$/.test(ttlText) ? Number(ttlText) : Number.NaN;
  if (!Number.isInteger(ttl) || ttl > 30 * 24 * 3600) errors.sessionTtlSeconds = 'settings.error.ttl';
  const corsOrigins = [...new Set(values.corsOrigins.split(/[\s,]+/).filter(Boolean).map((origin) => origin.replace(/\/+$/, '')))];
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
    upstream,
    sessionTtlSeconds: ttl,
    corsOrigins,
    tlsEnabled: values.tlsEnabled,
    tlsPort: tlsPort!,
    tlsCertFile,
    tlsKeyFile,
    logRequestBodies: values.logRequestBodies,
  };
  const proxy: Partial<ProxySettings> = {};
  for (const [field, value] of Object.entries(wanted) as Array<[keyof ProxySettings, unknown]>) {
    if (JSON.stringify(value) !== JSON.stringify(view.proxy[field])) Object.assign(proxy, { [field]: value });
  }
  const patch: SettingsPatch = {};
  if (Object.keys(proxy).length > 0) patch.proxy = proxy;
  if (view.desktop && values.launchAtLogin !== view.desktop.launchAtLogin) patch.desktop = { launchAtLogin: values.launchAtLogin };
  return { ok: true, patch };
}

function parsePort(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  const port = Number(trimmed);
  return port >= 1 && port <= 65535 ? port : null;
}

/** The gate's reasons by form field (`proxy.port` → port); the rest, and non-field errors, in `general`. */
export function settingsErrorsFromIssues(error: GateApiError): { fields: Partial<Record<SettingsField, string>>; general: string | null } {
  const fields: Partial<Record<SettingsField, string>> = {};
  const rest: string[] = [];
  for (const issue of error.issues ?? []) {
    const [, name = ''] = issue.path.split('.');
    const field = (name in FIELD_NAMES ? name : null) as SettingsField | null;
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
  sessionTtlSeconds: true,
  corsOrigins: true,
  tlsEnabled: true,
  tlsPort: true,
  tlsCertFile: true,
  tlsKeyFile: true,
  logRequestBodies: true,
  launchAtLogin: true,
};
