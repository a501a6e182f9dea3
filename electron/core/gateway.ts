import { type RequestListener, type Server, createServer } from 'node:http';
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
  /**
   * Applies a changed host or port: the new listener starts before the old one stops, and if it
   * cannot start, the old one keeps serving and the status carries the error.
   */
  restart(): Promise<GateStatus>;
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
  /** the live listener and the host and port it was asked for (the bound port differs when asked for 0) */
  let listener: { server: Server; host: string; port: number } | undefined;
  let status: GateStatus = { state: 'stopped', host: settings.current().host, port: settings.current().port, urls: [], error: null };
  const setStatus = (next: GateStatus) => {
    status = next;
    events.emit('status', next);
  };
  const adopt = (server: Server, host: string, port: number): GateStatus => {
    listener = { server, host, port };
    const bound = (server.address() as AddressInfo).port;
    setStatus({ state: 'listening', host, port: bound, urls: listeningUrls(host, bound), error: null });
    return status;
  };

  return {
    keys,
    sessions,
    events,
    status: () => status,
    checkHealth,

    async listen() {
      if (listener) return status;
      const { host, port } = settings.current();
      try {
        return adopt(await openListener(handler, host, port), host, port);
      } catch (error) {
        setStatus({ state: 'error', host, port, urls: [], error: (error as Error).message });
        throw error;
      }
    },

    async restart() {
      const { host, port } = settings.current();
      const previous = listener;
      if (!previous) return this.listen();
      const boundPort = (previous.server.address() as AddressInfo).port;
      if (previous.host === host && (previous.port === port || boundPort === port)) return status;
      try {
        const next = await openListener(handler, host, port).catch(async (error: ListenError) => {
          // The same port on another address collides with our own listener: free it, then bind.
          if (error.code !== 'EADDRINUSE' || port !== boundPort) throw error;
          await closeListener(previous.server, false);
          listener = undefined;
          return openListener(handler, host, port).catch(async (retryError: unknown) => {
            adopt(await openListener(handler, previous.host, previous.port), previous.host, previous.port);
            throw retryError;
          });
        });
        if (listener) void closeListener(previous.server, false);
        return adopt(next, host, port);
      } catch (error) {
        // The previous listener keeps serving; the status carries why the new one could not start.
        setStatus({ ...status, error: (error as Error).message });
        throw error;
      }
    },

    async close() {
      const closing = listener;
      listener = undefined;
      if (closing) await closeListener(closing.server, true);
      await upstream.close();
      keys.flushTouches();
      setStatus({ ...status, state: 'stopped', urls: [], error: null });
    },
  };
}

class ListenError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    options: ErrorOptions,
  ) {
    super(message, options);
  }
}

function openListener(handler: RequestListener, host: string, port: number): Promise<Server> {
  const server = createServer(
    {
      // A blob upload or a slow model may take far longer than Node's 5-minute request default.
      requestTimeout: 0,
      keepAliveTimeout: 65_000,
      noDelay: true,
    },
    handler,
  );
  server.on('clientError', (error, socket) => {
    if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy(error);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new ListenError(listenErrorMessage(error, host, port), error.code, { cause: error })));
    server.listen(port, host, () => resolve(server));
  });
}

/** Stops accepting; `force` also cuts open requests, otherwise they finish and idle connections close. */
function closeListener(server: Server, force: boolean): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    if (force) server.closeAllConnections();
    else server.closeIdleConnections();
  });
}

function listenErrorMessage(error: unknown, host: string, port: number): string {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') return `port ${port} is already in use on ${host}: stop the other program or choose another port`;
  if (code === 'EACCES') return `not allowed to listen on ${host}:${port}: choose a port above 1023`;
  if (code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine`;
  return `could not listen on ${host}:${port}: ${error instanceof Error ? error.message : String(error)}`;
}
