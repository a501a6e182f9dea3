/** What the gate reads of a request target: the path as URL parsing normalises it, and the query. */
export type RequestTarget = Pick<URL, 'pathname' | 'search' | 'searchParams'>;

/** A plain path (letters, digits, `-_:/`; no dot segments, escapes or query): one URL parsing leaves as it is. */
const PLAIN_PATH = /^\/[A-Za-z0-9_:/-]*$/;

/**
 * Parses a request target. Plain paths (`/api/chat`, `/v1/chat/completions`: nearly every request)
 * skip the URL parser, whose answer for them is the path itself; anything else (a query, dots,
 * escapes, `//`) goes through it.
 */
export function parseTarget(raw: string): RequestTarget {
  if (PLAIN_PATH.test(raw) && !raw.includes('//')) return new PlainPath(raw);
  return new URL(raw, 'http://gate.invalid');
}

/** A plain path as a request target: no query. */
class PlainPath implements RequestTarget {
  readonly search = '';
  constructor(readonly pathname: string) {}
  get searchParams(): URLSearchParams {
    return new URLSearchParams();
  }
}
