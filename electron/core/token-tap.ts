/** Bytes of a response's end kept for reading token counts: the counts sit in its last line. */
const TAIL_BYTES = 4096;

const OLLAMA_PROMPT = /"prompt_eval_count":(\d+)/g;
const OLLAMA_COMPLETION = /"eval_count":(\d+)/g;
const OPENAI_PROMPT = /"prompt_tokens":(\d+)/g;
const OPENAI_COMPLETION = /"completion_tokens":(\d+)/g;

export interface TokenCounts {
  promptTokens: number | null;
  completionTokens: number | null;
}

/**
 * Reads token counts from a response as it streams past, without holding it up or copying it:
 * it keeps references to the last few KiB and looks at them once, when the response has ended.
 * Ollama reports counts in its final NDJSON object (`prompt_eval_count`, `eval_count`); the
 * OpenAI-compatible API in `usage` (`prompt_tokens`, `completion_tokens`), the last report winning.
 * Only the last line that carries data is read: earlier lines may hold tool-call arguments, which
 * Ollama sends as raw JSON objects a model could fill with anything.
 */
export class TokenTap {
  private tail: Buffer[] = [];
  private tailLength = 0;

  observe(chunk: Buffer): void {
    this.tail.push(chunk);
    this.tailLength += chunk.length;
    while (this.tail.length > 1 && this.tailLength - this.tail[0]!.length >= TAIL_BYTES) {
      this.tailLength -= this.tail.shift()!.length;
    }
  }

  counts(): TokenCounts {
    if (this.tailLength === 0) return { promptTokens: null, completionTokens: null };
    const text = lastDataLine(Buffer.concat(this.tail).subarray(-TAIL_BYTES * 2).toString('latin1'));
    return {
      promptTokens: lastNumber(text, OLLAMA_PROMPT) ?? lastNumber(text, OPENAI_PROMPT),
      completionTokens: lastNumber(text, OLLAMA_COMPLETION) ?? lastNumber(text, OPENAI_COMPLETION),
    };
  }
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

function lastNumber(text: string, pattern: RegExp): number | null {
  let last: number | null = null;
  for (const match of text.matchAll(pattern)) last = Number(match[1]);
  return last;
}
