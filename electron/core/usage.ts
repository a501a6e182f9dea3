import { readFile } from 'node:fs/promises';
import type { Clock } from './clock.js';
import { updateFile } from './store-file.js';
import type { UsageRow } from '../shared/contract.js';

/** Per-key usage counts, beside the store file in the data directory. */
export const USAGE_FILE = 'usage.json';

/** What one key did on one day (UTC), as the contract declares it. */
export type { UsageRow };

export interface UsageFilter {
  /** first day included, YYYY-MM-DD */
  since?: string;
  keyId?: string;
}

/** One finished request, as far as accounting cares. */
export interface UsageSample {
  keyId: string;
  user: string;
  time: number;
  failed: boolean;
  promptTokens: number | null;
  completionTokens: number | null;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
}

type Counters = Omit<UsageRow, 'day' | 'keyId' | 'user'>;

const COUNTERS: Array<keyof Counters> = ['requests', 'errors', 'promptTokens', 'completionTokens', 'bytesIn', 'bytesOut', 'durationMs'];

/** How often recorded usage is written out: never on the request path. */
const FLUSH_INTERVAL_MS = 2_000;

const DAY_MS = 86_400_000;
/** The last day asked for: almost every call is for today. */
let lastDay = { start: 0, end: 0, text: '1970-01-01' };

export function utcDay(time: number): string {
  if (time >= lastDay.start && time < lastDay.end) return lastDay.text;
  const start = Math.floor(time / DAY_MS) * DAY_MS;
  const text = new Date(start).toISOString().slice(0, 10);
  if (Number.isFinite(start)) lastDay = { start, end: start + DAY_MS, text };
  return text;
}

/**
 * Per key and per day counters, kept in memory and merged into a JSON file in the background.
 * A flush adds only what this process recorded since its last flush to what the file holds (and
 * adds it again if another process replaced the file meanwhile), so two processes sharing a data
 * directory (the app and `ollama-gate serve`) both keep their counts, even flushing at once.
 */
export class UsageLedger {
  private totals = new Map<string, UsageRow>();
  private pending = new Map<string, UsageRow>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    /** where usage is kept; undefined keeps it in memory only */
    private readonly file?: string,
  ) {}

  /** Loads what earlier runs recorded. A missing file is an empty ledger; a broken one is an error, left untouched. */
  async load(): Promise<void> {
    if (!this.file) return;
    const rows = await readRows(this.file);
    this.totals = new Map(rows.map((row) => [rowKey(row.day, row.keyId), row]));
    for (const row of this.pending.values()) addInto(this.totals, row);
  }

  /** Called for every finished request: counts it into today's row of its key, without allocating once the row exists. */
  record(sample: UsageSample): void {
    const day = utcDay(sample.time);
    const key = rowKey(day, sample.keyId);
    addSample(this.totals, key, day, sample);
    if (!this.file) return;
    addSample(this.pending, key, day, sample);
    this.timer ??= setTimeout(() => void this.flush().catch(reportFlushError), FLUSH_INTERVAL_MS).unref();
  }

  /** Prompt plus completion tokens a key used today (UTC): what a daily budget is checked against. */
  tokensToday(keyId: string): number {
    const row = this.totals.get(rowKey(utcDay(this.clock.now()), keyId));
    return row ? row.promptTokens + row.completionTokens : 0;
  }

  query(filter: UsageFilter = {}): UsageRow[] {
    return [...this.totals.values()]
      .filter((row) => (!filter.since || row.day >= filter.since) && (!filter.keyId || row.keyId === filter.keyId))
      .sort((a, b) => b.day.localeCompare(a.day) || a.user.localeCompare(b.user) || a.keyId.localeCompare(b.keyId))
      .map((row) => ({ ...row }));
  }

  /** Writes pending counts out, merged with what the file holds now (another process may have added to it). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const file = this.file;
    if (!file) return Promise.resolve();
    // One write at a time: a flush asked for during a write runs after it.
    const run = this.writing.then(() => this.writePending(file));
    this.writing = run.catch(() => {});
    return run;
  }

  private async writePending(file: string): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      let merged = new Map<string, UsageRow>();
      // Added to what the file holds when it is replaced: made again if another process wrote meanwhile.
      await updateFile(file, 0o600, (text) => {
        merged = new Map(parseRows(file, text).map((row) => [rowKey(row.day, row.keyId), row]));
        for (const row of batch.values()) addInto(merged, row);
        return `${JSON.stringify({ version: 1, rows: [...merged.values()] })}\n`;
      });
      // The file's view, plus anything recorded while it was being written.
      for (const row of this.pending.values()) addInto(merged, row);
      this.totals = merged;
    } catch (error) {
      // Nothing is lost: the batch waits for the next flush.
      for (const row of batch.values()) addInto(this.pending, row);
      this.timer ??= setTimeout(() => void this.flush().catch(reportFlushError), FLUSH_INTERVAL_MS).unref();
      throw error instanceof UsageFileError ? error : new UsageFileError(`could not write usage file ${file}: ${(error as Error).message}`, { cause: error });
    }
  }
}

function rowKey(day: string, keyId: string): string {
  return `${day}|${keyId}`;
}

function addSample(rows: Map<string, UsageRow>, key: string, day: string, sample: UsageSample): void {
  let row = rows.get(key);
  if (!row) {
    row = { day, keyId: sample.keyId, user: sample.user, requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, bytesIn: 0, bytesOut: 0, durationMs: 0 };
    rows.set(key, row);
  }
  row.user = sample.user;
  row.requests += 1;
  if (sample.failed) row.errors += 1;
  row.promptTokens += sample.promptTokens ?? 0;
  row.completionTokens += sample.completionTokens ?? 0;
  row.bytesIn += sample.bytesIn;
  row.bytesOut += sample.bytesOut;
  row.durationMs += Math.round(sample.durationMs);
}

function addInto(rows: Map<string, UsageRow>, delta: UsageRow): void {
  const key = rowKey(delta.day, delta.keyId);
  const row = rows.get(key);
  if (!row) {
    rows.set(key, { ...delta });
    return;
  }
  row.user = delta.user;
  for (const counter of COUNTERS) row[counter] += delta[counter];
}

async function readRows(file: string): Promise<UsageRow[]> {
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotRead(file, error);
  }
  return parseRows(file, text);
}

/** The rows of a usage file's text (none when there is no file). */
function parseRows(file: string, text: string | undefined): UsageRow[] {
  if (text === undefined) return [];
  try {
    const parsed = JSON.parse(text) as { rows?: unknown };
    if (!Array.isArray(parsed.rows)) throw new Error('no "rows" array');
    return parsed.rows.filter(isUsageRow);
  } catch (error) {
    throw new UsageFileError(`the usage file ${file} is not valid (${(error as Error).message}); it was left untouched`, { cause: error });
  }
}

function cannotRead(file: string, error: unknown): UsageFileError {
  return new UsageFileError(`cannot read usage file ${file}: ${(error as Error).message}`, { cause: error });
}

/** A usage file that cannot be read, parsed or written; the message names it. */
class UsageFileError extends Error {}

function isUsageRow(value: unknown): value is UsageRow {
  if (!value || typeof value !== 'object') return false;
  const row = value as Record<string, unknown>;
  return typeof row.day === 'string' && typeof row.keyId === 'string' && typeof row.user === 'string' && COUNTERS.every((c) => typeof row[c] === 'number');
}

function reportFlushError(error: unknown): void {
  console.error(`ollama-gate: could not save usage, will retry: ${error instanceof Error ? error.message : String(error)}`);
}
