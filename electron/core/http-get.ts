import { type Dispatcher, request } from 'undici';

export interface TextAnswer {
  status: number;
  text: string;
}

/** Bodies of probes and tests are small JSON; a bigger one is cut off here. */
const MAX_TEXT_BYTES = 1024 * 1024;

/**
 * A GET that resolves with the status and body text, or rejects: with a `TimeoutError` when
 * `timeoutMs` passes before the body has ended, else with the transport's error (its code mapped
 * in errors.ts). For health probes and self-tests: a few small answers, not the proxied traffic.
 * `dispatcher` reuses a pool's connections (Ollama's); without one undici's global agent is used.
 */
export async function getText(url: string | URL, options: { timeoutMs: number; dispatcher?: Dispatcher; headers?: Record<string, string> }): Promise<TextAnswer> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const answer = await request(url, { method: 'GET', headers: options.headers, dispatcher: options.dispatcher, signal, headersTimeout: 0, bodyTimeout: 0 });
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of answer.body as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length <= MAX_TEXT_BYTES) chunks.push(chunk);
    }
    return { status: answer.statusCode, text: Buffer.concat(chunks).toString('utf8') };
  } catch (error) {
    // undici reports an aborted request with its own error; the timeout is what happened.
    if (signal.aborted) throw Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { name: 'TimeoutError' });
    throw error;
  }
}
