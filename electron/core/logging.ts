import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import type { LogFile, NodeLogger } from 'electron-log';
import { privateLogFile } from './log-line.js';

const LOG_FILE = 'gate.log';

export interface LoggingOptions {
  /** bytes before the file is rotated */
  maxSize?: number;
  /** rotated files kept beside the current one */
  keep?: number;
}

/** What configureLogging set up. */
export interface LogFileSetup {
  /** the log file's path */
  file: string;
  /** why the file cannot be written (the console alone gets the lines), or null */
  unwritable: string | null;
}

/**
 * The one logging setup of both hosts: electron-log (electron-log/main in the app, electron-log/node
 * for `serve`; any NodeLogger in tests) writes `gate.log` in the logs folder, private to this user,
 * appending in the background so a slow disk never stalls requests, rotated at `maxSize` to
 * gate.1.log … gate.N.log. A folder it cannot write is said once, in the gate's words (electron-log
 * would print a stack trace per attempt), and the console alone carries the lines.
 */
export function configureLogging(logger: NodeLogger, directory: string, { maxSize = 10 * 1024 * 1024, keep = 3 }: LoggingOptions = {}): LogFileSetup {
  const file = join(directory, LOG_FILE);
  logger.transports.console.format = '{h}:{i}:{s} {text}';
  const unwritable = whyUnwritable(file);
  if (unwritable) {
    logger.transports.file.level = false;
    logger.warn(
      `cannot write the log file ${file} (${unwritable}): requests are logged to the console only. Make ${directory} writable for this user, or choose another data folder`,
    );
    return { file, unwritable };
  }
  // electron-log looks for the app's name in a package.json above the main module (an ES module
  // has none it can see) or the working directory: named here, it works from any directory.
  logger.transports.file.setAppName('Ollama Gate');
  logger.transports.file.resolvePathFn = () => file;
  logger.transports.file.maxSize = maxSize;
  logger.transports.file.writeOptions = privateLogFile(file);
  logger.transports.file.sync = false;
  logger.transports.file.archiveLogFn = (old: LogFile) => {
    try {
      rotateLogFiles(old.path, keep);
    } catch (error) {
      // Rotation failing (a locked file on Windows) must not grow the log without bound.
      console.error(`ollama-gate: could not rotate ${old.path}: ${(error as Error).message}`);
      old.clear();
    }
  };
  return { file, unwritable: null };
}

/** Why `file` cannot be appended to (its folder made if missing), or null when it can. */
function whyUnwritable(file: string): string | null {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    closeSync(openSync(file, 'a', 0o600));
    return null;
  } catch (error) {
    return (error as Error).message;
  }
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
