/**
 * The gate as both hosts run it: the desktop app's main process and `ollama-gate serve` call this
 * one composition, so they wire the same parts the same way — the gateway, its health monitor, the
 * service behind the window, one logging setup (gate.log, rotated, written in the background, one
 * line per request in batches, one line per change of Ollama or the listeners) and one owner of
 * shutdown. A host adds only what is its own: the store's backend, the tray and window, or the web
 * admin and signals.
 */
import { join } from 'node:path';
import type { NodeLogger } from 'electron-log';
import type { AppInfo, HealthView, PinnedSetting, ProxyStatus } from '../shared/contract.js';
import type { Backend } from './backends.js';
import type { GateStore } from './gate-store.js';
import { type Gateway, createGateway } from './gateway.js';
import { IdleCompaction } from './idle-memory.js';
import { configureLogging } from './logging.js';
import { RequestLog } from './request-log.js';
import { type DesktopSettingsHost, type GateService, createGateService } from './service.js';
import { type StateLine, healthLines, statusLines } from './state-lines.js';
import { USAGE_FILE } from './usage.js';

export interface GateHostOptions {
  /** the opened store: keys and settings, watched for changes by other processes */
  store: GateStore;
  /** the data folder: usage, the HTTPS certificate and the request history live there */
  dataDir: string;
  /** where gate.log is written */
  logsDir: string;
  /** electron-log's logger: electron-log/main in the app, electron-log/node for serve */
  logger: NodeLogger;
  /** the window's "about": name, version, host, platform, runtime versions */
  app: Omit<AppInfo, 'dataDir' | 'logsDir'>;
  /** the request history's file name in the data folder: each host keeps its own */
  historyFile: string;
  /** the desktop app's own settings (none in the headless host) */
  desktop?: DesktopSettingsHost;
  /** settings this run's command line or environment decides */
  pinned?: PinnedSetting[];
  /** look for an Ollama that also answers on this machine's LAN addresses (default true) */
  lanCheck?: boolean;
}

export interface GateHost {
  readonly gateway: Gateway;
  readonly service: GateService;
  /**
   * Stops everything, once, in order: the service (which closes the listeners, giving requests in
   * flight `graceMs` to finish, then flushes its log batches and history), the health monitor, the
   * request log, the store. Calling it again returns the same promise; `hurry()` cuts the grace short.
   */
  close(options?: { graceMs?: number }): Promise<void>;
  /** During close: ends the grace now, cutting what is still open. */
  hurry(): void;
}

/** Before the first listen: every URL and HTTPS state is news. */
const NOT_LISTENING: ProxyStatus = { state: 'stopped', host: '', port: 0, urls: [], error: null, reason: null, tls: null };

export function createGateHost(options: GateHostOptions): GateHost {
  const { store, dataDir, logsDir, logger } = options;
  configureLogging(logger, logsDir);
  const gateway = createGateway({
    keys: store,
    settings: store,
    dataDir,
    usageFile: join(dataDir, USAGE_FILE),
    exposureAddresses: options.lanCheck === false ? () => [] : undefined,
  });
  const service = createGateService({
    gateway,
    store,
    desktop: options.desktop,
    pinned: options.pinned,
    logHistoryFile: join(dataDir, options.historyFile),
    app: { ...options.app, dataDir, logsDir },
  });

  // One line per request, written in batches off the request path.
  const requestLog = new RequestLog(logger);
  const print = (lines: StateLine[]) => {
    for (const { level, text } of lines) logger[level](text);
  };
  // One line per change an operator must know of: Ollama down or back, exposed on the LAN, a new
  // port, HTTPS on or off. Shutting down, the listeners closing and the probes cut are expected, not news.
  let closing: Promise<void> | undefined;
  let status = NOT_LISTENING;
  let ollama = gateway.health.current();
  /** the other backends' last states printed */
  const others = new WeakMap<Backend, HealthView>();
  const compaction = new IdleCompaction();
  const unsubscribe = [
    gateway.events.on('request', (entry) => {
      requestLog.add(entry);
      compaction.noteRequest();
    }),
    gateway.events.on('status', (next) => {
      if (!closing) print(statusLines(status, next));
      status = next;
    }),
    gateway.health.onChange((next) => {
      if (!closing) print(healthLines(ollama, next));
      ollama = next;
    }),
    gateway.backends.onChange(() => {
      if (closing) return;
      for (const backend of gateway.backends.all()) {
        const next = backend.monitor.current();
        if (backend.isDefault || !next || !backend.setting.enabled) continue;
        print(healthLines(others.get(backend), next, backend.name));
        others.set(backend, next);
      }
    }),
  ];

  return {
    gateway,
    service,
    hurry: () => void gateway.close().catch(() => undefined),
    close({ graceMs = 0 } = {}) {
      closing ??= (async () => {
        try {
          await service.close({ graceMs });
          gateway.health.close();
          await gateway.backends.close();
        } catch (error) {
          logger.error('error while closing:', error);
        } finally {
          for (const stop of unsubscribe) stop();
          compaction.stop();
          requestLog.flush();
          store.close();
        }
      })();
      return closing;
    },
  };
}
