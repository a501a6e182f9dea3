import { join } from 'node:path';
import { defaultDataDir } from '../core/gate-store.js';
import { USAGE_FILE, type UsageRow, UsageLedger } from '../core/usage.js';
import { systemClock } from '../core/clock.js';

import { UsageError } from './command-line.js';

/** `ollama-gate usage [--json] [--since DATE]`: what each key used, per day. */
export async function runUsageCommand(options: { dataDir?: string; since?: string; json: boolean }): Promise<string> {
  if (options.since !== undefined && !isCalendarDay(options.since)) {
    throw new UsageError(`--since takes a date such as 2026-11-01, not "${options.since}"`);
  }
  const ledger = new UsageLedger(systemClock, join(options.dataDir ?? defaultDataDir(), USAGE_FILE));
  await ledger.load();
  const rows = ledger.query({ since: options.since });
  if (options.json) return JSON.stringify(rows);
  if (rows.length === 0) return options.since ? `No usage since ${options.since}.` : 'No usage recorded yet.';
  return table(rows);
}

/** YYYY-MM-DD naming a day that exists: 2026-13-01 and 2026-02-30 do not. */
function isCalendarDay(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const day = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return day.toISOString().slice(0, 10) === text;
}

function table(rows: UsageRow[]): string {
  const lines = [
    ['DAY', 'USER', 'KEY', 'REQUESTS', 'ERRORS', 'PROMPT TOK', 'COMPLETION TOK', 'IN', 'OUT'],
    ...rows.map((r) => [
      r.day,
      r.user,
      r.keyId,
      String(r.requests),
      String(r.errors),
      String(r.promptTokens),
      String(r.completionTokens),
      bytes(r.bytesIn),
      bytes(r.bytesOut),
    ]),
  ];
  const widths = lines[0]!.map((_, col) => Math.max(...lines.map((l) => l[col]!.length)));
  return lines
    .map((l) =>
      l
        .map((cell, col) => (col >= 3 ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
