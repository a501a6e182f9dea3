import { chmodSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as v from 'valibot';
import { type LogEntry, REASON_CODES } from '../shared/contract.js';
import type { RequestLogEntry } from './events.js';

export interface LogHistoryOptions {
  /** the JSON-lines file, in the data folder */
  file: string;
  /** how many entries to keep; read at every write, so a change applies at once. 0 keeps none and removes the file */
  limit(): number;
  /** whether request bodies may be kept on disk (body logging is on); read at every write */
  keepBodies(): boolean;
  /** the longest an entry waits before it is written: entries are written in batches, never one write per request */
  flushMs?: number;
  /** told when the file cannot be read or written (the gate goes on without it) */
  report?(message: string): void;
}

/** Readable by this user only, like the store and gate.log: it names users, key prefixes, addresses and clients. */
const FILE_MODE = 0o600;

/**
 * The newest request log entries, kept in a JSON-lines file so the log a window shows survives a
 * restart. Entries are appended in batches off the request path; the file is rewritten with only
 * the newest `limit` entries when it grows past twice that, so it stays bounded without a rewrite
 * per batch. A line that cannot be read (a crash mid-write, an edit) is skipped, never fatal.
 * Entries hold key prefixes only, never keys; bodies are kept only while body logging is on.
 */
export class LogHistoryFile {
  /** the newest entries, as the file will hold them after a rewrite */
  private tail: LogEntry[] = [];
  /**
   * Entries not written yet, with their numbers. The numbered copy a line is written from is made
   * only when it is written: on a busy gate most entries are dropped before that, and a copy per
   * request on the request path cost more than the whole history.
   */
  private pending: Array<{ entry: RequestLogEntry; seq: number }> = [];
  /** lines in the file now, bad ones included */
  private lines = 0;
  /** the next write replaces the file rather than appending to it */
  private rewrite = false;
  private bodiesKept: boolean;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  /** history is off and the file has been removed: nothing to do until it is on again */
  private removed = false;
  private lastError = '';
  private readonly flushMs: number;

  constructor(private readonly options: LogHistoryOptions) {
    this.flushMs = options.flushMs ?? 1_000;
    this.bodiesKept = options.keepBodies();
  }

  /**
   * What an earlier run kept: the newest `limit` entries, oldest first. Read once, at start. A file
   * that needs tidying (a bad or partial line, bodies no longer to be kept, too many lines) is
   * rewritten soon after, in the background.
   */
  load(): LogEntry[] {
    const limit = this.limit();
    let text: string;
    try {
      text = readFileSync(this.options.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.fail('read', error);
      else this.removed = limit === 0;
      return [];
    }
    try {
      // Left readable by others by something else: tightened, like gate.log.
      chmodSync(this.options.file, FILE_MODE);
    } catch {
      // the write that follows creates it 0600 if need be
    }
    if (limit === 0) {
      // History was turned off: what an earlier run kept goes.
      this.schedule(0);
      return [];
    }
    const lines = text.split('\n');
    // A file that does not end in a newline has a partial last line: appending would glue onto it.
    const clean = lines.pop() === '';
    let entries: LogEntry[] = [];
    let bad = !clean;
    for (const line of lines) {
      const entry = parseEntry(line);
      if (entry) entries.push(entry);
      else bad = true;
    }
    entries = ascending(entries);
    if (!this.bodiesKept && entries.some((entry) => entry.requestBody !== null)) {
      entries = entries.map(withoutBody);
      bad = true;
    }
    this.tail = entries.slice(-limit);
    this.lines = lines.length + (clean ? 0 : 1);
    if (bad || this.lines > 2 * limit) {
      this.rewrite = true;
      this.schedule(0);
    }
    return [...this.tail];
  }

  /** Queues an entry and its number; it is written within `flushMs`, with whatever else came meanwhile. */
  add(entry: RequestLogEntry, seq: number): void {
    if (this.closed) return;
    const limit = this.limit();
    if (limit === 0) {
      if (!this.removed) this.schedule(this.flushMs);
      return;
    }
    this.pending.push({ entry, seq });
    // A disk that does not keep up costs memory no more than the history itself.
    if (this.pending.length > limit * 2) this.pending = this.pending.slice(-limit);
    this.schedule(this.flushMs);
  }

  /** Applies changed settings (the number kept, body logging) to the file soon, even with nothing new to write. */
  settingsChanged(): void {
    if (this.closed) return;
    const keepBodies = this.options.keepBodies();
    if (this.bodiesKept && !keepBodies) this.rewrite = true;
    this.bodiesKept = keepBodies;
    if (this.tail.length > this.limit()) this.rewrite = true;
    if (this.rewrite || (this.limit() === 0 && !this.removed)) this.schedule(0);
  }

  /** Writes what is pending; resolves when it is on disk (or failed, which is reported). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  /** Writes what is pending and takes no more. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private limit(): number {
    const limit = this.options.limit();
    return Number.isInteger(limit) && limit > 0 ? limit : 0;
  }

  private schedule(ms: number): void {
    if (this.timer) {
      if (ms > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => void this.flush(), ms);
    this.timer.unref?.();
  }

  private async write(): Promise<void> {
    const { file } = this.options;
    const limit = this.limit();
    const keepBodies = this.options.keepBodies();
    const pending = this.pending;
    this.pending = [];
    try {
      if (limit === 0) {
        this.tail = [];
        this.lines = 0;
        this.rewrite = false;
        if (!this.removed) await rm(file, { force: true });
        this.removed = true;
        return;
      }
      this.removed = false;
      // Only the newest `limit` can stay in the file: older ones would be written only to be cut away.
      const batch = pending.slice(-limit).map(({ entry, seq }) => ({ ...entry, seq, requestBody: keepBodies ? entry.requestBody : null }));
      if (!keepBodies && this.tail.some((entry) => entry.requestBody !== null)) {
        this.tail = this.tail.map(withoutBody);
        this.rewrite = true;
      }
      this.tail.push(...batch);
      if (this.tail.length > limit) this.tail = this.tail.slice(-limit);
      if (this.rewrite || this.lines + batch.length > 2 * limit) {
        await mkdir(dirname(file), { recursive: true });
        // A crash mid-write leaves the old file or the new one, never half of each.
        const temporary = `${file}.${process.pid}.tmp`;
        await writeFile(temporary, toLines(this.tail), { mode: FILE_MODE });
        await rename(temporary, file);
        this.lines = this.tail.length;
        this.rewrite = false;
      } else if (batch.length > 0) {
        await mkdir(dirname(file), { recursive: true });
        await appendFile(file, toLines(batch), { mode: FILE_MODE });
        this.lines += batch.length;
      }
    } catch (error) {
      // Whatever is on disk now, the next write puts the whole tail down again.
      this.rewrite = true;
      this.fail('write', error);
    }
  }

  private fail(what: 'read' | 'write', error: unknown): void {
    const message = `could not ${what} the request history ${this.options.file}: ${(error as Error).message}`;
    if (message === this.lastError) return; // once, not once per batch
    this.lastError = message;
    (this.options.report ?? console.error)(message);
  }
}

function toLines(entries: readonly LogEntry[]): string {
  let text = '';
  for (const entry of entries) text += `${JSON.stringify(entry)}\n`;
  return text;
}

function withoutBody(entry: LogEntry): LogEntry {
  return entry.requestBody === null ? entry : { ...entry, requestBody: null };
}

/** By seq, each once: a file written by one process is in order already, this only guards against an edited one. */
function ascending(entries: LogEntry[]): LogEntry[] {
  const sorted = entries.every((entry, i) => i === 0 || entry.seq > entries[i - 1]!.seq) ? entries : [...entries].sort((a, b) => a.seq - b.seq);
  return sorted.filter((entry, i) => i === 0 || entry.seq !== sorted[i - 1]!.seq);
}

/** One line as an entry, or null when it is not one (partial, edited, from something else). */
const maybeText = v.nullable(v.string());
const maybeNumber = v.nullable(v.number());

/**
 * A line of the history as the gate wrote it. The file is the gate's own (0600), but a line is
 * still checked field by field before the window shows it: a hand-edited or half-restored file
 * must not hand the window a value of the wrong type, nor push `seq` past what numbers count.
 * Fields a later version added read as absent, not as garbage.
 */
const entrySchema = v.object({
  seq: v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(2 ** 52)),
  id: v.string(),
  time: v.number(),
  method: v.string(),
  path: v.string(),
  ip: v.string(),
  user: maybeText,
  keyId: maybeText,
  keyPrefix: maybeText,
  keySource: v.nullable(v.picklist(['x-api-key', 'bearer', 'basic', 'authorization', 'query', 'body', 'session'])),
  decision: v.picklist(['public', 'allowed', 'denied']),
  status: v.number(),
  ttfbMs: maybeNumber,
  durationMs: v.number(),
  bytesIn: v.number(),
  bytesOut: v.number(),
  model: maybeText,
  promptTokens: maybeNumber,
  completionTokens: maybeNumber,
  requestBody: v.optional(maybeText, null),
  outcome: v.picklist(['ok', 'denied', 'upstream_error', 'client_aborted', 'error']),
  error: maybeText,
  reason: v.optional(
    v.nullable(v.object({ code: v.picklist(REASON_CODES), params: v.optional(v.record(v.string(), v.union([v.string(), v.number()]))) })),
    null,
  ),
  client: v.optional(maybeText, null),
  answeredBy: v.optional(v.picklist(['gate', 'ollama']), 'gate'),
  backend: v.optional(maybeText, null),
});

function parseEntry(line: string): LogEntry | null {
  if (!line.trim()) return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  const parsed = v.safeParse(entrySchema, value);
  return parsed.success ? (parsed.output satisfies LogEntry) : null;
}
