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

/**
 * The CORS headers for a request's Origin as a flat `[name, value, …]` list, worked out once per
 * origin for the configured origins (a browser sends the same one every time; a flood of made-up
 * ones is not cached past a few).
 */
export class CorsHeaderCache {
  private allowed: readonly string[] = [];
  private byOrigin = new Map<string | undefined, string[]>();

  addTo(headers: string[], origin: string | undefined, allowed: readonly string[]): void {
    if (allowed !== this.allowed && !sameList(allowed, this.allowed)) {
      this.allowed = [...allowed];
      this.byOrigin.clear();
    }
    let pairs = this.byOrigin.get(origin);
    if (!pairs) {
      pairs = Object.entries(corsHeaders(origin, allowed)).flat();
      if (this.byOrigin.size >= 64) this.byOrigin.clear();
      this.byOrigin.set(origin, pairs);
    }
    for (const item of pairs) headers.push(item);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/**
 * Whether an IP's trust (a `POST /auth` session) may carry this request. A browser on a trusted
 * machine sends the machine's IP with every page's requests, so trust is for programs, not pages:
 * never for a request from an Origin that is not named in the allowed list (`*` names none), nor
 * for one a browser marks as coming from a page (`Sec-Fetch-Site` other than `none`, the user's own
 * navigation) without such an Origin: an `<img>`, a form, or a page whose name was rebound to this
 * address, whose requests a browser calls same-origin.
 */
export function ipTrustAllowed(origin: string | undefined, fetchSite: string | undefined, allowed: readonly string[]): boolean {
  if (origin !== undefined) return allowed.some((pattern) => pattern !== '*' && matchesOrigin(origin, pattern));
  return fetchSite === undefined || fetchSite === 'none';
}
