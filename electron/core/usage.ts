import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Clock } from './clock.js';
import { updateFile } from './store-file.js';
import type { UsageRow } from '../shared/contract.js';

/**
 * Per-key usage counts, beside the store file in the data directory: earlier builds' single file,
 * read only, and the name the month files are made from (usage-2026-11.json).
 */
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
  /** the backend that answered (`default` for the default Ollama), if one did */
  backend: string | null;
}

type Counters = Omit<UsageRow, 'day' | 'keyId' | 'user' | 'backends'>;

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
 * Per key and per day counters, kept in memory and merged into JSON files in the background, one
 * file per month (usage-2026-11.json beside usage.json): a flush rewrites only its month's file,
 * so what it costs does not grow with the months of history. usage.json, where versions before
 * monthly files kept everything, is read and never written again.
 *
 * A flush adds only what this process recorded since its last flush to what the file holds (and
 * adds it again if another process replaced the file meanwhile), so two processes sharing a data
 * directory (the app and `ollama-gate serve`) both keep their counts, even flushing at once.
 */
export class UsageLedger {
  /** every row, by month (YYYY-MM): what the files hold plus what is pending */
  private totals = new Map<string, Map<string, UsageRow>>();
  private pending = new Map<string, UsageRow>();
  /** usage.json's rows, by month */
  private legacy = new Map<string, Map<string, UsageRow>>();
  /** each month file's rows, as last read or written */
  private months = new Map<string, Map<string, UsageRow>>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly clock: Clock,
    /** where usage is kept (usage.json; the month files go beside it); undefined keeps it in memory only */
    private readonly file?: string,
  ) {}

  /** Loads what earlier runs recorded. No files is an empty ledger; a broken one is an error, left untouched. */
  async load(): Promise<void> {
    if (!this.file) return;
    this.legacy = byMonth((await readRows(this.file)).values());
    this.months = new Map();
    for (const [month, path] of await monthFiles(this.file)) this.months.set(month, await readRows(path));
    this.totals = new Map();
    for (const month of new Set([...this.legacy.keys(), ...this.months.keys(), ...byMonth(this.pending.values()).keys()])) this.rebuildMonth(month);
  }

  /** Called for every finished request: counts it into today's row of its key, without allocating once the row exists. */
  record(sample: UsageSample): void {
    const day = utcDay(sample.time);
    const key = rowKey(day, sample.keyId);
    addSample(this.monthRows(day), key, day, sample);
    if (!this.file) return;
    addSample(this.pending, key, day, sample);
    this.timer ??= setTimeout(() => void this.flush().catch(reportFlushError), FLUSH_INTERVAL_MS).unref();
  }

  /** Prompt plus completion tokens a key used today (UTC): what a daily budget is checked against. */
  tokensToday(keyId: string): number {
    const day = utcDay(this.clock.now());
    const row = this.totals.get(monthOf(day))?.get(rowKey(day, keyId));
    return row ? row.promptTokens + row.completionTokens : 0;
  }

  query(filter: UsageFilter = {}): UsageRow[] {
    return [...this.totals.values()]
      .flatMap((rows) => [...rows.values()])
      .filter((row) => (!filter.since || row.day >= filter.since) && (!filter.keyId || row.keyId === filter.keyId))
      .sort((a, b) => b.day.localeCompare(a.day) || a.user.localeCompare(b.user) || a.keyId.localeCompare(b.keyId))
      .map((row) => ({ ...row }));
  }

  /** Writes pending counts out, merged with what the files hold now (another process may have added to them). */
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

  private monthRows(day: string): Map<string, UsageRow> {
    const month = monthOf(day);
    let rows = this.totals.get(month);
    if (!rows) this.totals.set(month, (rows = new Map()));
    return rows;
  }

  /** A month's totals anew: usage.json's rows, its file's and what is pending. */
  private rebuildMonth(month: string): void {
    const rows = new Map<string, UsageRow>();
    for (const source of [this.legacy.get(month), this.months.get(month)]) for (const row of source?.values() ?? []) addInto(rows, row);
    for (const row of this.pending.values()) if (monthOf(row.day) === month) addInto(rows, row);
    this.totals.set(month, rows);
  }

  private async writePending(file: string): Promise<void> {
    if (this.pending.size === 0) return;
    const batches = byMonth(this.pending.values());
    this.pending = new Map();
    for (const [month, batch] of batches) {
      const path = monthFile(file, month);
      try {
        let written = new Map<string, UsageRow>();
        // Added to what the file holds when it is replaced: made again if another process wrote meanwhile.
        await updateFile(path, 0o600, (text) => {
          written = parseRows(path, text);
          for (const row of batch.values()) addInto(written, row);
          return `${JSON.stringify({ version: 1, rows: [...written.values()] })}\n`;
        });
        batches.delete(month);
        this.months.set(month, written);
        // The file's view, plus anything recorded while it was being written.
        this.rebuildMonth(month);
      } catch (error) {
        // Nothing is lost: what was not written waits for the next flush.
        for (const rest of batches.values()) for (const row of rest.values()) addInto(this.pending, row);
        this.timer ??= setTimeout(() => void this.flush().catch(reportFlushError), FLUSH_INTERVAL_MS).unref();
        throw error instanceof UsageFileError ? error : new UsageFileError(`could not write usage file ${path}: ${(error as Error).message}`, { cause: error });
      }
    }
  }
}

