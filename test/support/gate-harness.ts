import type { RequestLogEntry } from '../../electron/core/events.js';
import { type Gateway, createGateway } from '../../electron/core/gateway.js';
import type { Scope } from '../../electron/core/keys.js';
import { type GateSettings, staticSettings } from '../../electron/core/settings.js';
import type { Clock } from '../../electron/core/clock.js';
import { type FakeOllama, type FakeOllamaOptions, startFakeOllama } from './fake-ollama.js';
import { MemoryKeyStore } from './memory-key-store.js';

export interface Harness {
  gate: Gateway;
  /** the gate's base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  fake: FakeOllama;
  /** the settings the gate reads on every request: a test may replace a field (a new value applies at once) */
  settings: GateSettings;
  /** every request log event so far */
  logs: RequestLogEntry[];
  /** creates a key and returns its secret */
  addKey(user: string, scope?: Scope): { id: string; secret: string };
  /** resolves with the first log entry (past or future) matching the predicate */
  waitForLog(predicate?: (entry: RequestLogEntry) => boolean, timeoutMs?: number): Promise<RequestLogEntry>;
  close(): Promise<void>;
}

/** A real gate on a random loopback port in front of a real (fake) Ollama on another. */
export async function startHarness(
  options: { settings?: Partial<GateSettings>; fake?: FakeOllamaOptions; clock?: Clock; upstream?: string; exposureAddresses?: () => string[] } = {},
): Promise<Harness> {
  const fake = await startFakeOllama(options.fake);
  const store = new MemoryKeyStore();
  const settings = staticSettings({ host: '127.0.0.1', port: 0, upstream: options.upstream ?? fake.url, ...options.settings });
  const gate = createGateway({
    keys: store,
    clock: options.clock,
    settings,
    healthTimeoutMs: 1_000,
    // Tests talk to loopback only: the LAN check looks where a test says, not at this machine's network.
    exposureAddresses: options.exposureAddresses ?? (() => []),
  });
  const logs: RequestLogEntry[] = [];
  const waiters: Array<{ predicate: (e: RequestLogEntry) => boolean; resolve: (e: RequestLogEntry) => void }> = [];
  gate.events.on('request', (entry) => {
    logs.push(entry);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(entry)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(entry);
      }
    }
  });
  const status = await gate.listen();
  return {
    gate,
    url: `http://127.0.0.1:${status.port}`,
    fake,
    settings: settings.current(),
    logs,
    addKey(user, scope = 'inference') {
      const { key, secret } = gate.keys.create({ user, scope });
      return { id: key.id, secret };
    },
    waitForLog(predicate = () => true, timeoutMs = 5_000) {
      const seen = logs.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching request log entry in time')), timeoutMs);
        waiters.push({
          predicate,
          resolve: (entry) => {
            clearTimeout(timer);
            resolve(entry);
          },
        });
      });
    },
    async close() {
      await gate.close();
      await gate.backends.close();
      await fake.close();
    },
  };
}
