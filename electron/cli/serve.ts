import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import log from 'electron-log/node';
import { createGateway } from '../core/gateway.js';
import { HealthMonitor } from '../core/health-monitor.js';
import { createGateService } from '../core/service.js';
import type { GateSettings } from '../core/settings.js';
import type { PinnedSetting, ProxyStatus } from '../shared/contract.js';
import { privateLogFile } from '../core/log-line.js';
import { GATE_VERSION } from '../core/version.js';
import { USAGE_FILE } from '../core/usage.js';
import { type AdminServer, type AdminService, startAdminServer } from './admin-http.js';
import { openStore } from './open-store.js';
import { RequestLog } from './request-log.js';
import { type StateLine, healthLines, statusLines } from './state-lines.js';

export interface ServeOptions {
  dataDir?: string;
  overrides: Partial<GateSettings>;
  /** which flag or environment variable set each override, for the web admin to show */
  pinned: PinnedSetting[];
  /** the loopback web admin's port (0: any free one); null turns the admin off */
  adminPort: number | null;
}

/** The built renderer, beside the built CLI (dist/cli → dist/renderer). */
const RENDERER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'renderer');

/** Runs the gate in the foreground until SIGINT or SIGTERM, one log line per request. */
export async function serve({ dataDir, overrides, pinned, adminPort }: ServeOptions): Promise<void> {
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
    pinned,
    // Its own file: a desktop app on the same data folder keeps its history apart.
    logHistoryFile: join(directory, 'request-history-serve.jsonl'),
    app: { name: 'Ollama Gate', version: GATE_VERSION, host: 'headless', platform: process.platform, versions: { node: process.versions.node }, dataDir: directory, logsDir },
  });
  const settings = store.current();

  // One line per request, written in batches off the request path.
  const requestLog = new RequestLog(log);
  gateway.events.on('request', (entry) => requestLog.add(entry));
  const keyCount = gateway.keys.list().length;
  log.info(`Ollama Gate ${GATE_VERSION}: forwarding to ${settings.upstream}`);
  log.info(`Store: ${store.path} (${keyCount} key${keyCount === 1 ? '' : 's'})`);
  // The listeners' and Ollama's state as they start, then one line for every change an operator
  // must know of (Ollama down or back, exposed on the LAN, a new port, HTTPS on or off).
  let status = await gateway.listen();
  printLines(statusLines(NOT_LISTENING, status));
  let stopping = false;
  gateway.events.on('status', (next) => {
    // Shutting down, the listeners closing are expected, not news.
    if (!stopping) printLines(statusLines(status, next));
    status = next;
  });
  if (keyCount === 0) log.warn('No keys yet: create one with `ollama-gate keys add NAME` (this gate refuses every request until then)');
  let ollama = await health.check();
  printLines(healthLines(undefined, ollama));
  health.onChange((next) => {
    printLines(healthLines(ollama, next));
    ollama = next;
  });
  service.start();
  const admin = adminPort === null ? undefined : await startAdmin(service, adminPort, directory);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      stopping = true;
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
async function startAdmin(service: AdminService, port: number, dataDir: string): Promise<AdminServer | undefined> {
  try {
    const admin = await startAdminServer({ service, port, rendererDir: RENDERER_DIR, token: adminToken(dataDir) });
    log.info(`Web admin on ${admin.url} (this machine only)`);
    process.stdout.write(`Open the web admin: ${admin.loginUrl}\n`);
    return admin;
  } catch (error) {
    log.error(`no web admin: ${(error as Error).message}`);
    return undefined;
  }
}

/** The admin token's file in the data folder. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The web admin's token, kept in the data folder (readable by this user only) so a page left open
 * reconnects by itself after `serve` restarts, and the printed link stays the same. Deleting the
 * file revokes it: the next start makes a new one.
 */
function adminToken(dataDir: string): string {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9_-]{43,}$/.test(kept)) return kept;
  } catch {
    // none yet: made below
  }
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/** Before the first listen: every URL and HTTPS state is news. */
const NOT_LISTENING: ProxyStatus = { state: 'stopped', host: '', port: 0, urls: [], error: null, reason: null, tls: null };

function printLines(lines: StateLine[]): void {
  for (const { level, text } of lines) log[level](text);
}

/** How long open streams may run on after SIGTERM before they are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

function configureLog(file: string): void {
  log.transports.console.format = '{h}:{i}:{s} {text}';
  const unwritable = whyUnwritable(file);
  if (unwritable) {
    // Said once, in the gate's words: electron-log would print a stack trace per attempt.
    log.transports.file.level = false;
    log.warn(`cannot write the log file ${file} (${unwritable}): requests are logged to this terminal only. Make ${dirname(file)} writable for this user, or choose another folder with --data-dir`);
    return;
  }
  // electron-log looks for the app's name in a package.json above the main module (an ES module
  // has none it can see) or the working directory: named here, it works from any directory.
  log.transports.file.setAppName('Ollama Gate');
  log.transports.file.resolvePathFn = () => file;
  log.transports.file.maxSize = 10 * 1024 * 1024;
  log.transports.file.writeOptions = privateLogFile(file);
  // Appends in the background: a slow disk never stalls requests (lines keep their order).
  log.transports.file.sync = false;
}

/** Why `file` cannot be appended to (its folder made if missing), or null when it can. */
function whyUnwritable(file: string): string | null {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    closeSync(openSync(file, 'a', 0o600));
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
