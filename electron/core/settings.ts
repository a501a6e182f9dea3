import type { ProxySettings } from '../shared/contract.js';

/**
 * What the gate runs with. Hosts keep these in their store and may change them while it runs. The
 * contract declares the fields once (the window edits them); the core uses that declaration.
 */
export type GateSettings = ProxySettings;

/**
 * The origins allowed by default: pages on this machine's own loopback names and desktop app shells
 * (what Ollama itself allows). Programs (LangChain, the SDKs, curl) send no Origin and need no entry.
 */
const LOCAL_ORIGINS = [
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
];

export const DEFAULT_SETTINGS: GateSettings = {
  host: '0.0.0.0',
  port: 8000,
  upstream: 'http://127.0.0.1:11434',
  backends: [],
  sessionTtlSeconds: 3600,
  maxSessionsPerKey: 32,
  corsOrigins: LOCAL_ORIGINS,
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

/** The settings source a host injects; read on every request so changes apply at once. */
export interface SettingsProvider {
  current(): GateSettings;
}

export function staticSettings(overrides: Partial<GateSettings> = {}): SettingsProvider {
  const settings = { ...DEFAULT_SETTINGS, ...overrides };
  return { current: () => settings };
}
