import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import log from 'electron-log/node';
import { createGateway } from '../core/gateway.js';
import { HealthMonitor } from '../core/health-monitor.js';
import { createGateService } from '../core/service.js';
import type { GateSettings } from '../core/settings.js';
import { privateLogFile } from '../core/log-line.js';
import { GATE_VERSION } from '../core/version.js';
import { USAGE_FILE } from '../core/usage.js';
import { type AdminServer, type AdminService, startAdminServer } from './admin-http.js';
import { openStore } from './open-store.js';
import { RequestLog } from './request-log.js';

export interface ServeOptions {
  dataDir?: string;
  overrides: Partial<GateSettings>;
  /** the loopback web admin's port (0: any free one); null turns the admin off */
  adminPort: number | null;
}

/** The built renderer, beside the built CLI (dist/cli → dist/renderer). */
const RENDERER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'renderer');

/** Runs the gate in the foreground until SIGINT or SIGTERM, one log line per request. */
export async function serve({ dataDir, overrides, adminPort }: ServeOptions): Promise<void> {
  const store = openStore(dataDir, overrides);
  const directory = dirname(store.path);
  const logsDir = join(directory, 'logs');
  configureLog(join(logsDir, 'gate.log'));
  store.watch();
  // OLLAMA_GATE_LAN_CHECK=0 skips looking for an Ollama that answers on this machine's LAN addresses.
  const lanCheck = process.env.OLLAMA_GATE_LAN_CHECK !== '0';
  const gateway = createGateway({
    keys: store,
    settings: store,
    dataDir: directory,
    usageFile: join(directory, USAGE_FILE),
    exposureAddresses: lanCheck ? undefined : () => [],
  });
  const health = new HealthMonitor({ upstream: () => store.current().upstream, ...(lanCheck ? {} : { exposure: async () => [] }) });
  // GateApi for the web admin. The service also applies settings changed in the store file (by
  // the desktop app, the admin page or another process) to the running listener.
  const service = createGateService({
    gateway,
    store,
    health,
    app: { name: 'Ollama Gate', version: GATE_VERSION, host: 'headless', platform: process.platform, versions: { node: process.versions.node }, dataDir: directory, logsDir },
  });
  const settings = store.current();

  // One line per request, written in batches off the request path.
  const requestLog = new RequestLog(log);
  gateway.events.on('request', (entry) => requestLog.add(entry));
  gateway.events.on('status', (status) => {
    // A restart that failed leaves the previous listener serving, with the reason in the status.
    if (status.state === 'listening' && status.error) log.error(`could not apply the new settings: ${status.error}`);
  });

  const status = await gateway.listen();
  const keyCount = gateway.keys.list().length;
  log.info(`Ollama Gate ${GATE_VERSION}: forwarding to ${settings.upstream}`);
  log.info(`Store: ${store.path} (${keyCount} key${keyCount === 1 ? '' : 's'})`);
  log.info(`Listening on ${status.urls.join('  ')}`);
  if (status.tls?.error) log.error(status.tls.error);
  else if (status.tls) {
    log.info(`HTTPS on ${status.tls.urls.join('  ')}`);
    log.info(`Certificate ${status.tls.certFile}, SHA-256 fingerprint ${status.tls.fingerprint256}`);
  }
  if (keyCount === 0) log.warn('No keys yet: create one with `ollama-gate keys add NAME` (this gate refuses every request until then)');
  const ollama = await gateway.checkHealth();
  if (ollama.reachable) log.info(`Ollama ${ollama.version ?? '(unknown version)'} answers at ${settings.upstream}`);
  else log.warn(`Ollama is not reachable yet: ${ollama.error}`);
  for (const address of ollama.exposedOn) {
    log.warn(`Ollama also answers on ${address}: anyone on your network can reach it without a key. Restart Ollama with OLLAMA_HOST=127.0.0.1`);
  }
  service.start();
  const admin = adminPort === null ? undefined : await startAdmin(service, adminPort);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info(`${signal}: shutting down; open requests get ${SHUTDOWN_GRACE_MS / 1000} s to finish (${signal} again to stop now)`);
      // A second signal cuts the grace short.
      const hurry = () => void gateway.close().catch(() => {});
      process.once('SIGINT', hurry);
      process.once('SIGTERM', hurry);
      Promise.resolve(admin?.close())
        .then(() => gateway.close({ graceMs: SHUTDOWN_GRACE_MS }))
        .then(() => service.close())
        .then(() => health.close())
        .catch((error: unknown) => log.error('error while closing:', error))
        .finally(() => {
          requestLog.flush();
          store.close();
          resolve();
        });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/**
 * Starts the web admin. Its failure (port taken) is reported but never stops the proxy, which is
 * what clients depend on. The URL with the token goes to the terminal only, not the log file.
 */
async function startAdmin(service: AdminService, port: number): Promise<AdminServer | undefined> {
  try {
    const admin = await startAdminServer({ service, port, rendererDir: RENDERER_DIR });
    log.info(`Web admin on ${admin.url} (this machine only)`);
    process.stdout.write(`Open the web admin: ${admin.loginUrl}\n`);
    return admin;
  } catch (error) {
    log.error(`no web admin: ${(error as Error).message}`);
    return undefined;
  }
}

/** How long open streams may run on after SIGTERM before they are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

function configureLog(file: string): void {
  // electron-log looks for the app's name in a package.json above the main module (an ES module
  // has none it can see) or the working directory: named here, it works from any directory.
  log.transports.file.setAppName('Ollama Gate');
  log.transports.file.resolvePathFn = () => file;
  log.transports.file.maxSize = 10 * 1024 * 1024;
  log.transports.file.writeOptions = privateLogFile(file);
  log.transports.console.format = '{h}:{i}:{s} {text}';
  // Appends in the background: a slow disk never stalls requests (lines keep their order).
  log.transports.file.sync = false;
}
