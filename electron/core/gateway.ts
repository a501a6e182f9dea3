import type { RequestListener, Server } from 'node:http';
import type { Dispatcher } from 'undici';
import type { AddressInfo } from 'node:net';
import { BackendSet } from './backends.js';
import { type Clock, systemClock } from './clock.js';
import { Emitter, type GateStatus, type GatewayEvents } from './events.js';
import { findExposure } from './exposure.js';
import { ownViaEntry } from './headers.js';
import { HealthMonitor, type HealthMonitorOptions } from './health-monitor.js';
import { KeyRing } from './keyring.js';
import type { KeyStore } from './keys.js';
import { lanAddresses, listeningUrls } from './network.js';
import { reasonOf } from './errors.js';
import { type ListenError, applyClientLimits, closeListener, openListener } from './listener.js';
import { loadTlsMaterial } from './tls.js';
import { ByteBudget } from './request-body.js';
import { createRequestHandler } from './request-handler.js';
import { SessionCache } from './sessions.js';
import { type SettingsProvider, staticSettings } from './settings.js';
import { UploadedBlobs } from './uploaded-blobs.js';
import { UsageLedger } from './usage.js';
import { KeyLimits, Lockout } from './limits.js';
import { GATE_VERSION } from './version.js';

export interface GatewayOptions {
  keys: KeyStore;
  settings?: SettingsProvider;
  clock?: Clock;
  /** how long a health probe waits for Ollama */
  healthTimeoutMs?: number;
  /** where per-key usage is kept; without it usage lives in memory only */
  usageFile?: string;
  /** the data directory, where a self-signed HTTPS certificate is kept */
  dataDir?: string;
  /** addresses checked for an Ollama that answers beside the gate; defaults to this machine's LAN addresses */
  exposureAddresses?: () => string[];
  /** the health monitor's rhythm, or a test's own probe */
  health?: Pick<HealthMonitorOptions, 'intervalMs' | 'minBackoffMs' | 'maxBackoffMs' | 'historyMs' | 'probe'>;
}

export interface Gateway {
  readonly keys: KeyRing;
  readonly sessions: SessionCache;
  readonly events: Emitter<GatewayEvents>;
  /**
   * Ollama's health, for `GET /health` and the window alike: one monitor, probing through the
   * gateway's own connections to Ollama. It polls only once started (the service does); it lives
   * as long as the gateway, whose close() leaves it running for a window that shows Ollama's state
   * while the proxy is stopped.
   */
  readonly health: HealthMonitor;
  /** the default Ollama (whose monitor is `health`) and the others the settings add, each with its own monitor */
  readonly backends: BackendSet;
  readonly usage: UsageLedger;
  /** addresses locked out after repeated wrong keys */
  readonly lockout: Lockout;
  /** Starts listening on the configured host and port; rejects with a readable error (port in use…). */
  listen(): Promise<GateStatus>;
  /**
   * Applies a changed host, port or HTTPS setting to a running gate: the new listener starts before
   * the old one stops, and if it cannot start, the old one keeps serving and the status carries the
   * error (until the settings are back to what serves). A stopped gate stays stopped. listen(),
   * restart() and close() run one at a time, in the order called.
   */
  restart(): Promise<GateStatus>;
  /**
   * Stops listening and flushes key usage. Requests in flight get `graceMs` to finish (a stream
   * runs to its end); whatever is still open then is cut.
   */
  close(options?: { graceMs?: number }): Promise<void>;
  status(): GateStatus;
}

/** /health reuses a health state this young, so a burst of /health calls costs Ollama one probe. */
const HEALTH_CACHE_MS = 1_000;

