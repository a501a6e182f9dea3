import type { AppInfo, BackendView, HealthView, KeyView, ProxySettings, ProxyStatus, SettingsView } from '../../../electron/shared/contract.js';

export function keyView(patch: Partial<KeyView> = {}): KeyView {
  return {
    id: 'k1',
    user: 'alice',
    name: null,
    scope: 'inference',
    models: [],
    rpm: null,
    concurrency: null,
    dailyTokens: null,
    expiresAt: null,
    prefix: 'og_abcd1',
    enabled: true,
    expired: false,
    createdAt: Date.now() - 86_400_000,
    lastUsedAt: null,
    lastUsedIp: null,
    today: { requests: 0, tokens: 0 },
    ...patch,
  };
}

export const STATUS: ProxyStatus = { state: 'listening', host: '127.0.0.1', port: 8000, urls: ['http://127.0.0.1:8000'], error: null, reason: null, tls: null };

export const HEALTH: HealthView = {
  upstream: 'http://127.0.0.1:11434',
  reachable: true,
  version: '0.12.6',
  latencyMs: 3,
  error: null,
  reason: null,
  checkedAt: Date.now(),
  models: [{ name: 'llama3.2:latest', size: 2_019_393_189, family: 'llama', parameterSize: '3.2B', quantization: 'Q4_K_M', modifiedAt: null }],
  loaded: [],
  exposedOn: [],
  latency: [{ time: Date.now(), ms: 3 }],
};

/** A backend as backends.list reports it: by default the default Ollama, up, with HEALTH's model. */
export function backendView(patch: Partial<BackendView> = {}): BackendView {
  return { name: 'default', url: HEALTH.upstream, isDefault: true, enabled: true, weight: 1, inFlight: 0, skipped: false, health: HEALTH, ...patch };
}

export const APP: AppInfo = { name: 'Ollama Gate', version: '0.1.0', host: 'headless', platform: 'linux', versions: {}, dataDir: '/tmp', logsDir: '/tmp' };

/**
 * The core's default settings, restated here because the renderer never imports the core;
 * electron/core/settings.test.ts keeps the two equal.
 */
export const DEFAULT_PROXY_SETTINGS: ProxySettings = {
  host: '0.0.0.0',
  port: 8000,
  upstream: 'http://127.0.0.1:11434',
  backends: [],
  sessionTtlSeconds: 3600,
  maxSessionsPerKey: 32,
  corsOrigins: [
    'http://localhost',
    'https://localhost',
    'http://localhost:*',
    'https://localhost:*',
    'http://127.0.0.1',
    'https://127.0.0.1',
    'http://127.0.0.1:*',
    'https://127.0.0.1:*',
    'app://*',
    'file://*',
    'tauri://*',
    'vscode-webview://*',
  ],
  maxInspectBytes: 16 * 1024 * 1024,
  upstreamHeadersTimeoutMs: 0,
  upstreamBodyTimeoutMs: 0,
  upstreamConnectTimeoutMs: 10_000,
  maxHeaderBytes: 32 * 1024,
  clientHeadersTimeoutMs: 30_000,
  maxBodyBytes: 0,
  clientBodyTimeoutMs: 30_000,
  clientIdleTimeoutMs: 65_000,
  maxConnections: 2_048,
  maxUnauthenticatedBodyBytes: 1024 * 1024,
  unauthenticatedBodyBudgetBytes: 64 * 1024 * 1024,
  logRequestBodies: false,
  logHistoryEntries: 1_000,
  lockoutMaxFailures: 10,
  lockoutWindowSeconds: 60,
  lockoutCooldownSeconds: 300,
  tlsEnabled: false,
  tlsPort: 8443,
  tlsCertFile: null,
  tlsKeyFile: null,
};

export const SETTINGS: SettingsView = {
  // The default settings, kept on this machine, with no CORS origin allowed.
  proxy: { ...DEFAULT_PROXY_SETTINGS, host: '127.0.0.1', corsOrigins: [] },
  desktop: null,
  pinned: [],
  storePath: '/tmp/gate.json',
};
