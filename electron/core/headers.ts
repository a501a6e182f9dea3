import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { KEY_HEADERS } from './credentials.js';

/**
 * Per-connection headers (RFC 9110 §7.6.1) that a proxy must not pass on, and `expect`: the gate
 * answers a client's "100-continue" itself, and undici refuses the header.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect']);

/**
 * Headers for the upstream request, as a flat `[name, value, …]` list: no key-bearing header, no
 * hop-by-hop header (nor any other the client named in `Connection`), no `Host` (undici sets
 * Ollama's own, which a loopback Ollama requires), no `Origin` (Ollama answers a foreign Origin
 * with 403; the gate does CORS itself) and no `Cookie` (a browser sends the web admin's cookie to
 * every port of the host, and Ollama forwards headers to ollama.com for cloud models). Never
 * `Content-Length` either: how the body is framed is the gate's decision (undici writes the length
 * of what the gate sends), whatever the client declared or named in `Connection`. `via`: this
 * gate's own entry, added to any the client sent, so a request that comes back is recognised.
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, presentedSecret: string | null = null, via?: string): string[] {
  const named = connectionTokens(headers.connection);
  const out: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || KEY_HEADERS.has(name) || NEVER_FORWARDED.has(name) || named?.has(name)) continue;
    if (typeof value === 'string') out.push(name, withoutSecret(value, presentedSecret));
    else for (const item of value) out.push(name, withoutSecret(item, presentedSecret));
  }
  if (via) out.push('via', via);
  return out;
}

/**
 * A `Via` entry naming this gate, different in each gateway: an upstream URL that leads back to the
 * gate (its own port, or another proxy in front of it) brings the request back with it.
 */
export function ownViaEntry(): string {
  return `1.1 ollama-gate-${randomBytes(6).toString('hex')}`;
}

/** Whether a request has already passed through the gate whose `Via` entry is `own`. */
export function passedThrough(via: string | string[] | undefined, own: string): boolean {
  if (via === undefined) return false;
  return (Array.isArray(via) ? via : [via]).some((value) => value.split(',').some((entry) => entry.trim() === own));
}

/**
 * `value` with every copy of the key the client presented replaced: a key a client also put in a
 * User-Agent or a header of its own never reaches Ollama nor the log. (Keys shorter than 8
 * characters are not looked for: they would match ordinary text.)
 */
export function withoutSecret<V extends string | string[] | undefined>(value: V, secret: string | null): V {
  if (!secret || secret.length < 8 || value === undefined) return value;
  if (typeof value === 'string') return (value.includes(secret) ? value.replaceAll(secret, '[redacted]') : value) as V;
  return (value as string[]).map((item) => withoutSecret(item, secret)) as V;
}

/** The header that sends a request to one backend by name: the gate's to read, never Ollama's. */
export const BACKEND_HEADER = 'x-gate-backend';

/** Request headers that are the gate's to decide (framing, Ollama's host) or never Ollama's business. */
const NEVER_FORWARDED = new Set(['host', 'content-length', 'origin', 'cookie', BACKEND_HEADER]);

/**
 * Ollama's response headers as the client gets them, added to `out` (a flat `[name, value, …]`
 * list for `writeHead`): framing is Node's job; CORS and X-Request-Id the gate's.
 */
export function downstreamResponseHeaders(headers: IncomingHttpHeaders, out: string[]): string[] {
  const named = connectionTokens(headers.connection);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name) || name === 'vary' || name === 'x-request-id' || name.startsWith('access-control-'))
      continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const item of value) out.push(name, item);
  }
  return out;
}

/** The header names a `Connection` header lists beyond the usual keep-alive/close (none, mostly). */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (!value) return undefined;
  const joined = Array.isArray(value) ? value.join(',') : value;
  const lower = joined.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close') return undefined;
  return new Set(
    lower
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
  );
}
