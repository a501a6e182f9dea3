import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A store file's top level: a JSON object. */
export type StoreDocument = Record<string, unknown>;

/** Reads a store file's text; a JSON array or null is not taken for an empty store (a write would lose the file). */
export function parseStoreDocument(text: string): StoreDocument {
  const value: unknown = JSON.parse(text);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SyntaxError('the top level is not a JSON object');
  return value as StoreDocument;
}

/** The layout electron-store (conf) writes: tab-indented JSON. Both hosts write the file byte for byte alike. */
export function serializeStoreDocument(document: StoreDocument): string {
  return JSON.stringify(document, undefined, '\t');
}

let temporaries = 0;

/** Beside the file, so the rename stays on one file system; unique per process and write. */
function temporaryPath(path: string): string {
  return `${path}.${process.pid}.${++temporaries}.tmp`;
}

/** The file's text, or undefined when there is no file yet. */
export function readStoreText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Replaces the file with `text` by renaming a synced temporary file over it, so a crash leaves the
 * old file or the new one, never half of each.
 */
export function replaceStoreFile(path: string, text: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = temporaryPath(path);
  try {
    const fd = openSync(temporary, 'wx', mode);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** How often a background update starts again because the file changed under it, before it gives up. */
const UPDATE_ATTEMPTS = 5;

/**
 * Replaces the file with what `change` makes of its text (undefined when there is no file yet),
 * like replaceStoreFile but with the read, the write and the sync to disk off the event loop: a
 * sync can take many milliseconds on a busy disk, and a gate's event loop carries every stream.
 * The new file is renamed over the old one only if the old one is still what `change` was given
 * (another process, or this one, may have written meanwhile); otherwise `change` runs again on
 * what the file holds now, so no writer's change is lost.
 */
export async function updateFile(path: string, mode: number, change: (text: string | undefined) => string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 1; attempt <= UPDATE_ATTEMPTS; attempt++) {
    const before = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    const text = change(before);
    const temporary = temporaryPath(path);
    try {
      const file = await open(temporary, 'wx', mode);
      try {
        await file.writeFile(text);
        await file.sync();
      } finally {
        await file.close();
      }
      // Compared and renamed in one go on the event loop: nothing of this process can write in between.
      if (readStoreText(path) === before) {
        renameSync(temporary, path);
        return;
      }
      await rm(temporary, { force: true });
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  }
  throw new Error(`it kept changing while it was written (${UPDATE_ATTEMPTS} attempts)`);
}

/** updateFile for a store document; resolves with the document written. */
export async function updateStoreFile(path: string, mode: number, change: (document: StoreDocument) => StoreDocument): Promise<StoreDocument> {
  let written: StoreDocument = {};
  await updateFile(path, mode, (text) => serializeStoreDocument((written = change(text === undefined ? {} : parseStoreDocument(text)))));
  return written;
}
