import { join } from 'node:path';
import type Conf from 'conf';
import type { Options } from 'conf';
import ElectronStore from 'electron-store';
import * as v from 'valibot';
import { notArray } from '../core/api-schemas.js';
import { GateStore, type JsonDocument, STORE_FILE_OPTIONS, STORE_NAME, unreadableStore } from '../core/gate-store.js';
import { parseStoreDocument, readStoreText, updateStoreFile } from '../core/store-file.js';
import type { DesktopSettings } from '../shared/contract.js';

/**
 * The desktop app's store: the same `gate.json` in the same folder (Electron's userData) that the
 * CLI opens as a JsonFile, so both share keys and settings. electron-store adds what only the
 * app needs: defaults written on first run, versioned migrations, and a `desktop` section the CLI
 * ignores.
 */

type StoreDocument = Record<string, unknown>;
type StoreOptions = Omit<Options<StoreDocument>, 'configName' | 'projectName' | 'projectVersion' | 'projectSuffix' | 'cwd'>;

export const DESKTOP_DEFAULTS: DesktopSettings = {
  startOnLaunch: true,
  launchAtLogin: false,
  showInDock: false,
  language: 'system',
};

/**
 * A stored desktop section, field by field: a value that is missing or wrong (a hand edit) falls
 * back to its default instead of making the whole file unreadable.
 */
const desktopSchema = notArray(
  v.object({
    // `v.fallback`: a missing or wrong value becomes its default
    startOnLaunch: v.fallback(v.boolean(), DESKTOP_DEFAULTS.startOnLaunch),
    launchAtLogin: v.fallback(v.boolean(), DESKTOP_DEFAULTS.launchAtLogin),
    showInDock: v.fallback(v.boolean(), DESKTOP_DEFAULTS.showInDock),
    language: v.fallback(v.picklist(['system', 'en', 'zh-CN']), DESKTOP_DEFAULTS.language),
  }),
);

/**
 * One migration per app version that changed the file, run once, in order, by conf (it records the
 * last one in `__internal__.migrations.version`). Each must be safe on a file the CLI wrote too.
 */
const STORE_MIGRATIONS: NonNullable<Options<StoreDocument>['migrations']> = {
  /**
   * 0.1.0: keys made by early builds lack the name, model allow-list and limit fields; write them
   * out as "none" so the file says what the gate does, and make sure each section is there.
   */
  '0.1.0': (store) => {
    const keys = store.get('keys');
    if (Array.isArray(keys)) {
      store.set(
        'keys',
        keys.map((key: unknown) =>
          key && typeof key === 'object' ? { name: null, models: [], rpm: null, concurrency: null, dailyTokens: null, ...key } : key,
        ),
      );
    }
    for (const section of ['settings', 'desktop'] as const) {
      const value = store.get(section);
      if (!value || typeof value !== 'object' || Array.isArray(value)) store.set(section, section === 'desktop' ? { ...DESKTOP_DEFAULTS } : {});
    }
  },
};

/**
 * Options shared by the app's electron-store and the tests' plain conf. The JSON schema only
 * fixes the sections and their defaults: conf refuses the whole file on any schema violation, at
 * every read, so field checks stay with GateStore (keys, settings) and desktopSchema (desktop),
 * which report a bad field without locking the user out.
 */
export function storeOptions(): StoreOptions {
  return {
    schema: {
      keys: { type: 'array', default: [] },
      settings: { type: 'object', default: {} },
      desktop: {
        type: 'object',
        properties: Object.fromEntries(Object.entries(DESKTOP_DEFAULTS).map(([field, value]) => [field, { default: value }])),
        default: { ...DESKTOP_DEFAULTS },
      },
    },
    defaults: { keys: [], settings: {}, desktop: { ...DESKTOP_DEFAULTS } },
    migrations: STORE_MIGRATIONS,
    // The same file handling as the CLI's JsonFile.
    ...STORE_FILE_OPTIONS,
  };
}

/** Throws when an existing store file is not JSON, not an object, or has a section of the wrong kind. */
function checkSections(path: string): void {
  const text = readStoreText(path);
  if (text === undefined) return;
  const document = parseStoreDocument(text);
  if ('keys' in document && !Array.isArray(document.keys)) throw new Error('"keys" is not a list');
  for (const section of ['settings', 'desktop']) {
    const value = document[section];
    if (section in document && (!value || typeof value !== 'object' || Array.isArray(value))) throw new Error(`"${section}" is not an object`);
  }
}

/** The desktop section of the store. */
export class DesktopSettingsStore {
  constructor(private readonly document: Pick<Conf<StoreDocument>, 'store' | 'set'>) {}

  get(): DesktopSettings {
    return v.parse(desktopSchema, this.document.store.desktop ?? {});
  }

  update(patch: Partial<DesktopSettings>): DesktopSettings {
    const next = { ...this.get(), ...patch };
    this.document.set('desktop', next);
    return next;
  }
}

export interface AppStore {
  gate: GateStore;
  desktop: DesktopSettingsStore;
  path: string;
}

/** Opens `gate.json` in the userData folder; a corrupt file is reported with its path and left untouched. */
export function openAppStore(userData: string): AppStore {
  const path = join(userData, `${STORE_NAME}.json`);
  let document: ElectronStore<StoreDocument>;
  try {
    // conf writes its defaults into a file before it validates it: check first, so a broken file stays as it was.
    checkSections(path);
    document = new ElectronStore<StoreDocument>({ ...storeOptions(), name: STORE_NAME, cwd: userData });
  } catch (error) {
    throw unreadableStore(path, error);
  }
  const store = document;
  const gateDocument: JsonDocument = {
    path: store.path,
    get store() {
      return store.store;
    },
    set: (key, value) => store.set(key, value),
    // Last-use times, written in the background in the layout electron-store writes (conf reads the
    // file afresh on every access, so it sees them).
    update: (change) => updateStoreFile(store.path, STORE_FILE_OPTIONS.configFileMode, change),
  };
  return { gate: new GateStore(gateDocument), desktop: new DesktopSettingsStore(document), path: document.path };
}
