import type { IncomingHttpHeaders } from 'node:http';
import { KEY_HEADERS } from './credentials.js';

/** Per-connection headers (RFC 9110 §7.6.1) that a proxy must not pass on. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

/**
 * Headers for the upstream request, as a flat `[name, value, …]` list (Node writes it as is): no
 * key-bearing header, no hop-by-hop header (nor any the client named in `Connection`), no `Host`
 * (the upstream target sets Ollama's own, which a loopback Ollama requires), no `Origin` (Ollama
 * answers a foreign Origin with 403; the gate does CORS itself) and no `Cookie` (a browser sends
 * the web admin's cookie to every port of the host, and Ollama forwards headers to ollama.com for
 * cloud models). With `bodyLength`, the gate sends a body it has read (and may have rewritten):
 * the client's `content-length` is replaced by that length.
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, bodyLength?: number): string[] {
  const named = connectionTokens(headers.connection);
  const out: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || KEY_HEADERS.has(name) || named?.has(name)) continue;
    if (name === 'host' || name === 'origin' || name === 'cookie' || (name === 'content-length' && bodyLength !== undefined)) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const item of value) out.push(name, item);
  }
  if (bodyLength !== undefined) out.push('content-length', String(bodyLength));
  return out;
}

/**
 * Ollama's response headers as the client gets them, added to `out` (a flat `[name, value, …]`
 * list for `writeHead`), read from the answer's raw headers so Node need not build its header
 * object: framing is Node's job; CORS and X-Request-Id the gate's. `content-length` is left out
 * when the gate sends a body of its own making.
 */
export function downstreamResponseHeaders(rawHeaders: readonly string[], out: string[] = [], keepContentLength = true): string[] {
  let named: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'connection') named = connectionTokens(rawHeaders[i + 1]);
  }
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || named?.has(name) || name === 'vary' || name === 'x-request-id' || name.startsWith('access-control-')) continue;
    if (name === 'content-length' && !keepContentLength) continue;
    out.push(name, rawHeaders[i + 1]!);
  }
  return out;
}

/** The header names a `Connection` header lists beyond the usual keep-alive/close (none, mostly). */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (!value) return undefined;
  const joined = Array.isArray(value) ? value.join(',') : value;
  const lower = joined.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close') return undefined;
  return new Set(lower.split(',').map((t) => t.trim()).filter(Boolean));
}