export function createGateway(options: GatewayOptions): Gateway {
  const clock = options.clock ?? systemClock;
  const settings = options.settings ?? staticSettings();
  const keys = new KeyRing(options.keys, clock);
  const sessions = new SessionCache(
    clock,
    { ttlSeconds: () => settings.current().sessionTtlSeconds, maxPerKey: () => settings.current().maxSessionsPerKey },
    (id, secretHash) => keys.isUsable(id, secretHash),
  );
  const events = new Emitter<GatewayEvents>();
  const exposureAddresses = options.exposureAddresses ?? lanAddresses;
  const monitor = (upstream: () => string, dispatcher: () => Dispatcher) =>
    new HealthMonitor({
      ...options.health,
      upstream,
      dispatcher,
      timeoutMs: options.healthTimeoutMs ?? 3_000,
      exposure: (url) => findExposure(url, exposureAddresses()),
      now: () => clock.now(),
    });
  const health = monitor(
    () => settings.current().upstream,
    () => backends.default.target(settings.current()).pool,
  );
  const backends: BackendSet = new BackendSet({
    settings,
    defaultMonitor: health,
    createMonitor: (url, dispatcher) => monitor(() => url, dispatcher),
    now: () => clock.now(),
  });
  const usage = new UsageLedger(clock, options.usageFile);
  let usageLoaded: Promise<void> | undefined;

  // Accounting reads the finished request's log event: nothing on the request path waits for it.
  events.on('request', (entry) => {
    if (!entry.keyId || !entry.user) return;
    usage.record({
      keyId: entry.keyId,
      user: entry.user,
      time: entry.time,
      failed: entry.outcome !== 'ok' || entry.status >= 400,
      promptTokens: entry.promptTokens,
      completionTokens: entry.completionTokens,
      bytesIn: entry.bytesIn,
      bytesOut: entry.bytesOut,
      durationMs: entry.durationMs,
      backend: entry.backend,
    });
  });

  // A key disabled, expired, removed or rotated (here or by another process) ends its sessions at once.
  keys.onChange(() => sessions.prune());

  const limits = new KeyLimits(clock, (id) => usage.tokensToday(id));
  const lockout = new Lockout(clock, () => {
    const { lockoutMaxFailures, lockoutWindowSeconds, lockoutCooldownSeconds } = settings.current();
    return { maxFailures: lockoutMaxFailures, windowSeconds: lockoutWindowSeconds, cooldownSeconds: lockoutCooldownSeconds };
  });
  // Requests in flight, so a graceful close can wait for them.
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const handleRequest = createRequestHandler({
    keys,
    sessions,
    settings,
    backends,
    events,
    clock,
    limits,
    lockout,
    unauthenticatedBodies: new ByteBudget(() => settings.current().unauthenticatedBodyBudgetBytes),
    blobs: new UploadedBlobs(),
    via: ownViaEntry(),
    version: GATE_VERSION,
    health: () => health.recent(HEALTH_CACHE_MS),
    backendViews: async () => {
      const all = backends.all();
      // The others' probes, as young as the default's; a disabled one is not probed.
      await Promise.all(all.map((b) => (!b.isDefault && b.setting.enabled ? b.monitor.recent(HEALTH_CACHE_MS) : undefined)));
      return all.map((b) => b.view());
    },
    status: () => status,
    closed: () => {
      if (--inFlight === 0) drained?.();
    },
  });
  const handler: RequestListener = (req, res) => {
    inFlight++;
    handleRequest(req, res);
  };
  /** the live listener and the host and port it was asked for (the bound port differs when asked for 0) */
  let listener: { server: Server; host: string; port: number } | undefined;
  let status: GateStatus = { state: 'stopped', host: settings.current().host, port: settings.current().port, urls: [], error: null, reason: null, tls: null };
  /** the HTTPS listener beside the HTTP one: the settings it was started with, and what the status says of it */
  let secure: { server: Server; signature: string; view: TlsView; reopen: () => Promise<Server> } | undefined;
  const setStatus = (next: GateStatus) => {
    status = next;
    events.emit('status', next);
  };
  const clientLimits = () => {
    const { maxHeaderBytes, clientHeadersTimeoutMs, clientIdleTimeoutMs, maxConnections } = settings.current();
    return { maxHeaderBytes, headersTimeoutMs: clientHeadersTimeoutMs, idleTimeoutMs: clientIdleTimeoutMs, maxConnections };
  };
  const adopt = (server: Server, host: string, port: number): GateStatus => {
    listener = { server, host, port };
    const bound = boundPort(server);
    setStatus({ state: 'listening', host, port: bound, urls: listeningUrls(host, bound), error: null, reason: null, tls: status.tls });
    return status;
  };

  // Listeners change one at a time. Two changes at once (the window's settings write and the store
  // file's echo of it) would both find no HTTPS listener, both bind its port, and the one that lost
  // would report "port in use" for a port the gate itself serves on.
  let changing: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(change: () => Promise<T>): Promise<T> => {
    const run = changing.then(change, change);
    changing = run.catch(() => undefined);
    return run;
  };

  /**
   * Starts, moves or stops the HTTPS listener to match the settings. Its failure (port taken, bad
   * certificate) never stops plain HTTP: it is reported in the status instead, and an HTTPS listener
   * already running keeps serving where it was.
   */
  const syncTls = async (): Promise<void> => {
    const s = settings.current();
    const signature = s.tlsEnabled ? [s.host, s.tlsPort, s.tlsCertFile, s.tlsKeyFile].join('|') : '';
    const previous = secure;
    if ((previous?.signature ?? '') === signature) {
      // Nothing to change; an earlier failure is no longer true once the settings are back to what serves.
      const view = previous?.view ?? null;
      if (status.tls !== view) setStatus({ ...status, tls: view });
      return;
    }
    if (!signature) {
      secure = undefined;
      setStatus({ ...status, tls: null });
      await closeListener(previous!.server, false);
      return;
    }
    try {
      if (!options.dataDir && !s.tlsCertFile) throw new Error('HTTPS needs a data directory to keep its certificate, or a certificate file');
      const material = await loadTlsMaterial({ certFile: s.tlsCertFile, keyFile: s.tlsKeyFile, dataDir: options.dataDir ?? '' });
      const open = () => openListener(handler, s.host, s.tlsPort, clientLimits(), material);
      const server = await takeOver(previous, s.tlsPort, open, (reopened) => (previous!.server = reopened));
      const port = boundPort(server);
      const view = {
        port,
        urls: listeningUrls(s.host, port, 'https'),
        fingerprint256: material.fingerprint256,
        certFile: material.certFile,
        error: null,
        reason: null,
      };
      secure = { server, signature, view, reopen: () => openListener(handler, s.host, port, clientLimits(), material) };
    } catch (error) {
      const failure = { error: `HTTPS: ${(error as Error).message}`, reason: reasonOf(error) };
      // (the previous one is gone only when it made way for the new one and could not be opened again)
      if (!previous?.server.listening) secure = undefined;
      setStatus({ ...status, tls: secure ? { ...secure.view, ...failure } : { port: s.tlsPort, urls: [], fingerprint256: null, certFile: null, ...failure } });
      return;
    }
    setStatus({ ...status, tls: secure.view });
  };

  const closeAll = async (graceMs: number): Promise<void> => {
    const closing = [listener?.server, secure?.server].filter((server) => server !== undefined);
    listener = undefined;
    secure = undefined;
    const closed = Promise.all(closing.map((server) => closeListener(server, false)));
    if (graceMs > 0 && inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      drained = undefined;
    }
    for (const server of closing) server.closeAllConnections();
    await closed;
    await backends.closeConnections();
    await keys.flushTouches();
    await usage.flush().catch((error: unknown) => console.error(`ollama-gate: could not save usage: ${(error as Error).message}`));
    setStatus({ ...status, state: 'stopped', urls: [], error: null, reason: null, tls: null });
  };

  return {
    keys,
    sessions,
    events,
    usage,
    lockout,
    health,
    backends,
    status: () => status,

    listen: () =>
      oneAtATime(async () => {
        if (listener) return status;
        // A broken usage file is reported and left alone; the gate serves and counts from zero in memory.
        usageLoaded ??= usage.load().catch((error: unknown) => console.error(`ollama-gate: ${(error as Error).message}`));
        await usageLoaded;
        const { host, port } = settings.current();
        try {
          adopt(await openListener(handler, host, port, clientLimits()), host, port);
        } catch (error) {
          setStatus({ state: 'error', host, port, urls: [], error: (error as Error).message, reason: reasonOf(error), tls: null });
          throw error;
        }
        await syncTls();
        return status;
      }),

    restart: () =>
      oneAtATime(async () => {
        const { host, port } = settings.current();
        const previous = listener;
        if (!previous) return status; // stopped: the new settings apply at the next listen()
        for (const server of [previous.server, secure?.server]) if (server) applyClientLimits(server, clientLimits());
        await syncTls();
        if (previous.host === host && (previous.port === port || boundPort(previous.server) === port)) {
          // Where it serves already: an earlier failure to move is no longer true.
          if (status.error) setStatus({ ...status, error: null, reason: null });
          return status;
        }
        try {
          const was = boundPort(previous.server);
          const reopen = () => openListener(handler, previous.host, was, clientLimits());
          const next = await takeOver(
            { server: previous.server, reopen },
            port,
            () => openListener(handler, host, port, clientLimits()),
            (reopened) => adopt(reopened, previous.host, previous.port),
          );
          return adopt(next, host, port);
        } catch (error) {
          // The previous listener keeps serving; the status carries why the new one could not start.
          const failure = { error: (error as Error).message, reason: reasonOf(error) };
          if (listener?.server.listening) setStatus({ ...status, ...failure });
          else {
            // It made way for the new one and could not be opened again: nothing serves HTTP now.
            listener = undefined;
            setStatus({ ...status, ...failure, state: 'error', host, port, urls: [] });
          }
          throw error;
        }
      }),

    close({ graceMs = 0 } = {}) {
      drained?.(); // a close during a graceful one ends its grace now
      return oneAtATime(() => closeAll(graceMs));
    },
  };
}

type TlsView = NonNullable<GateStatus['tls']>;

function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/**
 * Opens a listener that takes over from `previous` and closes the previous one: the new one starts
 * first, so clients never find the gate gone. When it wants the previous one's own port (another
 * address or certificate on it), the previous one makes way, and is opened again if the new one
 * cannot start (`reopened` gets it). Rejects when the new one cannot start.
 */
async function takeOver(
  previous: { server: Server; reopen: () => Promise<Server> } | undefined,
  port: number,
  open: () => Promise<Server>,
  reopened: (server: Server) => void,
): Promise<Server> {
  try {
    const next = await open();
    if (previous) void closeListener(previous.server, false);
    return next;
  } catch (error) {
    if (!previous || (error as ListenError).code !== 'EADDRINUSE' || port !== boundPort(previous.server)) throw error;
    await closeListener(previous.server, false);
    try {
      return await open();
    } catch (retryError) {
      // Should even that fail, the caller finds the previous one closed: nothing serves there now.
      await previous.reopen().then(reopened, () => undefined);
      throw retryError;
    }
  }
}
