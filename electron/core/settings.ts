import type { ProxySettings } from '../shared/contract.js';

/**
 * What the gate runs with. Hosts keep these in their store and may change them while it runs. The
 * contract declares the fields once (the window edits them); the core uses that declaration.
 */
export type GateSettings = ProxySettings;

export const DEFAULT_SETTINGS: GateSettings = {
  host: '0.0.0.0',
  port: 8000,
  upstream: 'http://127.0.0.1:11434',
  sessionTtlSeconds: 3600,
  corsOrigins: ['*'],
  maxInspectBytes: 16 * 1024 * 1024,
  upstreamHeadersTimeoutMs: 0,
  upstreamBodyTimeoutMs: 0,
  upstreamConnectTimeoutMs: 10_000,
  maxHeaderBytes: 32 * 1024,
  clientHeadersTimeoutMs: 30_000,
  maxBodyBytes: 0,
  logRequestBodies: false,
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
