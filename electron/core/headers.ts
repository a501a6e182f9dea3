import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { KEY_HEADERS } from './credentials.js';

/** Per-connection headers (RFC 9110 §7.6.1) that a proxy must not pass on; undici refuses several. */
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
 * Headers for the upstream request: no key-bearing header, no hop-by-hop header (nor any the
 * client named in `Connection`), no `Host` (undici sets Ollama's own, which a loopback Ollama
 * requires) and no `Origin` (Ollama answers a foreign Origin with 403; the gate does CORS itself).
 * `content-length` is dropped when the gate rewrites the body, and set again from the new body.
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, keepContentLength: boolean): Record<string, string | string[]> {
  const named = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || KEY_HEADERS.has(name) || named.has(name)) continue;
    if (name === 'host' || name === 'origin') continue;
    if (name === 'content-length' && !keepContentLength) continue;
    out[name] = value;
  }
  return out;
}

/** Ollama's response headers as the client gets them: framing is Node's job, CORS the gate's. */
export function downstreamResponseHeaders(headers: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const named = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || named.has(name) || name.startsWith('access-control-') || name === 'vary') continue;
    out[name] = value;
  }
  return out;
}

function connectionTokens(value: string | string[] | undefined): Set<string> {
  if (!value) return new Set();
  const joined = Array.isArray(value) ? value.join(',') : value;
  return new Set(joined.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}
