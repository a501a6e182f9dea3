import type { IncomingHttpHeaders } from 'node:http';
import { ipTrustAllowed } from './cors.js';
import type { PresentedKey } from './credentials.js';
import { GateError } from './errors.js';
import type { KeyRing } from './keyring.js';
import { type KeyRecord, displayPrefix } from './keys.js';
import type { Lockout } from './limits.js';
import type { RequestRecord } from './request-record.js';
import type { SessionCache } from './sessions.js';

/** What deciding who sends a request needs. */
export interface AuthDeps {
  keys: KeyRing;
  sessions: SessionCache;
  lockout: Lockout;
}

/** An address locked out after repeated wrong keys gets nothing else: 429 with the time left. */
export function refuseIfLockedOut(ip: string, lockout: Lockout): void {
  const seconds = lockout.remainingSeconds(ip);
  if (seconds > 0) throw new GateError('locked_out', `too many failed API keys from ${ip}; try again in ${seconds} s`, { 'Retry-After': String(seconds) });
}

const REFUSALS = {
  unknown: { code: 'invalid_key', message: 'invalid API key' },
  disabled: { code: 'disabled_key', message: 'this API key is disabled' },
  expired: { code: 'expired_key', message: 'this API key has expired' },
} as const;

/**
 * Verifies a presented key, noting in the record how it came and whose it is, or throws the
 * 403: a key that exists but may not be used (disabled, expired) is still named in the log. A
 * failure counts towards a lockout.
 */
export function authenticate(presented: PresentedKey, record: RequestRecord, deps: AuthDeps, cooldownSeconds: number): KeyRecord {
  record.keySource = presented.source;
  record.presentedPrefix = displayPrefix(presented.secret);
  const result = deps.keys.verify(presented.secret);
  record.key = result.key ?? null;
  if (result.ok) return result.key;
  const { code, message } = REFUSALS[result.reason];
  const lockedNow = deps.lockout.recordFailure(record.ip);
  throw new GateError(code, lockedNow ? `${message}; too many failed keys: ${record.ip} is locked out for ${cooldownSeconds} s` : message);
}

/** The `"api_key"` member of a JSON body, as a presented key. */
export function keyFromBody(apiKey: unknown): PresentedKey {
  if (typeof apiKey !== 'string' || !apiKey.trim()) throw new GateError('bad_request', '"api_key" in the body must be a non-empty string');
  return { secret: apiKey.trim(), source: 'body' };
}

/**
 * The key an IP trusted through `POST /auth` stands for, when that trust may carry this request: a
 * live session opened with the key's current secret, and a request that is not a web page's
 * (see ipTrustAllowed).
 */
export function trustedSessionKey(ip: string, headers: IncomingHttpHeaders, corsOrigins: readonly string[], deps: AuthDeps): KeyRecord | undefined {
  const fetchSite = headers['sec-fetch-site'];
  if (!ipTrustAllowed(headers.origin, typeof fetchSite === 'string' ? fetchSite : undefined, corsOrigins)) return undefined;
  const session = deps.sessions.use(ip);
  return session ? deps.keys.get(session.keyId) : undefined;
}

export function missingKey(hint = ''): GateError {
  return new GateError('missing_key', `API key required: send it as "Authorization: Bearer <key>" or "X-API-Key: <key>"${hint}`);
}
