import { chmodSync } from 'node:fs';
import { DEFAULT_BACKEND_NAME } from '../shared/contract.js';
import type { RequestLogEntry } from './events.js';

/** One human-readable line per request, in the spirit of the seed proxy's log. */
export function formatLogLine(entry: RequestLogEntry): string {
  const key = entry.keyPrefix ? `${entry.keyPrefix}… via ${entry.keySource}` : entry.keySource;
  const who = entry.user ? `${entry.user} (${key})` : (key ?? '-');
  const timing = entry.ttfbMs !== null ? `${formatMs(entry.durationMs)} (first byte ${formatMs(entry.ttfbMs)})` : formatMs(entry.durationMs);
  const parts = [
    `[${entry.id}]`,
    entry.ip,
    who,
    `${entry.method} ${entry.path}`,
    `-> ${entry.status}`,
    timing,
    `${formatBytes(entry.bytesIn)} in / ${formatBytes(entry.bytesOut)} out`,
  ];
  if (entry.model) parts.push(`model=${entry.model}`);
  // With one Ollama every line would say `default`: only another backend (or `all`, a merged list) is named.
  if (entry.backend && entry.backend !== DEFAULT_BACKEND_NAME) parts.push(`backend=${entry.backend}`);
  if (entry.outcome !== 'ok') parts.push(`${entry.outcome}${entry.error ? `: ${entry.error}` : ''}`);
  return parts.join(' ');
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * How gate.log is written, by both hosts: readable by this user only, like the store (it names
 * users, key prefixes and addresses). A log an earlier version left readable by others is tightened.
 */
export function privateLogFile(file: string): { flag: 'a'; mode: number; encoding: 'utf8' } {
  try {
    chmodSync(file, 0o600);
  } catch {
    // not there yet: it is created 0600
  }
  return { flag: 'a', mode: 0o600, encoding: 'utf8' };
}
