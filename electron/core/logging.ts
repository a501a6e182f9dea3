import { existsSync, renameSync, rmSync } from 'node:fs';
import { join, parse } from 'node:path';
import type { LogFile, NodeLogger } from 'electron-log';
import { formatLogLine, privateLogFile } from '../core/log-line.js';
import type { RequestLogEntry } from '../core/events.js';

export const LOG_FILE = 'gate.log';

export interface LoggingOptions {
  /** bytes before the file is rotated */
  maxSize?: number;
  /** rotated files kept beside the current one */
  keep?: number;
}

/**
 * Points electron-log (electron-log/main in the app; any NodeLogger in tests) at `gate.log` in the
 * logs folder, rotating it to gate.1.log … gate.N.log, and logs uncaught errors instead of showing
 * dialogs. Returns the log file's path.
 */
export function configureLogging(logger: NodeLogger, directory: string, { maxSize = 5 * 1024 * 1024, keep = 3 }: LoggingOptions = {}): string {
  const file = join(directory, LOG_FILE);
  logger.transports.file.resolvePathFn = () => file;
  logger.transports.file.maxSize = maxSize;
  logger.transports.file.writeOptions = privateLogFile(file);
  logger.transports.file.archiveLogFn = (old: LogFile) => {
    try {
      rotateLogFiles(old.path, keep);
    } catch (error) {
      // Rotation failing (a locked file on Windows) must not grow the log without bound.
      console.error(`ollama-gate: could not rotate ${old.path}: ${(error as Error).message}`);
      old.clear();
    }
  };
  logger.transports.console.format = '{h}:{i}:{s} {text}';
  logger.errorHandler.startCatching({ showDialog: false });
  return file;
}

/** gate.log becomes gate.1.log, gate.1.log becomes gate.2.log…; what would pass `keep` is deleted. */
export function rotateLogFiles(file: string, keep: number): void {
  const { dir, name, ext } = parse(file);
  const numbered = (n: number) => join(dir, `${name}.${n}${ext}`);
  rmSync(numbered(keep), { force: true });
  for (let n = keep - 1; n >= 1; n--) if (existsSync(numbered(n))) renameSync(numbered(n), numbered(n + 1));
  if (keep >= 1) renameSync(file, numbered(1));
  else rmSync(file, { force: true });
}

/** One line per finished request, as the headless gate writes them; refusals and failures as warnings. */
export function logRequest(logger: Pick<NodeLogger, 'info' | 'warn'>, entry: RequestLogEntry): void {
  const line = formatLogLine(entry);
  if (entry.outcome === 'ok') logger.info(line);
  else logger.warn(line);
}
