import { accessSync, constants, existsSync, unwatchFile, watchFile } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { proxySettingsFields } from './api-schemas.js';
import type { KeyRecord, KeyStore } from './keys.js';
import { DEFAULT_SETTINGS, type GateSettings, type SettingsProvider } from './settings.js';

/**
 * The JSON document both hosts persist: `conf` in the CLI, `electron-store` (built on conf, same
 * file format) in the desktop app. Anything with this shape can back a GateStore.
 */
export interface JsonDocument {
  readonly path: string;
  readonly store: Record<string, unknown>;
  set(key: string, value: unknown): void;
}

export const STORE_NAME = 'gate';

/**
 * How both hosts open the store file (conf in the CLI, electron-store in the app): the same file,
 * handled the same way. Key hashes and settings are nobody else's business on a shared machine; a
 * broken file is an error, never silently replaced; and a JSON array or null is not taken for an
 * empty store (conf would, and its next write would lose the file).
 */
export const STORE_FILE_OPTIONS = {
  configFileMode: 0o600,
  clearInvalidConfig: false,
  accessPropertiesByDotNotation: false,
  deserialize: parseStoreDocument,
};

export function parseStoreDocument(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SyntaxError('the top level is not a JSON object');
  return value as Record<string, unknown>;
}

const keyRecordSchema = z.object({
  id: z.string().min(1),
  user: z.string().min(1),
  name: z.string().nullable().default(null),
  scope: z.enum(['inference', 'full']),
  models: z.array(z.string()).default([]),
  rpm: z.number().int().positive().nullable().default(null),
  concurrency: z.number().int().positive().nullable().default(null),
  dailyTokens: z.number().int().positive().nullable().default(null),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  prefix: z.string(),
  createdAt: z.number(),
  enabled: z.boolean(),
  expiresAt: z.number().nullable(),
  lastUsedAt: z.number().nullable(),
  lastUsedIp: z.string().nullable(),
});

/**
 * Stored settings: the same fields and checks as the API's, each optional (defaults fill the rest),
 * and unknown fields (from a newer version) passed over rather than refused.
 */
export const settingsSchema = z.object(proxySettingsFields).partial();

const documentSchema = z.object({
  keys: z.array(keyRecordSchema).default([]),
  settings: settingsSchema.default({}),
});

type Document = z.infer<typeof documentSchema>;

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
  private watching = false;

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
    this.writeKeys(this.read().keys.map((k) => (k.id === id ? { ...k, ...patch } : k)));
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
    const next = settingsSchema.parse({ ...this.read().settings, ...patch });
    this.document.set('settings', next);
    this.refresh();
    return this.settings;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Polls the file for changes made by other processes. */
  watch(intervalMs = 250): void {
    if (this.watching) return;
    this.watching = true;
    watchFile(this.document.path, { interval: intervalMs, persistent: false }, this.onFileChange);
  }

  close(): void {
    // Only this store's listener: another store in this process may watch the same file.
    if (this.watching) unwatchFile(this.document.path, this.onFileChange);
    this.watching = false;
    this.listeners.clear();
  }

  private readonly onFileChange = () => this.refreshFromDisk();

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
    // Checked before writing, so a bad record never reaches the file.
    const valid = z.array(keyRecordSchema).safeParse(keys);
    if (!valid.success) throw new StoreError(`refusing to write an invalid key: ${valid.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    try {
      // conf replaces the file by renaming a new one over it, which a read-only file would not stop.
      if (existsSync(this.document.path)) accessSync(this.document.path, constants.W_OK);
      this.document.set('keys', keys);
    } catch (error) {
      throw new StoreError(`could not write ${this.document.path}: ${describe(error)}; nothing was changed`, { cause: error });
    }
    this.refresh();
  }

  private read(): Document {
    let raw: Record<string, unknown>;
    try {
      raw = this.document.store;
    } catch (error) {
      throw unreadableStore(this.document.path, error);
    }
    const parsed = documentSchema.safeParse(raw);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new StoreError(`the store file ${this.document.path} is not valid (${problems}). It was left untouched; fix it or move it away`);
    }
    return parsed.data;
  }

  private mergeSettings(): GateSettings {
    return { ...DEFAULT_SETTINGS, ...this.snapshot.settings, ...definedOnly(this.overrides) };
  }
}

/** The error for a store file that cannot be read or parsed: it names the file and promises it was not touched. */
export function unreadableStore(path: string, error: unknown): StoreError {
  return new StoreError(`cannot read the store file ${path}: ${describe(error)}. It was left untouched; fix it or move it away`, { cause: error });
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
