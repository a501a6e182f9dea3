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

/**
 * An address locked out after repeated wrong keys gets nothing else: 429 with the time left, logged
 * as locked out (not as one more wrong key).
 */
export function refuseIfLockedOut(ip: string, lockout: Lockout): void {
  const seconds = lockout.remainingSeconds(ip);
  if (seconds > 0) throw new GateError('locked_out', { ip, seconds }, { 'Retry-After': String(seconds) });
}

/** Why a presented key was refused: alone, or as the failure that locks its address out. */
const REFUSALS = {
  unknown: { alone: 'invalid_key', locking: 'invalid_key_locking' },
  disabled: { alone: 'disabled_key', locking: 'disabled_key_locking' },
  expired: { alone: 'expired_key', locking: 'expired_key_locking' },
} as const;

/**
 * Verifies a presented key, noting in the record how it came and whose it is, or throws the
 * 403: a key that exists but may not be used (disabled, expired) is still named in the log. A
 * failure counts towards a lockout.
 */
export function authenticate(presented: PresentedKey, record: RequestRecord, deps: AuthDeps, cooldownSeconds: number): KeyRecord {
  record.keySource = presented.source;
  record.presentedPrefix = displayPrefix(presented.secret);
  record.presentedSecret = presented.secret;
  const result = deps.keys.verify(presented.secret);
  record.key = result.key ?? null;
  if (result.ok) return result.key;
  const refusal = REFUSALS[result.reason];
  const lockedNow = deps.lockout.recordFailure(record.ip);
  throw lockedNow ? new GateError(refusal.locking, { ip: record.ip, seconds: cooldownSeconds }) : new GateError(refusal.alone);
}

/** The `"api_key"` member of a JSON body, as a presented key. */
export function keyFromBody(apiKey: unknown): PresentedKey {
  if (typeof apiKey !== 'string' || !apiKey.trim()) throw new GateError('bad_body_api_key');
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

/** No key anywhere; `unreadBodyOver`: the body was too long to search for one, past that many bytes. */
export function missingKey(unreadBodyOver?: number): GateError {
  return unreadBodyOver === undefined ? new GateError('missing_key') : new GateError('missing_key_body_unread', { limit: unreadBodyOver });
}
