import { join } from 'node:path';
import { GateStore, STORE_NAME, defaultDataDir } from '../core/gate-store.js';
import type { GateSettings } from '../core/settings.js';
import { JsonFile } from './json-file.js';

/** Opens the data directory's store file, the one the desktop app keeps with electron-store. */
export function openStore(dataDir: string | undefined, overrides: Partial<GateSettings> = {}): GateStore {
  return new GateStore(new JsonFile(join(dataDir ?? defaultDataDir(), `${STORE_NAME}.json`)), overrides);
}
