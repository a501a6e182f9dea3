import { posix } from 'node:path';
import { GateError } from './errors.js';

/**
 * A request target as the gate decides on it and as Ollama will read it. Ollama (Go's net/http and
 * gin) routes on the percent-decoded path, after its ServeMux has cleaned `.`, `..` and `//`; so
 * the gate decodes and cleans once, checks that path, and sends Ollama that same path, escaped only
 * where it must be. `/api%2Fcopy` is checked and forwarded as `/api/copy`, never as a path the
 * policy does not know while Ollama runs a copy.
 */
export interface RequestTarget {
  /** the decoded, cleaned path every decision reads: `/api/chat` */
  path: string;
  /** the same path as sent to Ollama: escaped where a character needs it, so Go decodes it back to `path` */
  wirePath: string;
  query: RequestQuery;
}

/** The query string, parsed once for everything that reads it. */
export interface RequestQuery {
  /** the key in `?api_key=` (the member name matched decoded and in any case) */
  key: string | undefined;
  /** what Ollama gets: `?…` without any api_key member, every other member exactly as sent; '' for none */
  forwarded: string;
  /** what the log shows: `?…` with every api_key value replaced by `***` */
  logged: string;
}

/** A plain path (letters, digits, `-_:/`; no dot segments, escapes or query): nothing to decode or clean. */
const PLAIN_PATH = /^\/[A-Za-z0-9_:/-]*$/;
const NO_QUERY: RequestQuery = { key: undefined, forwarded: '', logged: '' };
/** Characters that must stay escaped on the wire for Go to read the path back as the gate did. */
const WIRE_ESCAPES = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/gu; // by code point: a surrogate pair is one character

/**
 * Parses a request target (origin form: `/path?query`). Refuses what it cannot read one way only:
 * another form, a bad escape, a control character or a `#` in the path, invalid UTF-8.
 */
export function parseTarget(raw: string): RequestTarget {
  if (PLAIN_PATH.test(raw) && !raw.includes('//')) return { path: raw, wirePath: raw, query: NO_QUERY };
  if (!raw.startsWith('/')) throw new GateError('target_not_path');
  const mark = raw.indexOf('?');
  const rawPath = mark >= 0 ? raw.slice(0, mark) : raw;
  const decoded = decodePath(rawPath);
  // Go's ServeMux cleans like path.Clean and keeps a trailing slash; posix.normalize does the same.
  const path = posix.normalize(decoded);
  const wirePath = path.replace(WIRE_ESCAPES, (c) => encodeURIComponent(c));
  return { path, wirePath, query: mark >= 0 ? parseQuery(raw.slice(mark + 1)) : NO_QUERY };
}

function decodePath(rawPath: string): string {
  let decoded: string;
  try {
    decoded = rawPath.includes('%') ? decodeURIComponent(rawPath) : rawPath;
  } catch {
    throw new GateError('target_bad_escape');
  }
  if (/[\u0000-\u001f\u007f#]/.test(decoded)) throw new GateError('target_control_char');
  return decoded;
}

/** The query's members, read by decoded name: `api%5Fkey`, `%61pi_key` and `API_KEY` all name the key. */
function parseQuery(query: string): RequestQuery {
  if (query === '') return NO_QUERY;
  let key: string | undefined;
  const kept: string[] = [];
  const logged: string[] = [];
  for (const member of query.split('&')) {
    const equals = member.indexOf('=');
    const name = equals >= 0 ? member.slice(0, equals) : member;
    if (formDecode(name).toLowerCase() !== 'api_key') {
      kept.push(member);
      logged.push(member);
      continue;
    }
    logged.push(`${name}=***`);
    const value = equals >= 0 ? formDecode(member.slice(equals + 1)).trim() : '';
    if (!value) continue;
    if (key !== undefined && key !== value) throw new GateError('target_two_keys');
    key = value;
  }
  return { key, forwarded: kept.length ? `?${kept.join('&')}` : '', logged: `?${logged.join('&')}` };
}

/** Decodes a query name or value as forms are encoded (`+` is a space); a broken escape stays as sent. */
function formDecode(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
