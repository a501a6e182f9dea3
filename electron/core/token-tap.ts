/** Bytes of a response's end kept for reading token counts: the counts sit in its last line. */
const TAIL_BYTES = 4096;

const OLLAMA_PROMPT = '"prompt_eval_count":';
const OLLAMA_COMPLETION = '"eval_count":';
const OPENAI_PROMPT = '"prompt_tokens":';
const OPENAI_COMPLETION = '"completion_tokens":';

export interface TokenCounts {
  promptTokens: number | null;
  completionTokens: number | null;
}

/** What a response says of its tokens: its counts, and how many JSON objects it streamed. */
export interface TokenReading extends TokenCounts {
  /**
   * JSON lines seen (NDJSON objects, SSE `data: {…}` events): Ollama streams one per generated token,
   * so where the counts are missing (a stream the client left early, an OpenAI-style stream without
   * `stream_options.include_usage`) they say about how many tokens it got.
   */
  jsonLines: number;
}

/**
 * Reads token counts from a response as it streams past, without holding it up or copying it:
 * it keeps references to the chunks of the last data line (at most the last few KiB) and looks at
 * them once, when the response has ended.
 * Ollama reports counts in its final NDJSON object (`prompt_eval_count`, `eval_count`); the
 * OpenAI-compatible API in `usage` (`prompt_tokens`, `completion_tokens`), the last report winning.
 * Only the last line that carries data is read: earlier lines may hold tool-call arguments, which
 * Ollama sends as raw JSON objects a model could fill with anything.
 */
export class TokenTap {
  private tail: Buffer[] = [];
  private tailLength = 0;
  /** the bytes kept so far end a line: the next chunk starts one */
  private atLineStart = true;
  private jsonLines = 0;

  observe(chunk: Buffer): void {
    this.jsonLines += jsonLinesIn(chunk, this.atLineStart);
    // A chunk that opens with a whole data line makes everything before it history: only the last
    // data line counts. So a stream of one line per chunk keeps one chunk, not a few KiB of them.
    if (this.atLineStart && this.tailLength > 0 && opensWithDataLine(chunk)) {
      this.tail.length = 0;
      this.tailLength = 0;
    }
    this.tail.push(chunk);
    this.tailLength += chunk.length;
    if (chunk.length > 0) this.atLineStart = chunk[chunk.length - 1] === 0x0a;
    while (this.tail.length > 1 && this.tailLength - this.tail[0]!.length >= TAIL_BYTES) {
      this.tailLength -= this.tail.shift()!.length;
    }
  }

  counts(): TokenReading {
    const jsonLines = this.jsonLines;
    if (this.tailLength === 0) return { promptTokens: null, completionTokens: null, jsonLines };
    const tail = this.tail.length === 1 ? this.tail[0]! : Buffer.concat(this.tail);
    const text = lastDataLine(tail.toString('latin1', Math.max(0, tail.length - TAIL_BYTES * 2)));
    return {
      promptTokens: lastNumber(text, OLLAMA_PROMPT) ?? lastNumber(text, OPENAI_PROMPT),
      completionTokens: lastNumber(text, OLLAMA_COMPLETION) ?? lastNumber(text, OPENAI_COMPLETION),
      jsonLines,
    };
  }
}

const DATA = Buffer.from('data:');

/**
 * The lines in `chunk` that open a JSON object: `{` or `data:` then `{` at the start of a line
 * (`startsLine`: the chunk's first byte starts one). An estimate of tokens: a line split across
 * chunks right inside its `data: ` is missed, and a stream's opening and closing lines count too.
 */
function jsonLinesIn(chunk: Buffer, startsLine: boolean): number {
  let at = startsLine ? 0 : chunk.indexOf(0x0a) + 1;
  if (at === 0 && !startsLine) return 0;
  let found = 0;
  while (at < chunk.length) {
    if (opensJson(chunk, at)) found++;
    const next = chunk.indexOf(0x0a, at);
    if (next < 0) break;
    at = next + 1;
  }
  return found;
}

/** Whether the line at `at` is `{…` or `data: {…`. */
function opensJson(chunk: Buffer, at: number): boolean {
  if (chunk[at] === 0x7b) return true;
  if (chunk.length - at < DATA.length + 1 || chunk.compare(DATA, 0, DATA.length, at, at + DATA.length) !== 0) return false;
  const value = chunk[at + DATA.length] === 0x20 ? at + DATA.length + 1 : at + DATA.length;
  return chunk[value] === 0x7b;
}

const EVENT = Buffer.from('event:');
const DONE = Buffer.from('data: [DONE]');

/** Whitespace as String.prototype.trim sees it in a latin1 string. */
function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || (byte !== undefined && byte >= 0x09 && byte <= 0x0d) || byte === 0xa0;
}

/** Whether the chunk's first line is complete and is what lastDataLine would take: not blank, not `event:`, not `data: [DONE]`. */
function opensWithDataLine(chunk: Buffer): boolean {
  const end = chunk.indexOf(0x0a);
  if (end < 0) return false;
  let first = 0;
  while (first < end && isSpace(chunk[first])) first++;
  let last = end;
  while (last > first && isSpace(chunk[last - 1])) last--;
  if (first === last) return false;
  if (last - first >= EVENT.length && chunk.compare(EVENT, 0, EVENT.length, first, first + EVENT.length) === 0) return false;
  return !(last - first === DONE.length && chunk.compare(DONE, 0, DONE.length, first, last) === 0);
}

/** The final NDJSON object, or the last SSE `data:` line before `[DONE]` (where OpenAI puts usage). */
function lastDataLine(text: string): string {
  let end = text.length;
  while (end > 0) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    const line = text.slice(start, end).trim();
    if (line && line !== 'data: [DONE]' && !line.startsWith('event:')) return line;
    end = start - 1;
  }
  return '';
}

/** The number after the last `key` in `text` that has one (`"eval_count":42`), or null. */
function lastNumber(text: string, key: string): number | null {
  for (let at = text.lastIndexOf(key); at !== -1; at = at > 0 ? text.lastIndexOf(key, at - 1) : -1) {
    const start = at + key.length;
    let end = start;
    while (end < text.length && text.charCodeAt(end) >= 0x30 && text.charCodeAt(end) <= 0x39) end++;
    if (end > start) return Number(text.slice(start, end));
  }
  return null;
}
