import { join } from 'node:path';
import Conf from 'conf';
import { GateStore, STORE_NAME, defaultDataDir, unreadableStore } from '../core/gate-store.js';
import type { GateSettings } from '../core/settings.js';

/** Per-key usage counts, beside the store file. */
export const USAGE_FILE = 'usage.json';

/** Opens the data directory's store file with `conf`, the library electron-store is built on (same file). */
export function openStore(dataDir: string | undefined, overrides: Partial<GateSettings> = {}): GateStore {
  const cwd = dataDir ?? defaultDataDir();
  let conf: Conf<Record<string, unknown>>;
  try {
    conf = new Conf<Record<string, unknown>>({
      cwd,
      configName: STORE_NAME,
      // Key hashes and settings are nobody else's business on a shared machine.
      configFileMode: 0o600,
      clearInvalidConfig: false,
      accessPropertiesByDotNotation: false,
      // conf would quietly treat an array or null as an empty store, and the next write would replace it.
      deserialize: (text: string) => {
        const value: unknown = JSON.parse(text);
        if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SyntaxError('the top level is not a JSON object');
        return value as Record<string, unknown>;
      },
    });
  } catch (error) {
    // conf reads the file as it opens it: a corrupt one fails here, before GateStore could say which.
    throw unreadableStore(join(cwd, `${STORE_NAME}.json`), error);
  }
  return new GateStore(conf, overrides);
}
