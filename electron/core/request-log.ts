import type { NodeLogger } from 'electron-log';
import type { RequestLogEntry } from './events.js';
import { formatLogLine } from './log-line.js';

/** How long a finished request's line may wait before it is written: the log is never more behind than this. */
const FLUSH_INTERVAL_MS = 100;
/** A batch this long is written at once, so a flood never holds more than this in memory. */
const MAX_PENDING = 1_000;

type Level = 'info' | 'warn';

interface PendingLine {
  entry: RequestLogEntry;
  /** when the request finished: the line's own timestamp */
  at: number;
}

/** What the console and file transports of the request logger receive: lines of one level, in order. */
class LineBatch {
  private formatted: string[] | undefined;

  constructor(
    readonly level: Level,
    readonly lines: readonly PendingLine[],
  ) {}

  /** Each line's text, formatted once for both transports. */
  get texts(): string[] {
    return (this.formatted ??= this.lines.map(({ entry }) => formatLogLine(entry)));
  }
}

/**
 * The serve command's one line per request, taken off the request path: a finished request only
 * queues its log entry; at most every 100 ms the queued lines are formatted and handed to
 * electron-log in one message per run of same-level lines, so the console and the log file each
 * get one write per batch instead of one synchronous write per request. Every line keeps its own
 * timestamp, in the same layout as the main logger's other lines, and the file transport's
 * rotation still applies (it is the main logger's file, through a logger of its own).
 */
export class RequestLog {
  private pending: PendingLine[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly logger: NodeLogger;

  constructor(
    main: NodeLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.logger = main.create({ logId: 'ollama-gate-requests' });
    const { file, console } = this.logger.transports;
    file.resolvePathFn = main.transports.file.resolvePathFn;
    file.maxSize = main.transports.file.maxSize;
    file.sync = main.transports.file.sync;
    // The lines are laid out here, in the main logger's layout; electron-log's own transforms
    // (styles, templates, a JSON round trip of every message) have nothing left to do.
    const fileStamp = stamper(templateOf(main.transports.file.format));
    const consoleStamp = stamper(templateOf(main.transports.console.format));
    file.transforms = [({ data }) => fileStamp(data)];
    console.transforms = [({ data }) => [consoleStamp(data)]];
    console.level = main.transports.console.level;
    console.writeFn = main.transports.console.writeFn;
    file.level = main.transports.file.level;
    if (this.logger.transports.remote) this.logger.transports.remote.level = false;
  }

  /** Queues a finished request's line; it is written within FLUSH_INTERVAL_MS (or at once when the queue is full). */
  add(entry: RequestLogEntry): void {
    this.pending.push({ entry, at: this.now() });
    if (this.pending.length >= MAX_PENDING) this.flush();
    // Not unref'd: a process that is otherwise done still writes its last lines before it exits.
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  /** Writes every queued line now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.pending;
    if (lines.length === 0) return;
    this.pending = [];
    let start = 0;
    for (let i = 1; i <= lines.length; i++) {
      if (i < lines.length && levelOf(lines[i]!.entry) === levelOf(lines[start]!.entry)) continue;
      const batch = new LineBatch(levelOf(lines[start]!.entry), lines.slice(start, i));
      this.logger[batch.level](batch);
      start = i;
    }
  }
}

function levelOf(entry: RequestLogEntry): Level {
  return entry.outcome === 'ok' ? 'info' : 'warn';
}

/** electron-log's default file layout, for a transport whose format is not a template. */
const DEFAULT_TEMPLATE = '[{y}-{m}-{d} {h}:{i}:{s}.{ms}] [{level}]{scope} {text}';

function templateOf(format: unknown): string {
  return typeof format === 'string' ? format : DEFAULT_TEMPLATE;
}

/** Lays out the lines of a batch, each stamped with its own time as `template` says. */
function stamper(template: string): (data: unknown[]) => string {
  const stamp = compileStamp(template);
  return (data) => {
    const batch = data[0];
    if (!(batch instanceof LineBatch)) return data.map(String).join(' ');
    const { lines, texts, level } = batch;
    let text = '';
    for (let i = 0; i < lines.length; i++) text += (i ? '\n' : '') + stamp(level, lines[i]!.at, texts[i]!);
    return text;
  };
}

type Field = (date: Date, level: Level) => string;

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** The template fields a request line uses; others (variables this log has none of) stay as written. */
const FIELDS: Record<string, Field> = {
  y: (d) => String(d.getFullYear()),
  m: (d) => two(d.getMonth() + 1),
  d: (d) => two(d.getDate()),
  h: (d) => two(d.getHours()),
  i: (d) => two(d.getMinutes()),
  s: (d) => two(d.getSeconds()),
  ms: (d) => String(d.getMilliseconds()).padStart(3, '0'),
  iso: (d) => d.toISOString(),
  level: (_, level) => level,
  // electron-log pads `{level}]` so that messages line up
  'level]': (_, level) => `${level}]`.padEnd(6, ' '),
  scope: () => '',
};

/**
 * Compiles an electron-log string template (`{h}:{i}:{s} {text}`) into a function that lays out
 * one line exactly as electron-log would have for a message logged at `time`: fields from the
 * local time, and the text after the prefix with one space between them.
 */
export function compileStamp(template: string): (level: Level, time: number, text: string) => string {
  const textAt = template.lastIndexOf('{text}');
  const head = textAt < 0 ? template : template.slice(0, textAt).replace(/\s$/, '');
  const tail = textAt < 0 ? '' : template.slice(textAt + '{text}'.length);
  const compile = (part: string): Array<string | Field> =>
    part.split(/(\{level}]|\{\w+})/).map((piece) => {
      const name = piece === '{level}]' ? 'level]' : /^\{(\w+)}$/.exec(piece)?.[1];
      return name !== undefined && Object.hasOwn(FIELDS, name) ? FIELDS[name]! : piece;
    });
  const headParts = compile(head);
  const tailParts = compile(tail);
  const render = (parts: Array<string | Field>, date: Date, level: Level) => {
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : part(date, level);
    return out;
  };
  return (level, time, text) => {
    const date = new Date(time);
    const prefix = render(headParts, date, level).trimStart();
    return (prefix ? `${prefix} ${text}` : text) + render(tailParts, date, level);
  };
}