/** The file a month's rows are kept in: usage-2026-11.json beside usage.json. */
export function monthFile(file: string, month: string): string {
  return join(dirname(file), `${basename(file, '.json')}-${month}.json`);
}

/** The month files beside `file`, as [month, path]. */
async function monthFiles(file: string): Promise<Array<[string, string]>> {
  const prefix = `${basename(file, '.json')}-`;
  const names = await readdir(dirname(file)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw cannotRead(dirname(file), error);
  });
  return names.flatMap((name): Array<[string, string]> => {
    const month = name.startsWith(prefix) ? /^(\d{4}-\d{2})\.json$/.exec(name.slice(prefix.length))?.[1] : undefined;
    return month ? [[month, join(dirname(file), name)]] : [];
  });
}

function monthOf(day: string): string {
  return day.slice(0, 7);
}

function byMonth(rows: Iterable<UsageRow>): Map<string, Map<string, UsageRow>> {
  const months = new Map<string, Map<string, UsageRow>>();
  for (const row of rows) {
    const month = monthOf(row.day);
    let into = months.get(month);
    if (!into) months.set(month, (into = new Map()));
    addInto(into, row);
  }
  return months;
}

function rowKey(day: string, keyId: string): string {
  return `${day}|${keyId}`;
}

function addSample(rows: Map<string, UsageRow>, key: string, day: string, sample: UsageSample): void {
  let row = rows.get(key);
  if (!row) {
    row = {
      day,
      keyId: sample.keyId,
      user: sample.user,
      requests: 0,
      errors: 0,
      promptTokens: 0,
      completionTokens: 0,
      bytesIn: 0,
      bytesOut: 0,
      durationMs: 0,
      backends: {},
    };
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
  if (sample.backend) row.backends[sample.backend] = (row.backends[sample.backend] ?? 0) + 1;
}

function addInto(rows: Map<string, UsageRow>, delta: UsageRow): void {
  const key = rowKey(delta.day, delta.keyId);
  const row = rows.get(key);
  if (!row) {
    rows.set(key, { ...delta, backends: { ...delta.backends } });
    return;
  }
  row.user = delta.user;
  for (const counter of COUNTERS) row[counter] += delta[counter];
  for (const [backend, requests] of Object.entries(delta.backends)) row.backends[backend] = (row.backends[backend] ?? 0) + requests;
}

async function readRows(file: string): Promise<Map<string, UsageRow>> {
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotRead(file, error);
  }
  return parseRows(file, text);
}

/** The rows of a usage file's text (none when there is no file), by row key. */
function parseRows(file: string, text: string | undefined): Map<string, UsageRow> {
  if (text === undefined) return new Map();
  try {
    const parsed = JSON.parse(text) as { rows?: unknown };
    if (!Array.isArray(parsed.rows)) throw new Error('no "rows" array');
    return new Map(parsed.rows.filter(isUsageRow).map((row) => [rowKey(row.day, row.keyId), { ...row, backends: backendCounts(row.backends) }]));
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

/** A row's requests by backend, as a file holds them (rows written before there were backends have none). */
function backendCounts(value: unknown): Record<string, number> {
  const counts: Record<string, number> = {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) return counts;
  for (const [name, requests] of Object.entries(value)) if (typeof requests === 'number' && Number.isFinite(requests)) counts[name] = requests;
  return counts;
}

function reportFlushError(error: unknown): void {
  console.error(`ollama-gate: could not save usage, will retry: ${error instanceof Error ? error.message : String(error)}`);
}
