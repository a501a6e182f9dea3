import { DEFAULT_SETTINGS } from '../../../electron/core/settings.js';
import type { AppInfo, HealthView, KeyView, ProxyStatus, SettingsView } from '../../../electron/shared/contract.js';

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

export const APP: AppInfo = { name: 'Ollama Gate', version: '0.1.0', host: 'headless', platform: 'linux', versions: {}, dataDir: '/tmp', logsDir: '/tmp' };

export const SETTINGS: SettingsView = {
  // The core's defaults, kept on this machine, with no CORS origin allowed.
  proxy: { ...DEFAULT_SETTINGS, host: '127.0.0.1', corsOrigins: [] },
  desktop: null,
  pinned: [],
  storePath: '/tmp/gate.json',
};
