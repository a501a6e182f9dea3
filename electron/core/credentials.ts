import type { IncomingHttpHeaders } from 'node:http';
import type { KeySource } from '../shared/contract.js';

/** How a client presented its key; `session` means no key, an IP trusted through `/auth`. */
export type { KeySource };

export interface PresentedKey {
  secret: string;
  source: KeySource;
}

/**
 * The key a request carries in its headers or query string, in the seed proxy's order:
 * X-API-Key, Bearer, Basic (password, or user name when the password is empty), bare
 * Authorization, `?api_key=` (found by request-target.ts). The body, last in that order, is read
 * separately (see json-body.ts).
 */
export function keyFromHeadersOrQuery(headers: IncomingHttpHeaders, queryKey: string | undefined): PresentedKey | undefined {
  const xApiKey = firstValue(headers['x-api-key'])?.trim();
  if (xApiKey) return { secret: xApiKey, source: 'x-api-key' };

  const authorization = headers.authorization?.trim();
  if (authorization) {
    const [scheme = '', ...rest] = authorization.split(/\s+/);
    const credentials = rest.join(' ');
    if (/^bearer$/i.test(scheme)) {
      if (credentials) return { secret: credentials, source: 'bearer' };
    } else if (/^basic$/i.test(scheme)) {
      const secret = basicAuthSecret(credentials);
      if (secret) return { secret, source: 'basic' };
    } else if (!credentials) {
      return { secret: scheme, source: 'authorization' };
    }
  }

  if (queryKey) return { secret: queryKey, source: 'query' };
  return undefined;
}

/** `user:key` URLs (LangChain Python's base_url) arrive as Basic: the key is the password, or the user alone. */
function basicAuthSecret(encoded: string): string | undefined {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
  const password = colon >= 0 ? decoded.slice(colon + 1) : '';
  return password.trim() || user.trim() || undefined;
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Headers that carry a key and so never reach Ollama. */
export const KEY_HEADERS = new Set(['x-api-key', 'authorization', 'proxy-authorization']);
