/** What the gate runs with. Hosts keep these in their store and may change them while it runs. */
export interface GateSettings {
  /** address the proxy listens on: 0.0.0.0 shares on the LAN, 127.0.0.1 keeps it on this machine */
  host: string;
  port: number;
  /** Ollama's base URL */
  upstream: string;
  /** how long a `POST /auth` trusts an IP, renewed by use; 0 turns IP sessions off */
  sessionTtlSeconds: number;
  /** origins allowed by CORS; `*` allows any */
  corsOrigins: string[];
  /** how much of a JSON body is read to find `api_key` and `model`; larger bodies stream through unread */
  maxInspectBytes: number;
  /** 0 = wait forever: a model load sends nothing for minutes, so no default may cut it */
  upstreamHeadersTimeoutMs: number;
  /** longest silence inside a response body; 0 = none */
  upstreamBodyTimeoutMs: number;
  /** how long connecting to Ollama may take */
  upstreamConnectTimeoutMs: number;
  /** all request headers together; more gets 431 */
  maxHeaderBytes: number;
  /** how long a client may take to send its headers; slower gets 408 */
  clientHeadersTimeoutMs: number;
  /** largest request body outside blob uploads; more gets 413. 0 = no limit */
  maxBodyBytes: number;
  /** log request bodies (prompts), shortened; off by default */
  logRequestBodies: boolean;
  /** failed keys from one address within the window that lock it out; 0 turns lockout off */
  lockoutMaxFailures: number;
  lockoutWindowSeconds: number;
  lockoutCooldownSeconds: number;
  /** an HTTPS listener beside the HTTP one */
  tlsEnabled: boolean;
  tlsPort: number;
  /** the user's own certificate and key (PEM); without them a self-signed pair is made and kept */
  tlsCertFile: string | null;
  tlsKeyFile: string | null;
}

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
