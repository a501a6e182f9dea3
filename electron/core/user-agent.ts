/**
 * The client a request names in its User-Agent, as the request log keeps it. The header is the
 * client's own choice: the log shows it to help tell programs apart, never as proof of who sent
 * a request (the gate never trusts it for anything).
 */

/** Longest User-Agent kept; real ones are well under it, a longer one is cut. */
export const MAX_CLIENT_LENGTH = 200;

/**
 * What looks like a secret: the gate's own keys (`og_…`), the common `sk-`/`pk-` style API keys, a
 * scheme followed by a credential, and any long unbroken run of token characters (real product
 * tokens are short: `ollama-js/0.6.3`, `Chrome/120.0.0.0`).
 */
const SECRET_LIKE = /\bog_[A-Za-z0-9_-]+|\b(?:sk|pk|rk)-[A-Za-z0-9_-]{8,}|\b(?:bearer|basic|token)[\s:=]+\S+|[A-Za-z0-9+/_-]{32,}=*/gi;

/** Control characters (a header can carry tabs and bytes above 0x7f, Node reads them as latin1). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g;

/**
 * The User-Agent as the log keeps it: control characters turned into spaces, anything shaped like a
 * key replaced by `[redacted]`, cut to MAX_CLIENT_LENGTH. Null when there is none.
 */
export function cleanUserAgent(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  const raw = Array.isArray(header) ? header.join(', ') : header;
  // Redacted before it is cut, so no part of a secret survives at the cut (headers are bounded by maxHeaderBytes).
  const cleaned = raw.replace(CONTROL, ' ').replace(SECRET_LIKE, '[redacted]').trim().replace(/\s+/g, ' ');
  if (!cleaned) return null;
  return cleaned.length > MAX_CLIENT_LENGTH ? `${cleaned.slice(0, MAX_CLIENT_LENGTH - 1)}…` : cleaned;
}
