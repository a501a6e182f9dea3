/** Headers browsers may send cross-origin: the key headers, plus what the OpenAI SDK adds (as Ollama allows). */
const ALLOWED_HEADERS = [
  'Authorization',
  'X-API-Key',
  'Content-Type',
  'Accept',
  'User-Agent',
  'X-Requested-With',
  'OpenAI-Beta',
  'x-stainless-arch',
  'x-stainless-async',
  'x-stainless-lang',
  'x-stainless-os',
  'x-stainless-package-version',
  'x-stainless-retry-count',
  'x-stainless-runtime',
  'x-stainless-runtime-version',
  'x-stainless-timeout',
].join(', ');

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS';

/** The origin to echo back, or undefined when this origin is not allowed (then no CORS headers at all). */
function allowedOrigin(origin: string | undefined, allowed: readonly string[]): string | undefined {
  if (allowed.includes('*')) return '*';
  if (!origin) return undefined;
  return allowed.some((pattern) => matchesOrigin(origin, pattern)) ? origin : undefined;
}

/** `http://localhost:*` style patterns: `*` stands for any run of characters. */
function matchesOrigin(origin: string, pattern: string): boolean {
  if (!pattern.includes('*')) return origin === pattern;
  const regex = new RegExp('^' + pattern.split('*').map(escapeRegExp).join('.*') + '$');
  return regex.test(origin);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Headers for an actual (non-preflight) response. */
export function corsHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  const allow = allowedOrigin(origin, allowed);
  if (!allow) return {};
  const headers: Record<string, string> = {
    'Access-Control-Allow-Origin': allow,
    'Access-Control-Expose-Headers': 'X-Request-Id, Retry-After',
  };
  if (allow !== '*') headers['Vary'] = 'Origin';
  return headers;
}

/** Headers for a preflight answer. */
export function preflightHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  const base = corsHeaders(origin, allowed);
  if (!base['Access-Control-Allow-Origin']) return {};
  return {
    ...base,
    'Access-Control-Allow-Methods': ALLOWED_METHODS,
    'Access-Control-Allow-Headers': ALLOWED_HEADERS,
    'Access-Control-Max-Age': '43200',
  };
}
