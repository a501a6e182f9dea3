import { type Stats, accessSync, constants, existsSync, stat, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { notArray, proxySettingsFields } from './api-schemas.js';
import type { KeyPatches, KeyRecord, KeyStore } from './keys.js';
import { DEFAULT_SETTINGS, type GateSettings, type SettingsProvider } from './settings.js';
import { type StoreDocument, parseStoreDocument } from './store-file.js';

/**
 * The JSON document both hosts persist: a JsonFile in the CLI, `electron-store` in the desktop
 * app, the same file in the same format. Anything with this shape can back a GateStore.
 */
export interface JsonDocument {
  readonly path: string;
  readonly store: StoreDocument;
  set(key: string, value: unknown): void;
  /**
   * Replaces the document with what `change` makes of it, writing in the background and starting
   * again if the file changed meanwhile (store-file.ts's updateStoreFile). Without it, writes are
   * made at once with `set`.
   */
  update?(change: (document: StoreDocument) => StoreDocument): Promise<unknown>;
}

export const STORE_NAME = 'gate';

/**
 * How the app opens the store file with electron-store, handled as the CLI's JsonFile handles it.
 * Key hashes and settings are nobody else's business on a shared machine; a broken file is an
 * error, never silently replaced; and a JSON array or null is not taken for an empty store
 * (electron-store would, and its next write would lose the file).
 */
export const STORE_FILE_OPTIONS = {
  configFileMode: 0o600,
  clearInvalidConfig: false,
  accessPropertiesByDotNotation: false,
  deserialize: parseStoreDocument,
};

/** a number other than ±Infinity, which `v.number()` alone takes (JSON's `1e999` parses to it) */
const finite = v.pipe(v.number(), v.finite());
/** a whole number above 0 and within ±2^53 (`v.integer` alone would take 2^60) */
const positiveInt = v.pipe(v.number(), v.safeInteger(), v.gtValue(0));

/** A stored key. Fields added after the first release default to "none"; unknown fields are dropped. */
const keyRecordSchema = v.object({
  id: v.pipe(v.string(), v.minLength(1)),
  user: v.pipe(v.string(), v.minLength(1)),
  name: v.optional(v.nullable(v.string()), null),
  scope: v.picklist(['inference', 'full']),
  models: v.optional(v.array(v.string()), []),
  rpm: v.optional(v.nullable(positiveInt), null),
  concurrency: v.optional(v.nullable(positiveInt), null),
  dailyTokens: v.optional(v.nullable(positiveInt), null),
  hash: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  prefix: v.string(),
  createdAt: finite,
  enabled: v.boolean(),
  expiresAt: v.nullable(finite),
  lastUsedAt: v.nullable(finite),
  lastUsedIp: v.nullable(v.string()),
});

const keysSchema = v.array(keyRecordSchema);

/**
 * Stored settings: the same fields and checks as the API's, each optional (defaults fill the rest),
 * and unknown fields (from a newer version) passed over rather than refused.
 */
const settingsSchema = notArray(v.partial(v.object(proxySettingsFields)));

// A missing section is empty: `v.optional(schema, default)` puts the default in its place.
const documentSchema = v.object({
  keys: v.optional(keysSchema, []),
  settings: v.optional(settingsSchema, {}),
});

type Document = v.InferOutput<typeof documentSchema>;

/** The store file could not be used; the message says which file and why, and the file is left as it was. */
export class StoreError extends Error {
  override name = 'StoreError';
}

/** Where the desktop app keeps its data (Electron's userData for "Ollama Gate"), so the CLI shares it. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.OLLAMA_GATE_DATA_DIR) return env.OLLAMA_GATE_DATA_DIR;
  const home = homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Ollama Gate');
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Ollama Gate');
  return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'Ollama Gate');
}

/**
 * Keys and settings in one file, kept in memory and re-read when the file changes, so a second
 * process (the CLI next to the app, or the other way round) is seen within a fraction of a second.
 * Command-line overrides apply on top of the stored settings without being written.
 */
export class GateStore implements KeyStore, SettingsProvider {
  private snapshot: Document;
  private settings: GateSettings;
  private readonly listeners = new Set<() => void>();
  private poller: ReturnType<typeof setInterval> | undefined;
  private polling = false;
  /** the file as it was just before it was last read: a poll that finds it otherwise reads it again */
  private seen: FileIdentity | null = null;

  constructor(
    private readonly document: JsonDocument,
    private readonly overrides: Partial<GateSettings> = {},
  ) {
    this.snapshot = this.read();
    this.settings = this.mergeSettings();
  }

  get path(): string {
    return this.document.path;
  }

  list(): KeyRecord[] {
    return this.snapshot.keys.map((k) => ({ ...k }));
  }

  add(record: KeyRecord): void {
    this.writeKeys([...this.read().keys, record]);
  }

  update(id: string, patch: Partial<Omit<KeyRecord, 'id'>>): void {
    this.updateEach(new Map([[id, patch]]));
  }

  /** One read and one write of the file, however many keys change: each write is synced to disk. */
  updateEach(patches: KeyPatches): void {
    if (patches.size === 0) return;
    this.writeKeys(patched(this.read().keys, patches));
  }

  /**
   * updateEach for what a busy gate writes every few seconds (when keys were last used): the file
   * is written and synced to disk in the background, and the patches are applied again if another
   * writer changed the file meanwhile. A document that cannot write in the background writes at once.
   */
  async updateEachInBackground(patches: KeyPatches): Promise<void> {
    if (patches.size === 0) return;
    const update = this.document.update?.bind(this.document);
    if (!update) return this.updateEach(patches);
    try {
      await update((raw) => {
        const keys = patched(this.parse(raw).keys, patches);
        this.checkWritable(keys);
        return { ...raw, keys };
      });
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw error instanceof SyntaxError ? unreadableStore(this.document.path, error) : cannotWrite(this.document.path, error);
    }
    this.refresh();
  }

  remove(id: string): void {
    this.writeKeys(this.read().keys.filter((k) => k.id !== id));
  }

  current(): GateSettings {
    return this.settings;
  }

  /** The stored settings alone, without this process's overrides. */
  storedSettings(): Partial<GateSettings> {
    return { ...this.snapshot.settings };
  }

  updateSettings(patch: Partial<GateSettings>): GateSettings {
    const next = v.parse(settingsSchema, { ...this.read().settings, ...patch });
    this.document.set('settings', next);
    this.refresh();
    return this.settings;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Polls the file for changes made by other processes. Compared with the file as it was when last
   * read, not with a first poll's view (fs.watchFile's): a change made between the read and that
   * first poll would never be seen.
   */
  watch(intervalMs = 250): void {
    if (this.poller) return;
    this.poller = setInterval(() => this.poll(), intervalMs).unref();
  }

  close(): void {
    clearInterval(this.poller);
    this.poller = undefined;
    this.listeners.clear();
  }

  private poll(): void {
    if (this.polling) return;
    this.polling = true;
    stat(this.document.path, (error, now) => {
      this.polling = false;
      if (this.poller && !sameFile(this.seen, error ? null : identityOf(now))) this.refreshFromDisk();
    });
  }

  private refreshFromDisk(): void {
    try {
      this.refresh();
    } catch (error) {
      // A half-edited or broken file must not take the running gate down: keep what was loaded.
      console.error(`ollama-gate: ${error instanceof Error ? error.message : String(error)}; keeping the keys and settings loaded before`);
    }
  }

  private refresh(): void {
    this.snapshot = this.read();
    this.settings = this.mergeSettings();
    for (const listener of this.listeners) listener();
  }

  private writeKeys(keys: KeyRecord[]): void {
    this.checkWritable(keys);
    try {
      this.document.set('keys', keys);
    } catch (error) {
      throw cannotWrite(this.document.path, error);
    }
    this.refresh();
  }

  /** Checked before writing, so a bad record never reaches the file, and a read-only file is not replaced. */
  private checkWritable(keys: KeyRecord[]): void {
    const valid = v.safeParse(keysSchema, keys);
    if (!valid.success)
      throw new StoreError(`refusing to write an invalid key: ${valid.issues.map((i) => `${v.getDotPath(i) ?? ''}: ${i.message}`).join('; ')}`);
    try {
      // Both hosts replace the file by renaming a new one over it, which a read-only file would not stop.
      if (existsSync(this.document.path)) accessSync(this.document.path, constants.W_OK);
    } catch (error) {
      throw cannotWrite(this.document.path, error);
    }
  }

  private read(): Document {
    // Before reading: a change made after this is seen by the next poll.
    this.seen = currentIdentity(this.document.path);
    let raw: StoreDocument;
    try {
      raw = this.document.store;
    } catch (error) {
      throw unreadableStore(this.document.path, error);
    }
    return this.parse(raw);
  }

  private parse(raw: StoreDocument): Document {
    const parsed = v.safeParse(documentSchema, raw);
    if (!parsed.success) {
      const problems = parsed.issues.map((i) => `${v.getDotPath(i) || '(root)'}: ${i.message}`).join('; ');
      throw new StoreError(`the store file ${this.document.path} is not valid (${problems}). It was left untouched; fix it or move it away`);
    }
    return parsed.output;
  }

  private mergeSettings(): GateSettings {
    return { ...DEFAULT_SETTINGS, ...this.snapshot.settings, ...definedOnly(this.overrides) };
  }
}

/** What tells one version of the file from another. */
interface FileIdentity {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

const identityOf = (s: Stats): FileIdentity => ({ ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs });

function currentIdentity(path: string): FileIdentity | null {
  try {
    return identityOf(statSync(path));
  } catch {
    return null; // not there (yet)
  }
}

function sameFile(a: FileIdentity | null, b: FileIdentity | null): boolean {
  if (!a || !b) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

function patched(keys: KeyRecord[], patches: KeyPatches): KeyRecord[] {
  return keys.map((k) => (patches.has(k.id) ? { ...k, ...patches.get(k.id) } : k));
}

/** The error for a store file that cannot be read or parsed: it names the file and promises it was not touched. */
export function unreadableStore(path: string, error: unknown): StoreError {
  return new StoreError(`cannot read the store file ${path}: ${describe(error)}. It was left untouched; fix it or move it away`, { cause: error });
}

function cannotWrite(path: string, error: unknown): StoreError {
  return new StoreError(`could not write ${path}: ${describe(error)}; nothing was changed`, { cause: error });
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOSPC') return 'the disk is full';
  if (code === 'EROFS') return 'the file system is read-only';
  if (error instanceof SyntaxError) return `it is not valid JSON (${error.message})`;
  return error instanceof Error ? error.message : String(error);
}
