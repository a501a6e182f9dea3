import { dirname, join } from 'node:path';
import log from 'electron-log/node';
import { createGateway } from '../core/gateway.js';
import type { GateSettings } from '../core/settings.js';
import { GATE_VERSION } from '../core/version.js';
import { openStore } from './conf-store.js';
import { USAGE_FILE } from '../core/usage.js';
import { formatLogLine } from '../core/log-line.js';

export interface ServeOptions {
  dataDir?: string;
  overrides: Partial<GateSettings>;
}

/** Runs the gate in the foreground until SIGINT or SIGTERM, one log line per request. */
export async function serve({ dataDir, overrides }: ServeOptions): Promise<void> {
  const store = openStore(dataDir, overrides);
  const directory = dirname(store.path);
  configureLog(join(directory, 'logs', 'gate.log'));
  store.watch();
  const gateway = createGateway({
    keys: store,
    settings: store,
    dataDir: directory,
    usageFile: join(directory, USAGE_FILE),
    // OLLAMA_GATE_LAN_CHECK=0 skips looking for an Ollama that answers on this machine's LAN addresses.
    exposureAddresses: process.env.OLLAMA_GATE_LAN_CHECK === '0' ? () => [] : undefined,
  });
  const settings = store.current();
  // Settings changed in the store file (by the desktop app, say) apply without a restart.
  const stopApplyingSettings = store.subscribe(() => {
    gateway.restart().catch((error: unknown) => log.error(`could not apply the new settings: ${(error as Error).message}`));
  });

  gateway.events.on('request', (entry) => {
    const line = formatLogLine(entry);
    if (entry.outcome === 'ok') log.info(line);
    else log.warn(line);
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
  const health = await gateway.checkHealth();
  if (health.reachable) log.info(`Ollama ${health.version ?? '(unknown version)'} answers at ${settings.upstream}`);
  else log.warn(`Ollama is not reachable yet: ${health.error}`);
  for (const address of health.exposedOn) {
    log.warn(`Ollama also answers on ${address}: anyone on your network can reach it without a key. Restart Ollama with OLLAMA_HOST=127.0.0.1`);
  }

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info(`${signal}: shutting down; open requests get ${SHUTDOWN_GRACE_MS / 1000} s to finish (${signal} again to stop now)`);
      stopApplyingSettings();
      // A second signal cuts the grace short.
      const hurry = () => void gateway.close().catch(() => {});
      process.once('SIGINT', hurry);
      process.once('SIGTERM', hurry);
      gateway
        .close({ graceMs: SHUTDOWN_GRACE_MS })
        .catch((error: unknown) => log.error('error while closing:', error))
        .finally(() => {
          store.close();
          resolve();
        });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** How long open streams may run on after SIGTERM before they are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

function configureLog(file: string): void {
  log.transports.file.resolvePathFn = () => file;
  log.transports.file.maxSize = 10 * 1024 * 1024;
  log.transports.console.format = '{h}:{i}:{s} {text}';
}
