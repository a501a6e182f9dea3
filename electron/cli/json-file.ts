import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { type JsonDocument, parseStoreDocument } from '../core/gate-store.js';

let writes = 0;

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

  get store(): Record<string, unknown> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    return parseStoreDocument(text);
  }

  set(key: string, value: unknown): void {
    this.write({ ...this.store, [key]: value });
  }

  private write(document: Record<string, unknown>): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.${++writes}.tmp`;
    try {
      const fd = openSync(temporary, 'wx', this.mode);
      try {
        writeSync(fd, JSON.stringify(document, undefined, '\t'));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, this.path);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  }
}
