import type { Dispatcher } from 'undici';
import Agent from 'undici/lib/dispatcher/agent.js';
import request from 'undici/lib/api/api-request.js';

export interface TextAnswer {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/** For requests to other addresses than Ollama's pool (the LAN check, the window's test request). */
let shared: Agent | undefined;

/** Bodies of probes and tests are small JSON: a longer one is refused, not read. */
const MAX_TEXT_BYTES = 1024 * 1024;

/**
 * What a model list (`/api/tags`, `/api/ps`, `/v1/models`) may take: about 400 bytes a model, so
 * tens of thousands of models, where 1 MiB held only a few thousand (a shared server with every
 * quantisation of many models has that many).
 */
export const MODEL_LIST_MAX_BYTES = 32 * 1024 * 1024;

/**
 * A GET that resolves with the status and body text, or rejects: with a `TimeoutError` when
 * `timeoutMs` passes before the body has ended, an `AnswerTooLongError` past `maxBytes` (1 MiB
 * unless given), else with the transport's error (its code mapped in errors.ts). For health probes,
 * model lists and self-tests, not the proxied traffic. `dispatcher` reuses a pool's connections
 * (Ollama's); without one a shared agent of its own is used.
 */
export async function getText(
  url: string | URL,
  options: { timeoutMs: number; dispatcher?: Dispatcher; headers?: Record<string, string> | string[]; signal?: AbortSignal; maxBytes?: number },
): Promise<TextAnswer> {
  const maxBytes = options.maxBytes ?? MAX_TEXT_BYTES;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const target = typeof url === 'string' ? new URL(url) : url;
    const dispatcher = options.dispatcher ?? (shared ??= new Agent({ keepAliveTimeout: 10_000 }));
    const answer = await request.call(dispatcher, {
      origin: target.origin,
      path: target.pathname + target.search,
      method: 'GET',
      headers: options.headers,
      signal,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of answer.body as AsyncIterable<Buffer>) {
      length += chunk.length;
      // A cut answer would parse as no answer (a model list as no models): refused, and leaving the loop ends its body.
      if (length > maxBytes) throw Object.assign(new Error(`the answer is longer than ${maxBytes} bytes`), { name: 'AnswerTooLongError' });
      chunks.push(chunk);
    }
    return { status: answer.statusCode, text: Buffer.concat(chunks).toString('utf8'), headers: answer.headers };
  } catch (error) {
    // undici reports an aborted request with its own error; the timeout is what happened.
    if (timeout.aborted) throw Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { name: 'TimeoutError' });
    throw error;
  }
}
