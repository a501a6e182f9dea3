import { join } from 'node:path';
import Conf from 'conf';
import { GateStore, STORE_FILE_OPTIONS, STORE_NAME, defaultDataDir, unreadableStore } from '../core/gate-store.js';
import type { GateSettings } from '../core/settings.js';

/** Opens the data directory's store file with `conf`, the library electron-store is built on (same file). */
export function openStore(dataDir: string | undefined, overrides: Partial<GateSettings> = {}): GateStore {
  const cwd = dataDir ?? defaultDataDir();
  let conf: Conf<Record<string, unknown>>;
  try {
    conf = new Conf<Record<string, unknown>>({ cwd, configName: STORE_NAME, ...STORE_FILE_OPTIONS });
  } catch (error) {
    // conf reads the file as it opens it: a corrupt one fails here, before GateStore could say which.
    throw unreadableStore(join(cwd, `${STORE_NAME}.json`), error);
  }
  return new GateStore(conf, overrides);
}
