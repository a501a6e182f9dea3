import type { LogEntry } from '../../../../electron/shared/contract.js';

export type StatusClass = 'all' | '2xx' | '3xx' | '4xx' | '5xx';
export const STATUS_CLASSES: readonly StatusClass[] = ['all', '2xx', '3xx', '4xx', '5xx'];

/** Which requests the log shows. `user`: '' for everyone, ANONYMOUS for requests without a key. */
export interface LogFilter {
  user: string;
  status: StatusClass;
  path: string;
  text: string;
}

export const ANONYMOUS = '\u0000anonymous';
export const EMPTY_FILTER: LogFilter = { user: '', status: 'all', path: '', text: '' };

export function statusClassOf(status: number): StatusClass | null {
  const hundreds = Math.floor(status / 100);
  return hundreds >= 2 && hundreds <= 5 ? (`${hundreds}xx` as StatusClass) : null;
}

/** The fields free text is looked for in. */
function haystack(entry: LogEntry): string {
  return [
    entry.id,
    entry.method,
    entry.path,
    entry.ip,
    entry.user,
    entry.keyPrefix,
    entry.model,
    entry.status,
    entry.outcome,
    entry.error,
    entry.keySource,
    entry.client,
    entry.backend,
  ]
    .filter((part) => part !== null && part !== undefined)
    .join(' ')
    .toLowerCase();
}

function matchesFilter(entry: LogEntry, filter: LogFilter): boolean {
  if (filter.user === ANONYMOUS ? entry.user !== null : filter.user !== '' && entry.user !== filter.user) return false;
  if (filter.status !== 'all' && statusClassOf(entry.status) !== filter.status) return false;
  const path = filter.path.trim().toLowerCase();
  if (path && !entry.path.toLowerCase().includes(path)) return false;
  const words = filter.text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length > 0) {
    const text = haystack(entry);
    if (!words.every((word) => text.includes(word))) return false;
  }
  return true;
}

/** What the log shows: the matching entries, newest first. */
export function filterLogs(entries: readonly LogEntry[], filter: LogFilter): LogEntry[] {
  const shown: LogEntry[] = [];
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    if (matchesFilter(entry, filter)) shown.push(entry);
  }
  return shown;
}

/** The users seen in the log, for the filter's choices. */
export function logUsers(entries: readonly LogEntry[]): string[] {
  const users = new Set<string>();
  for (const entry of entries) if (entry.user) users.add(entry.user);
  return [...users].sort((a, b) => a.localeCompare(b));
}

export function isFiltered(filter: LogFilter): boolean {
  return filter.user !== '' || filter.status !== 'all' || filter.path.trim() !== '' || filter.text.trim() !== '';
}
