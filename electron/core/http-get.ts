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

/** Bodies of probes and tests are small JSON; reading stops past this much. */
const MAX_TEXT_BYTES = 1024 * 1024;

/**
 * A GET that resolves with the status and body text, or rejects: with a `TimeoutError` when
 * `timeoutMs` passes before the body has ended, else with the transport's error (its code mapped
 * in errors.ts). For health probes and self-tests: a few small answers, not the proxied traffic.
 * `dispatcher` reuses a pool's connections (Ollama's); without one a shared agent of its own is used.
 */
export async function getText(
  url: string | URL,
  options: { timeoutMs: number; dispatcher?: Dispatcher; headers?: Record<string, string> | string[]; signal?: AbortSignal },
): Promise<TextAnswer> {
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
      if (length > MAX_TEXT_BYTES) break; // leaving the loop ends the answer's body
      chunks.push(chunk);
    }
    return { status: answer.statusCode, text: Buffer.concat(chunks).toString('utf8'), headers: answer.headers };
  } catch (error) {
    // undici reports an aborted request with its own error; the timeout is what happened.
    if (timeout.aborted) throw Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { name: 'TimeoutError' });
    throw error;
  }
}
