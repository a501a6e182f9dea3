import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import log from 'electron-log/node';
import { createGateHost } from '../core/gate-host.js';
import type { GateSettings } from '../core/settings.js';
import { GATE_VERSION } from '../core/version.js';
import type { PinnedSetting } from '../shared/contract.js';
import { type AdminServer, type AdminService, startAdminServer } from './admin-http.js';
import { openStore } from './open-store.js';
import { forwardingTo } from './upstreams.js';

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
  store.watch();
  // The service also applies settings changed in the store file (by the desktop app, the admin
  // page or another process) to the running listener.
  const host = createGateHost({
    store,
    dataDir: directory,
    logsDir,
    logger: log,
    app: { name: 'Ollama Gate', version: GATE_VERSION, host: 'headless', platform: process.platform, versions: { node: process.versions.node } },
    // Its own file: a desktop app on the same data folder keeps its history apart.
    historyFile: 'request-history-serve.jsonl',
    pinned,
    // OLLAMA_GATE_LAN_CHECK=0 skips looking for an Ollama that answers on this machine's LAN addresses.
    lanCheck: process.env.OLLAMA_GATE_LAN_CHECK !== '0',
  });
  const { gateway, service } = host;

  // Signals count from here, not from the end of start-up: a service manager stopping the gate
  // while it still probes Ollama gets the same clean shutdown as later.
  let stopping: NodeJS.Signals | undefined;
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      stopping = signal;
      resolve(signal);
      // A second signal cuts the grace short.
      process.once('SIGINT', host.hurry);
      process.once('SIGTERM', host.hurry);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  const keyCount = gateway.keys.list().length;
  log.info(`Ollama Gate ${GATE_VERSION}: forwarding to ${forwardingTo(store.current())}`);
  log.info(`Store: ${store.path} (${keyCount} key${keyCount === 1 ? '' : 's'})`);
  try {
    await gateway.listen();
  } catch (error) {
    await host.close();
    throw error;
  }
  if (keyCount === 0) log.warn('No keys yet: create one with `ollama-gate keys add NAME` (this gate refuses every request until then)');
  // Ollama's state before the admin's link, so the first screen of output says it all.
  await Promise.race([gateway.health.check(), signalled]);
  let admin: AdminServer | undefined;
  if (!stopping) {
    service.start();
    if (adminPort !== null) admin = await startAdmin(service, adminPort, directory);
  }

  const signal = await signalled;
  log.info(`${signal}: shutting down; open requests get ${SHUTDOWN_GRACE_MS / 1000} s to finish (${signal} again to stop now)`);
  await admin?.close();
  await host.close({ graceMs: SHUTDOWN_GRACE_MS });
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
const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The web admin's token, kept in the data folder (readable by this user only) so a page left open
 * reconnects by itself after `serve` restarts, and the printed link stays the same. Deleting the
 * file revokes it: the next start makes a new one.
 */
function adminToken(dataDir: string): string {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9_-]{43,}$/.test(kept)) {
      // A file loosened since (copied, restored from a backup) is made private again.
      chmodSync(file, 0o600);
      return kept;
    }
  } catch {
    // none yet: made below
  }
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/** How long open streams may run on after SIGTERM before they are cut. */
const SHUTDOWN_GRACE_MS = 10_000;
