import type { LogEntry } from '../../../../electron/shared/contract.js';

/** One JSON object per line, in the order shown. */
export function toJsonLines(entries: readonly LogEntry[]): string {
  return entries.map((entry) => JSON.stringify(entry)).join('\n') + (entries.length ? '\n' : '');
}

/** ollama-gate-log-20260110-140327.jsonl, in local time. */
export function exportFileName(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `ollama-gate-log-${stamp}.jsonl`;
}

/** Saves the entries as a JSON-lines file through the browser's download. */
export function downloadJsonLines(entries: readonly LogEntry[], now = new Date()): void {
  const url = URL.createObjectURL(new Blob([toJsonLines(entries)], { type: 'application/x-ndjson' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = exportFileName(now);
  link.className = 'offscreen';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
