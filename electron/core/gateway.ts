import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from './clock.js';
import { GateEmitter, type GateStatus } from './events.js';
import { type OllamaHealth, probeOllama } from './health.js';
import { KeyRing } from './keyring.js';
import type { KeyStore } from './keys.js';
import { listeningUrls } from './network.js';
import { createRequestHandler } from './proxy.js';
import { SessionCache } from './sessions.js';
import { type SettingsProvider, staticSettings } from './settings.js';
import { UpstreamPool } from './upstream.js';
import { GATE_VERSION } from './version.js';

export interface GatewayOptions {
  keys: KeyStore;
  settings?: SettingsProvider;
  clock?: Clock;
  /** how long /health waits for Ollama */
  healthTimeoutMs?: number;
}

export interface Gateway {
  readonly keys: KeyRing;
  readonly sessions: SessionCache;
  readonly events: GateEmitter;
  /** Starts listening on the configured host and port; rejects with a readable error (port in use…). */
  listen(): Promise<GateStatus>;
  /** Stops listening, ends open connections and flushes key usage. */
  close(): Promise<void>;
  status(): GateStatus;
  checkHealth(): Promise<OllamaHealth>;
}

/** Health answers are reused this long, so a burst of /health calls costs Ollama one probe. */
const HEALTH_CACHE_MS = 1_000;

export function createGateway(options: GatewayOptions): Gateway {
  const clock = options.clock ?? systemClock;
  const settings = options.settings ?? staticSettings();
  const keys = new KeyRing(options.keys, clock);
  const sessions = new SessionCache(clock, () => settings.current().sessionTtlSeconds, (id) => keys.isUsable(id));
  const events = new GateEmitter();
  const upstream = new UpstreamPool();
  const healthTimeoutMs = options.healthTimeoutMs ?? 3_000;

  // A key disabled, expired or removed (here or by another process) ends its sessions at once.
  keys.onChange(() => sessions.prune());

  let lastHealth: Promise<OllamaHealth> | undefined;
  let lastHealthAt = 0;
  const checkHealth = (): Promise<OllamaHealth> => {
    if (lastHealth && clock.now() - lastHealthAt < HEALTH_CACHE_MS) return lastHealth;
    const target = upstream.target(settings.current());
    lastHealthAt = clock.now();
    lastHealth = probeOllama(target.pool, target.basePath, target.url, healthTimeoutMs, () => clock.now());
    return lastHealth;
  };

  const handler = createRequestHandler({ keys, sessions, settings, upstream, events, clock, version: GATE_VERSION, health: checkHealth });
  let server: Server | undefined;
  let status: GateStatus = { state: 'stopped', host: settings.current().host, port: settings.current().port, urls: [], error: null };
  const setStatus = (next: GateStatus) => {
    status = next;
    events.emit('status', next);
  };

  return {
    keys,
    sessions,
    events,
    status: () => status,
    checkHealth,

    async listen() {
      if (server) return status;
      const { host, port } = settings.current();
      const candidate = createServer({
        // A blob upload or a slow model may take far longer than Node's 5-minute request default.
        requestTimeout: 0,
        keepAliveTimeout: 65_000,
        noDelay: true,
      }, handler);
      try {
        await new Promise<void>((resolve, reject) => {
          candidate.once('error', reject);
          candidate.listen(port, host, () => {
            candidate.off('error', reject);
            resolve();
          });
        });
      } catch (error) {
        const message = listenErrorMessage(error, host, port);
        setStatus({ state: 'error', host, port, urls: [], error: message });
        throw new Error(message, { cause: error });
      }
      candidate.on('clientError', (error, socket) => {
        if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        else socket.destroy(error);
      });
      server = candidate;
      const bound = (server.address() as AddressInfo).port;
      setStatus({ state: 'listening', host, port: bound, urls: listeningUrls(host, bound), error: null });
      return status;
    },

    async close() {
      const closing = server;
      server = undefined;
      if (closing) {
        await new Promise<void>((resolve) => {
          closing.close(() => resolve());
          closing.closeAllConnections();
        });
      }
      await upstream.close();
      keys.flushTouches();
      setStatus({ ...status, state: 'stopped', urls: [], error: null });
    },
  };
}

function listenErrorMessage(error: unknown, host: string, port: number): string {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') return `port ${port} is already in use on ${host}: stop the other program or choose another port`;
  if (code === 'EACCES') return `not allowed to listen on ${host}:${port}: choose a port above 1023`;
  if (code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine`;
  return `could not listen on ${host}:${port}: ${error instanceof Error ? error.message : String(error)}`;
}
