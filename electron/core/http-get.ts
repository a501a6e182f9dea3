import http, { type Agent } from 'node:http';
import https from 'node:https';

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
 */
export function getText(url: string | URL, options: { timeoutMs: number; agent?: Agent; headers?: Record<string, string> }): Promise<TextAnswer> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.get(target, { agent: options.agent, headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      let length = 0;
      response.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length <= MAX_TEXT_BYTES) chunks.push(chunk);
      });
      response.on('error', fail);
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    let timedOut: Error | undefined;
    const timer = setTimeout(() => {
      timedOut = Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { name: 'TimeoutError' });
      request.destroy(timedOut);
    }, options.timeoutMs);
    request.on('error', fail);
    // Destroying the request mid-body also fails the response, with its own error: report the timeout.
    function fail(error: Error): void {
      clearTimeout(timer);
      reject(timedOut ?? error);
    }
  });
}
