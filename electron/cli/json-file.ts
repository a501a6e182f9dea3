import type { JsonDocument } from '../core/gate-store.js';
import { type StoreDocument, parseStoreDocument, readStoreText, replaceStoreFile, serializeStoreDocument, updateStoreFile } from '../core/store-file.js';

/**
 * The CLI's store file, in the format electron-store writes in the desktop app (it is the same
 * file): a tab-indented JSON object, mode 0600, read afresh on every access so other processes'
 * writes are seen, and replaced whole by renaming a synced temporary file over it, so a crash
 * leaves the old file or the new one, never half of each.
 *
 * Not `conf` (which electron-store is built on): conf loads ajv and its format validators when it
 * is imported, about 9 MB of a headless gate's idle RSS, for a JSON schema the gate never gives it.
 */
export class JsonFile implements JsonDocument {
  constructor(
    readonly path: string,
    private readonly mode = 0o600,
  ) {}

  get store(): StoreDocument {
    const text = readStoreText(this.path);
    return text === undefined ? {} : parseStoreDocument(text);
  }

  set(key: string, value: unknown): void {
    replaceStoreFile(this.path, serializeStoreDocument({ ...this.store, [key]: value }), this.mode);
  }

  update(change: (document: StoreDocument) => StoreDocument): Promise<StoreDocument> {
    return updateStoreFile(this.path, this.mode, change);
  }
}
