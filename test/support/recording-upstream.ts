/**
 * A recording upstream for the differential request-smuggling test.
 *
 * The gate sits in front of this server; the test then checks that every request this server
 * parsed is exactly one the gate checked. For that to mean anything, this server must split the
 * byte stream into requests the way Ollama does. Ollama is Go (net/http + gin), so this is a
 * hand-written HTTP/1.1 request reader on node:net that copies Go's rules, independent of Node's
 * own parser (llhttp), which the gate may well be using.
 *
 * Go sources the rules were read from (Go 1.22+; "file: function" below):
 * - net/http/server.go: (*conn).serve, (*conn).readRequest, sendExpectationFailed, writeHeader
 * - net/http/request.go: readRequest, parseRequestLine, ParseHTTPVersion
 * - net/http/transfer.go: readTransfer, parseTransferEncoding, fixLength, fixTrailer,
 *   parseContentLength, (*body).readTrailer, seeUpcomingDoubleCRLF
 * - net/http/internal/chunked.go: (*chunkedReader).beginChunk/Read, readChunkLine, parseHexUint
 * - net/textproto/reader.go: readLineSlice, readContinuedLineSlice, readMIMEHeader,
 *   canonicalMIMEHeaderKey, validHeaderValueByte
 * - net/url/url.go: ParseRequestURI (parse, getScheme, parseAuthority, parseHost, unescape)
 * - golang.org/x/net/http/httpguts: ValidHostHeader, ValidHeaderFieldName, HeaderValuesContainsToken
 * - encoding/json: Decoder.Decode/readValue, scanner, unquote, fold.go (foldName/foldRune)
 *
 * Only node built-ins; nothing is imported from electron/core (the code under test).
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

export type Framing = 'none' | 'content-length' | 'chunked';

export type GoJsonKind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null' | 'none';

/** What `json.NewDecoder(body).Decode(&someStruct)` (gin's ShouldBindJSON) makes of a body. */
export interface GoJson {
  /** Decode would return nil: the first value is a syntactically valid object (or `null`). */
  ok: boolean;
  /** Go-like error text when !ok ('EOF' for an empty body, 'unexpected EOF', 'invalid character …'). */
  error?: string;
  /** Type of the first JSON value ('none' when there is none or it is malformed). */
  kind: GoJsonKind;
  /** Top-level members of the first value when it is an object, in text order, duplicates kept. */
  members: Array<[key: string, value: unknown]>;
  /** Non-whitespace bytes after the first value (Go's Decoder never reads them). */
  trailing: number;
}

export interface ParsedRequest {
  /** Index over all requests of this upstream (restarts at 0 on reset()). */
  seq: number;
  /** Connection number (1-based, in accept order). */
  connection: number;
  indexOnConnection: number;
  method: string;
  /** Request-target exactly as on the request line. */
  target: string;
  /** 'HTTP/1.1', 'HTTP/1.0', … as sent. */
  version: string;
  /** Go's URL.Path: percent-decoded (what gin routes on). '*' for `OPTIONS *`, '' for authority-form. */
  path: string;
  /** The path part of the target as sent (still escaped). */
  rawPath: string;
  /** Go's URL.RawQuery: the query as sent, without '?'. */
  query: string;
  /** Header fields in wire order: name as sent, value as Go's textproto hands it over (trimmed, folded lines joined). */
  headers: Array<[name: string, value: string]>;
  /** Trailer fields of a chunked body, same shape. */
  trailers: Array<[name: string, value: string]>;
  /** The body as the handler reads it (de-chunked). With bodyError: what was read before the error. */
  body: Buffer;
  framing: Framing;
  json: GoJson;
  /** The exact bytes of this request on the wire, request line to end of body (or to the error). */
  raw: Buffer;
  /**
   * Go hands the request to the handler once the head is read; a broken body (bad chunk, early EOF)
   * only shows when the handler reads it. Such a request is recorded here AND in `errors`, and the
   * connection is closed after the answer, as Go does (closeAfterReply).
   */
  bodyError: string | null;
}

export interface FramingError {
  connection: number;
  message: string;
  /** The bytes of the failed request: from its first byte to what had arrived when it failed. */
  bytes: Buffer;
  /** Status of the reply Go writes (400, 417, 431, 501, 505), or null when Go writes nothing. */
  status: number | null;
  stage: 'head' | 'body' | 'expect';
}

export interface UpstreamResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** NDJSON lines, written as a chunked body (HTTP/1.1) with a short delay between lines. */
  stream?: string[];
}

export interface RecordingUpstreamOptions {
  /** Override the answer to a request; undefined = the default echo answer. */
  respond?: (req: ParsedRequest) => UpstreamResponse | undefined;
  /** Delay between stream lines, ms. Default 5. */
  streamDelayMs?: number;
  /** The first request's `seq` (default 0): upstreams side by side number their requests apart. */
  firstSeq?: number;
}

export interface RecordingUpstream {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  requests: ParsedRequest[];
  errors: FramingError[];
  /** TCP connections accepted (since start or the last reset()). */
  readonly connections: number;
  /** Forget recorded requests and errors; seq and connection numbers start again. */
  reset(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Byte helpers
// ---------------------------------------------------------------------------------------------

const SP = 0x20;
const HT = 0x09;
const CR = 0x0d;
const LF = 0x0a;

/** b[i], or -1 past the end (keeps noUncheckedIndexedAccess quiet in the hot loops). */
function at(b: Uint8Array, i: number): number {
  return b[i] ?? -1;
}

/** One char per byte: the head is parsed on these "byte strings", as Go works on []byte/string. */
function latin1(b: Buffer): string {
  return b.toString('latin1');
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

function table(chars: string, alnum: boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (const ch of chars) t[ch.charCodeAt(0)] = 1;
  if (alnum) {
    for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
    for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
    for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  }
  return t;
}

/** RFC 7230 tchar: textproto validHeaderFieldByte, httpguts.IsTokenRune. */
const TOKEN = table("!#$%&'*+-.^_`|~", true);
/** httpguts validHostByte. */
const HOST_BYTE = table("!$%&()*+,-.:;=[]_~'", true);

function isToken(c: number): boolean {
  return TOKEN[c] === 1;
}

/** textproto validHeaderValueByte: HTAB, SP, VCHAR (0x21-0x7E) and obs-text (0x80-0xFF). */
function validHeaderValueByte(c: number): boolean {
  return c === HT || (c >= 0x20 && c !== 0x7f);
}

/**
 * Go's utf8.DecodeRune: a byte that does not start a valid, complete, shortest-form sequence
 * decodes as U+FFFD *of size 1*. (WHATWG's TextDecoder folds a truncated sequence into one
 * U+FFFD instead, so it cannot be used here.)
 */
function decodeRune(b: Uint8Array, i: number): [codePoint: number, size: number] {
  const b0 = at(b, i);
  if (b0 < 0x80) return [b0, 1];
  let size: number;
  let cp: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 < 0xc2) return [0xfffd, 1];
  if (b0 < 0xe0) {
    size = 2;
    cp = b0 & 0x1f;
  } else if (b0 < 0xf0) {
    size = 3;
    cp = b0 & 0x0f;
    if (b0 === 0xe0) lo = 0xa0;
    else if (b0 === 0xed) hi = 0x9f; // no UTF-16 surrogates
  } else if (b0 < 0xf5) {
    size = 4;
    cp = b0 & 0x07;
    if (b0 === 0xf0) lo = 0x90;
    else if (b0 === 0xf4) hi = 0x8f; // nothing above U+10FFFF
  } else {
    return [0xfffd, 1];
  }
  for (let k = 1; k < size; k++) {
    const c = at(b, i + k);
    const min = k === 1 ? lo : 0x80;
    const max = k === 1 ? hi : 0xbf;
    if (c < min || c > max) return [0xfffd, 1];
    cp = (cp << 6) | (c & 0x3f);
  }
  return [cp, size];
}

/** Bytes to a JS string the way Go's json/string conversions replace invalid UTF-8. */
function goUtf8Decode(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length;) {
    const [cp, size] = decodeRune(b, i);
    out += String.fromCodePoint(cp);
    i += size;
  }
  return out;
}

function goString(byteString: string): string {
  return goUtf8Decode(Buffer.from(byteString, 'latin1'));
}

// ---------------------------------------------------------------------------------------------
// Go's error replies (server.go, (*conn).serve)
// ---------------------------------------------------------------------------------------------

const STATUS_TEXT: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Request Entity Too Large',
  417: 'Expectation Failed',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

function statusLine(is11: boolean, code: number): string {
  const text = STATUS_TEXT[code];
  // writeStatusLine: an unknown code is written as "%03d status code %d".
  return `HTTP/1.${is11 ? 1 : 0} ${text === undefined ? `${code} status code ${code}` : `${code} ${text}`}\r\n`;
}

interface GoReply {
  status: number;
  message: string;
  /** The bytes Go writes before closing: it always says HTTP/1.1 and "Connection: close". */
  wire: string;
}

const ERROR_HEADERS = '\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n';

/** Any error that is not a statusError: a bare "400 Bad Request". */
function badRequest(message: string): GoReply {
  return { status: 400, message, wire: `HTTP/1.1 400 Bad Request${ERROR_HEADERS}400 Bad Request` };
}

/** statusError{code, text}: the text goes into the status line and the body. */
function statusError(code: number, text: string): GoReply {
  const t = `${code} ${STATUS_TEXT[code] ?? ''}: ${text}`;
  return { status: code, message: text, wire: `HTTP/1.1 ${t}${ERROR_HEADERS}${t}` };
}

/** unsupportedTEError: 501, the value is deliberately not echoed. */
function unsupportedTE(message: string): GoReply {
  return { status: 501, message, wire: `HTTP/1.1 501 Not Implemented${ERROR_HEADERS}Unsupported transfer encoding` };
}

function tooLarge(): GoReply {
  const t = '431 Request Header Fields Too Large';
  return { status: 431, message: 'http: request too large', wire: `HTTP/1.1 ${t}${ERROR_HEADERS}${t}` };
}

/** Server.MaxHeaderBytes default (1 MB) + the 4096 bytes of bufio slop: initialReadLimitSize. */
const HEAD_LIMIT = (1 << 20) + 4096;

// ---------------------------------------------------------------------------------------------
// Lines and MIME headers (bufio.Reader.ReadLine, net/textproto)
// ---------------------------------------------------------------------------------------------

type Line = { line: Buffer; next: number };

/**
 * bufio.ReadLine: a line ends at LF; one CR before it is dropped (so a bare LF ends a line too).
 * At EOF an unterminated rest is still returned as a line; only an empty rest is EOF.
 */
function readLine(b: Buffer, pos: number, ended: boolean): Line | 'more' | 'eof' {
  const nl = b.indexOf(LF, pos);
  if (nl >= 0) {
    const end = nl > pos && at(b, nl - 1) === CR ? nl - 1 : nl;
    return { line: b.subarray(pos, end), next: nl + 1 };
  }
  if (!ended) return 'more';
  if (pos < b.length) return { line: b.subarray(pos), next: b.length };
  return 'eof';
}

/** textproto trim: spaces and tabs, both ends. */
function trimSpTab(b: Buffer): Buffer {
  let i = 0;
  let n = b.length;
  while (i < n && (at(b, i) === SP || at(b, i) === HT)) i++;
  while (n > i && (at(b, n - 1) === SP || at(b, n - 1) === HT)) n--;
  return b.subarray(i, n);
}

/** textproto.TrimString: ASCII space = SP, HT, CR, LF. */
function trimString(s: string): string {
  return s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

/**
 * canonicalMIMEHeaderKey: token bytes are canonicalized ("content-length" → "Content-Length");
 * a key with a space is accepted but left as it is (go.dev/issue/34540; the server rejects it
 * later as an invalid header name); any other byte makes the line malformed (null).
 */
function canonicalKey(k: string): string | null {
  if (k.length === 0) return null;
  let noCanon = false;
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (isToken(c)) continue;
    if (c === SP) {
      noCanon = true;
      continue;
    }
    return null;
  }
  if (noCanon) return k;
  let out = '';
  let upper = true;
  for (let i = 0; i < k.length; i++) {
    let c = k.charCodeAt(i);
    if (upper && c >= 0x61 && c <= 0x7a) c -= 0x20;
    else if (!upper && c >= 0x41 && c <= 0x5a) c += 0x20;
    out += String.fromCharCode(c);
    upper = c === 0x2d; // '-'
  }
  return out;
}

/** http.CanonicalHeaderKey (textproto.CanonicalMIMEHeaderKey): invalid keys come back unchanged. */
function canonicalHeaderKey(k: string): string {
  for (let i = 0; i < k.length; i++) if (!isToken(k.charCodeAt(i))) return k;
  return canonicalKey(k) ?? k;
}

interface HeaderField {
  /** As sent (byte string). */
  name: string;
  /** Go's Header map key. */
  key: string;
  /** As Go has it (byte string). */
  value: string;
}

type MimeResult = { kind: 'more' } | { kind: 'error'; message: string } | { kind: 'ok'; fields: HeaderField[]; end: number };

/**
 * textproto readMIMEHeader, including obs-fold: a line starting with SP/HT continues the previous
 * field (joined with one space). Go needs one byte past a line to know it is not continued, so
 * without it (and before EOF) the answer is 'more'.
 */
function readMimeHeader(b: Buffer, start: number, ended: boolean): MimeResult {
  const more: MimeResult = { kind: 'more' };
  let pos = start;
  // "The first line cannot start with a leading space."
  if (pos < b.length) {
    if (at(b, pos) === SP || at(b, pos) === HT) return { kind: 'error', message: 'malformed MIME header initial line' };
  } else if (!ended) {
    return more;
  }
  const fields: HeaderField[] = [];
  for (;;) {
    const first = readLine(b, pos, ended);
    if (first === 'more') return more;
    if (first === 'eof') return { kind: 'error', message: 'unexpected EOF' };
    pos = first.next;
    if (first.line.length === 0) return { kind: 'ok', fields, end: pos };
    // mustHaveFieldNameColon: the field name must be on the first line.
    if (first.line.indexOf(0x3a) < 0) return { kind: 'error', message: `malformed MIME header: missing colon: ${JSON.stringify(latin1(first.line))}` };
    let kv = latin1(trimSpTab(first.line));
    // readContinuedLineSlice: skipSpace, then the rest of the line, until a line without leading space.
    for (;;) {
      let q = pos;
      while (q < b.length && (at(b, q) === SP || at(b, q) === HT)) q++;
      if (q >= b.length && !ended) return more; // ReadByte would block
      if (q === pos) break;
      kv += ' ';
      const cont = readLine(b, q, ended);
      if (cont === 'more') return more;
      if (cont === 'eof') {
        pos = q;
        break;
      }
      kv += latin1(trimSpTab(cont.line));
      pos = cont.next;
    }
    const colon = kv.indexOf(':');
    const name = kv.slice(0, colon);
    const raw = kv.slice(colon + 1);
    const key = canonicalKey(name);
    if (key === null) return { kind: 'error', message: `malformed MIME header line: ${JSON.stringify(kv)}` };
    for (let i = 0; i < raw.length; i++) {
      if (!validHeaderValueByte(raw.charCodeAt(i))) return { kind: 'error', message: `malformed MIME header line: ${JSON.stringify(kv)}` };
    }
    fields.push({ name, key, value: raw.replace(/^[ \t]+/, '') });
  }
}

// ---------------------------------------------------------------------------------------------
// Request line and URL (net/http/request.go, net/url)
// ---------------------------------------------------------------------------------------------

/** ParseHTTPVersion: "HTTP/1.0", "HTTP/1.1" or "HTTP/d.d". */
function parseHttpVersion(v: string): [number, number] | null {
  if (v === 'HTTP/1.1') return [1, 1];
  if (v === 'HTTP/1.0') return [1, 0];
  if (!v.startsWith('HTTP/') || v.length !== 8 || v[6] !== '.') return null;
  const major = v.charCodeAt(5);
  const minor = v.charCodeAt(7);
  if (!isDigit(major) || !isDigit(minor)) return null;
  return [major - 0x30, minor - 0x30];
}

interface GoUrl {
  /** Decoded path, byte string. */
  path: string;
  rawPath: string;
  rawQuery: string;
  host: string;
}

type Encoding = 'path' | 'host' | 'zone' | 'userPassword';

/** url.shouldEscape for the modes used while parsing. */
function shouldEscape(c: number, mode: Encoding): boolean {
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || isDigit(c)) return false;
  const ch = String.fromCharCode(c);
  if ((mode === 'host' || mode === 'zone') && '!$&\'()*+,;=:[]<>"'.includes(ch)) return false;
  if ('-_.~'.includes(ch)) return false;
  if ('$&+,/:;=?@'.includes(ch)) {
    if (mode === 'path') return ch === '?';
    if (mode === 'userPassword') return ch === '@' || ch === '/' || ch === '?' || ch === ':';
  }
  return true;
}

/** url.unescape: checks every %XX (and, for hosts, the allowed bytes) and decodes. */
function unescape(s: string, mode: Encoding): string | { error: string } {
  let out = '';
  for (let i = 0; i < s.length;) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const h1 = hexVal(s.charCodeAt(i + 1));
      const h2 = hexVal(s.charCodeAt(i + 2));
      if (i + 2 >= s.length || h1 < 0 || h2 < 0) return { error: `invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}` };
      if (mode === 'host' && h1 < 8 && s.slice(i, i + 3) !== '%25') return { error: `invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}` };
      const v = (h1 << 4) | h2;
      if (mode === 'zone' && s.slice(i, i + 3) !== '%25' && v !== SP && shouldEscape(v, 'host')) {
        return { error: `invalid URL escape ${JSON.stringify(s.slice(i, i + 3))}` };
      }
      out += String.fromCharCode(v);
      i += 3;
      continue;
    }
    if ((mode === 'host' || mode === 'zone') && c < 0x80 && shouldEscape(c, mode)) {
      return { error: `invalid character ${JSON.stringify(s[i])} in host name` };
    }
    out += s[i];
    i++;
  }
  return out;
}

function validOptionalPort(port: string): boolean {
  if (port === '') return true;
  if (port[0] !== ':') return false;
  for (let i = 1; i < port.length; i++) if (!isDigit(port.charCodeAt(i))) return false;
  return true;
}

function parseHost(host: string): string | { error: string } {
  if (host.startsWith('[')) {
    const i = host.lastIndexOf(']');
    if (i < 0) return { error: "missing ']' in host" };
    const colonPort = host.slice(i + 1);
    if (!validOptionalPort(colonPort)) return { error: `invalid port ${JSON.stringify(colonPort)} after host` };
    const zone = host.slice(0, i).indexOf('%25');
    if (zone >= 0) {
      const parts = [unescape(host.slice(0, zone), 'host'), unescape(host.slice(zone, i), 'zone'), unescape(host.slice(i), 'host')];
      let joined = '';
      for (const p of parts) {
        if (typeof p !== 'string') return p;
        joined += p;
      }
      return joined;
    }
  } else {
    const i = host.lastIndexOf(':');
    if (i >= 0 && !validOptionalPort(host.slice(i))) return { error: `invalid port ${JSON.stringify(host.slice(i))} after host` };
  }
  return unescape(host, 'host');
}

function validUserinfo(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || isDigit(c)) continue;
    if (!"-._:~!$&'()*+,;=%@".includes(s[i] ?? '')) return false;
  }
  return true;
}

/** url.ParseRequestURI (parse with viaRequest = true). No '#' handling: a fragment stays in the path. */
function parseRequestURI(raw: string): GoUrl | { error: string } {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return { error: 'net/url: invalid control character in URL' };
  }
  if (raw === '') return { error: 'empty url' };
  if (raw === '*') return { path: '*', rawPath: '*', rawQuery: '', host: '' };
  // getScheme
  let scheme = '';
  let rest = raw;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) continue;
    if (isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e) {
      if (i === 0) break;
      continue;
    }
    if (c === 0x3a) {
      if (i === 0) return { error: 'missing protocol scheme' };
      scheme = raw.slice(0, i);
      rest = raw.slice(i + 1);
    }
    break;
  }
  let rawQuery = '';
  if (rest.endsWith('?') && rest.indexOf('?') === rest.length - 1) {
    rest = rest.slice(0, -1); // ForceQuery
  } else {
    const q = rest.indexOf('?');
    if (q >= 0) {
      rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }
  if (!rest.startsWith('/')) {
    if (scheme !== '') return { path: '', rawPath: '', rawQuery, host: '' }; // opaque
    return { error: 'invalid URI for request' };
  }
  let host = '';
  if (scheme !== '' && rest.startsWith('//')) {
    let authority = rest.slice(2);
    rest = '';
    const slash = authority.indexOf('/');
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    const at = authority.lastIndexOf('@');
    const h = parseHost(at < 0 ? authority : authority.slice(at + 1));
    if (typeof h !== 'string') return h;
    host = h;
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      if (!validUserinfo(userinfo)) return { error: 'net/url: invalid userinfo' };
      for (const part of userinfo.split(':').slice(0, 2)) {
        const u = unescape(part, 'userPassword');
        if (typeof u !== 'string') return u;
      }
    }
  }
  const path = unescape(rest, 'path');
  if (typeof path !== 'string') return path;
  return { path, rawPath: rest, rawQuery, host };
}

// ---------------------------------------------------------------------------------------------
// Token lists (httpguts.HeaderValuesContainsToken, http.hasToken)
// ---------------------------------------------------------------------------------------------

function asciiEqualFold(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x >= 0x41 && x <= 0x5a) x += 0x20;
    if (y >= 0x41 && y <= 0x5a) y += 0x20;
    if (x !== y) return false;
  }
  return true;
}

function headerValuesContainToken(values: string[], token: string): boolean {
  for (const v of values) {
    for (const part of v.split(',')) {
      const t = part.replace(/^[ \t]+|[ \t]+$/g, '');
      if (/^[\x00-\x7f]*$/.test(t) && asciiEqualFold(t, token)) return true;
    }
  }
  return false;
}

/** http.hasToken: `token` somewhere in v, bounded by start/end, ' ', ',' or '\t'. */
function hasToken(v: string, token: string): boolean {
  if (token.length > v.length || token === '') return false;
  if (v === token) return true;
  const boundary = (c: string | undefined): boolean => c === ' ' || c === ',' || c === '\t';
  for (let sp = 0; sp <= v.length - token.length; sp++) {
    if (sp > 0 && !boundary(v[sp - 1])) continue;
    const end = sp + token.length;
    if (end !== v.length && !boundary(v[end])) continue;
    if (asciiEqualFold(v.slice(sp, end), token)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The request head: readRequest + readTransfer + the server's checks
// ---------------------------------------------------------------------------------------------

interface Head {
  method: string;
  target: string;
  proto: string;
  major: number;
  minor: number;
  url: GoUrl;
  fields: HeaderField[];
  header: Map<string, string[]>;
  /** Offset just past the blank line. */
  end: number;
  framing: Framing;
  /** Declared Content-Length (framing 'content-length'), else 0. */
  contentLength: bigint;
  /** Go sets closeAfterReply for these before the handler runs. */
  closeAfter: boolean;
  wantsClose: boolean;
  wants10KeepAlive: boolean;
  /** Answer "100 Continue" before reading the body. */
  sendContinue: boolean;
  /** An Expect other than 100-continue: 417 and close, no handler. */
  expectationFailed: boolean;
}

type HeadResult = { kind: 'more' } | { kind: 'eof' } | { kind: 'error'; reply: GoReply } | { kind: 'ok'; head: Head };

function headerGet(h: Map<string, string[]>, key: string): string {
  return h.get(key)?.[0] ?? '';
}

/**
 * Reads one request head from b (which starts at the request's first byte), in Go's order:
 * request line, URL, MIME header, Host count, Transfer-Encoding, Content-Length, Trailer,
 * then the server's checks (version, Host, header names and values) and Expect.
 */
function readHead(b: Buffer, ended: boolean): HeadResult {
  const first = readLine(b, 0, ended);
  if (first === 'more') return { kind: 'more' };
  if (first === 'eof') return { kind: 'eof' }; // io.EOF before any byte: Go closes silently
  const line = latin1(first.line);
  const err = (reply: GoReply): HeadResult => ({ kind: 'error', reply });

  // parseRequestLine: split at the first two spaces; the proto is everything after the second.
  const s1 = line.indexOf(' ');
  const s2 = s1 < 0 ? -1 : line.indexOf(' ', s1 + 1);
  if (s1 < 0 || s2 < 0) return err(badRequest(`malformed HTTP request ${JSON.stringify(line)}`));
  const method = line.slice(0, s1);
  const target = line.slice(s1 + 1, s2);
  const proto = line.slice(s2 + 1);
  if (method.length === 0 || [...method].some((ch) => !isToken(ch.charCodeAt(0)))) return err(badRequest(`invalid method ${JSON.stringify(method)}`));
  const version = parseHttpVersion(proto);
  if (version === null) return err(badRequest(`malformed HTTP version ${JSON.stringify(proto)}`));
  const [major, minor] = version;
  const justAuthority = method === 'CONNECT' && !target.startsWith('/');
  const parsedUrl = parseRequestURI(justAuthority ? `http://${target}` : target);
  if ('error' in parsedUrl) return err(badRequest(parsedUrl.error));
  const url: GoUrl = justAuthority ? { ...parsedUrl, path: '', rawPath: '' } : parsedUrl;

  const mime = readMimeHeader(b, first.next, ended);
  if (mime.kind === 'more') return { kind: 'more' };
  if (mime.kind === 'error') return err(badRequest(mime.message));
  const header = new Map<string, string[]>();
  for (const f of mime.fields) {
    const list = header.get(f.key);
    if (list) list.push(f.value);
    else header.set(f.key, [f.value]);
  }
  if ((header.get('Host')?.length ?? 0) > 1) return err(badRequest('too many Host headers'));

  // readTransfer. parseTransferEncoding: only HTTP/1.1+, exactly one field, exactly "chunked".
  const atLeast11 = major > 1 || (major === 1 && minor >= 1);
  let chunked = false;
  const te = header.get('Transfer-Encoding');
  if (te !== undefined && atLeast11) {
    if (te.length !== 1) return err(unsupportedTE(`too many transfer encodings: ${JSON.stringify(te)}`));
    if (!asciiEqualFold(te[0] ?? '', 'chunked')) return err(unsupportedTE(`unsupported transfer encoding: ${JSON.stringify(te[0])}`));
    chunked = true;
  }
  // fixLength: duplicates must agree; the value must parse even when chunked overrides it.
  const cls = header.get('Content-Length') ?? [];
  let contentLength = 0n;
  if (cls.length > 1) {
    const firstCl = trimString(cls[0] ?? '');
    if (cls.some((v) => trimString(v) !== firstCl))
      return err(badRequest(`http: message cannot contain multiple Content-Length headers; got ${JSON.stringify(cls)}`));
  }
  if (cls.length > 0) {
    const cl = trimString(cls[0] ?? '');
    if (cl === '') return err(badRequest('invalid empty Content-Length'));
    // strconv.ParseUint(cl, 10, 63): ASCII digits only, at most 2^63-1.
    if (!/^[0-9]+$/.test(cl) || BigInt(cl) > 0x7fffffffffffffffn) return err(badRequest(`bad Content-Length ${JSON.stringify(cl)}`));
    contentLength = BigInt(cl);
  }
  const framing: Framing = chunked ? 'chunked' : cls.length > 0 ? 'content-length' : 'none';
  if (chunked) contentLength = 0n;
  // fixTrailer: only looked at when chunked.
  const trailerDecl = header.get('Trailer');
  if (chunked && trailerDecl !== undefined) {
    for (const v of trailerDecl) {
      for (const part of trimString(v).split(',')) {
        const k = canonicalHeaderKey(trimString(part));
        if (k === 'Transfer-Encoding' || k === 'Trailer' || k === 'Content-Length') return err(badRequest(`bad trailer key ${JSON.stringify(k)}`));
      }
    }
  }
  const isH2Upgrade = method === 'PRI' && header.size === 0 && url.path === '*' && proto === 'HTTP/2.0';

  // (*conn).readRequest
  if (!(major === 1 || (major === 2 && minor === 0 && method === 'PRI' && target === '*'))) {
    return err(statusError(505, 'unsupported protocol version'));
  }
  const hosts = header.get('Host');
  if (atLeast11 && hosts === undefined && !isH2Upgrade && method !== 'CONNECT') return err(statusError(400, 'missing required Host header'));
  if (hosts !== undefined && hosts.length === 1) {
    const h = hosts[0] ?? '';
    for (let i = 0; i < h.length; i++) if (HOST_BYTE[h.charCodeAt(i)] !== 1) return err(statusError(400, 'malformed Host header'));
  }
  for (const [k, vv] of header) {
    if ([...k].some((ch) => !isToken(ch.charCodeAt(0)))) return err(statusError(400, 'invalid header name'));
    for (const v of vv) {
      for (let i = 0; i < v.length; i++) {
        const c = v.charCodeAt(i);
        if ((c < 0x20 && c !== HT) || c === 0x7f) return err(statusError(400, 'invalid header value'));
      }
    }
  }

  // shouldClose / wantsClose / wantsHttp10KeepAlive
  const connection = header.get('Connection') ?? [];
  const hasClose = headerValuesContainToken(connection, 'close');
  const reqClose = major === 1 && minor === 0 ? hasClose || !headerValuesContainToken(connection, 'keep-alive') : hasClose;
  const wantsClose = reqClose || isH2Upgrade || hasToken(headerGet(header, 'Connection'), 'close');
  const wants10KeepAlive = major === 1 && minor === 0 && hasToken(headerGet(header, 'Connection'), 'keep-alive');

  // Expect (serve loop): 100-continue only for HTTP/1.1+ with a body; anything else is a 417.
  const expect = headerGet(header, 'Expect');
  const expectsContinue = hasToken(expect, '100-continue');
  const sendContinue = expectsContinue && atLeast11 && (chunked || contentLength !== 0n);
  const expectationFailed = !expectsContinue && expect !== '';

  return {
    kind: 'ok',
    head: {
      method,
      target,
      proto,
      major,
      minor,
      url,
      fields: mime.fields,
      header,
      end: mime.end,
      framing,
      contentLength,
      closeAfter: isH2Upgrade,
      wantsClose,
      wants10KeepAlive,
      sendContinue,
      expectationFailed,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The body (transfer.go body, internal/chunked.go)
// ---------------------------------------------------------------------------------------------

/** bufio.Reader's default size: the window for a chunk line and for the trailer look-ahead. */
const BUFIO_SIZE = 4096;

interface BodyState {
  /** Absolute offset in the connection buffer of the next unread body byte. */
  pos: number;
  pieces: Buffer[];
  /** Content-Length bytes still to come. */
  remaining: number;
  phase: 'size' | 'data' | 'crlf' | 'trailer';
  /** chunkedReader.excess, an int64 in Go (the arithmetic wraps). */
  excess: bigint;
  trailers: HeaderField[];
}

type BodyStep = 'more' | 'done' | { error: string };

function parseHexUint(p: Buffer): bigint | string {
  if (p.length === 0) return 'empty hex number for chunk length';
  let n = 0n;
  for (let i = 0; i < p.length; i++) {
    const v = hexVal(at(p, i));
    if (v < 0) return 'invalid byte in chunk length';
    if (i === 16) return 'http chunk length too large';
    n = (n << 4n) | BigInt(v);
  }
  return n;
}

function stepContentLength(b: Buffer, ended: boolean, st: BodyState): BodyStep {
  const take = Math.min(b.length - st.pos, st.remaining);
  if (take > 0) {
    st.pieces.push(b.subarray(st.pos, st.pos + take));
    st.pos += take;
    st.remaining -= take;
  }
  if (st.remaining === 0) return 'done';
  return ended ? { error: 'unexpected EOF' } : 'more';
}

function stepChunked(b: Buffer, ended: boolean, st: BodyState): BodyStep {
  const eof = (what = 'unexpected EOF'): BodyStep => (ended ? { error: what } : 'more');
  for (;;) {
    const avail = b.length - st.pos;
    switch (st.phase) {
      case 'size': {
        // readChunkLine: ReadSlice('\n') within the 4 KiB bufio buffer; must end in CRLF with no other CR.
        const window = b.subarray(st.pos, st.pos + BUFIO_SIZE);
        const nl = window.indexOf(LF);
        if (nl < 0) return window.length >= BUFIO_SIZE ? { error: 'header line too long' } : eof();
        const line = window.subarray(0, nl + 1);
        const cr = line.indexOf(CR);
        if (cr < 0) return { error: 'chunked line ends with bare LF' };
        if (cr !== line.length - 2) return { error: 'invalid CR in chunked line' };
        let p = line.subarray(0, line.length - 2);
        if (p.length >= BUFIO_SIZE) return { error: 'header line too long' };
        st.pos += nl + 1;
        st.excess = BigInt.asIntN(64, st.excess + BigInt(p.length + 2));
        // trimTrailingWhitespace (SP, HT, CR, LF), then removeChunkExtension (cut at ';').
        let e = p.length;
        while (e > 0 && [SP, HT, CR, LF].includes(at(p, e - 1))) e--;
        p = p.subarray(0, e);
        const semi = p.indexOf(0x3b);
        if (semi >= 0) p = p.subarray(0, semi);
        const n = parseHexUint(p);
        if (typeof n === 'string') return { error: n };
        // At most 16 bytes of overhead per chunk plus twice the chunk's data; int64 wrap-around as in Go.
        const cost = BigInt.asIntN(64, 16n + BigInt.asIntN(64, 2n * BigInt.asIntN(64, n)));
        st.excess = BigInt.asIntN(64, st.excess - cost);
        if (st.excess < 0n) st.excess = 0n;
        if (n === 0n) {
          st.phase = 'trailer'; // io.EOF wins over the excess error for the last chunk
          break;
        }
        if (st.excess > 16n * 1024n) return { error: 'chunked encoding contains too much non-data' };
        st.remaining = n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(n);
        st.phase = 'data';
        break;
      }
      case 'data': {
        const take = Math.min(avail, st.remaining);
        if (take > 0) {
          st.pieces.push(b.subarray(st.pos, st.pos + take));
          st.pos += take;
          st.remaining -= take;
        }
        if (st.remaining > 0) return eof();
        st.phase = 'crlf';
        break;
      }
      case 'crlf': {
        if (avail < 2) return eof();
        if (at(b, st.pos) !== CR || at(b, st.pos + 1) !== LF) return { error: 'malformed chunked encoding' };
        st.pos += 2;
        st.phase = 'size';
        break;
      }
      case 'trailer': {
        // (*body).readTrailer
        if (avail < 2) return eof('http: unexpected EOF reading trailer');
        if (at(b, st.pos) === CR && at(b, st.pos + 1) === LF) {
          st.pos += 2;
          return 'done';
        }
        // seeUpcomingDoubleCRLF: a CRLFCRLF must show up within the bufio buffer (it may lie in
        // whatever follows: Go only looks for it, then reads the trailer as a MIME header).
        const window = b.subarray(st.pos, st.pos + BUFIO_SIZE);
        if (window.indexOf('\r\n\r\n') < 0) {
          if (window.length >= BUFIO_SIZE || ended) return { error: 'http: suspiciously long trailer after chunked body' };
          return 'more';
        }
        const mime = readMimeHeader(b, st.pos, ended);
        if (mime.kind === 'more') return 'more';
        if (mime.kind === 'error') return { error: mime.message === 'unexpected EOF' ? 'http: unexpected EOF reading trailer' : mime.message };
        st.trailers = mime.fields;
        st.pos = mime.end;
        return 'done';
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// JSON as encoding/json's Decoder sees it
// ---------------------------------------------------------------------------------------------

/** scanner maxNestingDepth */
const MAX_DEPTH = 10000;

class JsonSyntaxError extends Error {}

function isJsonSpace(c: number): boolean {
  return c === SP || c === HT || c === CR || c === LF;
}

function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  const s = JSON.stringify(String.fromCharCode(c));
  return `'${s.slice(1, -1)}'`;
}

/** encoding/json unquote: escapes, surrogate pairs (a lone one → U+FFFD), invalid UTF-8 → U+FFFD per byte. */
function unquote(s: Buffer): string {
  let out = '';
  const u4 = (i: number): number => {
    if (at(s, i) !== 0x5c || at(s, i + 1) !== 0x75) return -1;
    let v = 0;
    for (let k = 2; k < 6; k++) {
      const h = hexVal(at(s, i + k));
      if (h < 0) return -1;
      v = (v << 4) | h;
    }
    return v;
  };
  for (let r = 0; r < s.length;) {
    const c = at(s, r);
    if (c === 0x5c) {
      const e = at(s, r + 1);
      const simple: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };
      const mapped = simple[e];
      if (mapped !== undefined) {
        out += mapped;
        r += 2;
        continue;
      }
      // \uXXXX (the scanner already checked the four hex digits)
      let rr = u4(r);
      r += 6;
      if (rr >= 0xd800 && rr < 0xe000) {
        const rr1 = u4(r);
        if (rr < 0xdc00 && rr1 >= 0xdc00 && rr1 < 0xe000) {
          out += String.fromCodePoint(0x10000 + ((rr - 0xd800) << 10) + (rr1 - 0xdc00));
          r += 6;
          continue;
        }
        rr = 0xfffd;
      }
      out += String.fromCodePoint(rr);
      continue;
    }
    const [cp, size] = decodeRune(s, r);
    out += String.fromCodePoint(cp);
    r += size;
  }
  return out;
}

type Frame = { kind: 'object'; pairs: Array<[string, unknown]>; key: string } | { kind: 'array'; items: unknown[] };

function pairsToObject(pairs: Array<[string, unknown]>): Record<string, unknown> {
  // No prototype: a "__proto__" key is just a key. Duplicates: the last one wins, as in a Go map.
  const o = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of pairs) o[k] = v;
  return o;
}

/**
 * Reads the first JSON value at b[start..] like Decoder.readValue + the scanner: iterative (no
 * recursion, so 10,000 levels are fine), ends a top-level value as soon as it is complete (a
 * number at the first non-number byte), and throws JsonSyntaxError with Go-like messages.
 */
function readJsonValue(b: Buffer, start: number): { value: unknown; end: number; kind: GoJsonKind; members: Array<[string, unknown]> } {
  const eof = (): JsonSyntaxError => new JsonSyntaxError('unexpected EOF');
  const skip = (i: number): number => {
    while (i < b.length && isJsonSpace(at(b, i))) i++;
    return i;
  };
  const readString = (i: number): [string, number] => {
    let j = i + 1;
    for (;;) {
      if (j >= b.length) throw eof();
      const c = at(b, j);
      if (c === 0x22) break;
      if (c < 0x20) throw new JsonSyntaxError(`invalid character ${quoteChar(c)} in string literal`);
      if (c === 0x5c) {
        j++;
        if (j >= b.length) throw eof();
        const e = at(b, j);
        if (e === 0x75) {
          for (let k = 1; k <= 4; k++) {
            if (j + k >= b.length) throw eof();
            if (hexVal(at(b, j + k)) < 0) throw new JsonSyntaxError(`invalid character ${quoteChar(at(b, j + k))} in \\u hexadecimal character escape`);
          }
          j += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) throw new JsonSyntaxError(`invalid character ${quoteChar(e)} in string escape code`);
        j++;
        continue;
      }
      j++;
    }
    return [unquote(b.subarray(i + 1, j)), j + 1];
  };
  const readKey = (i: number): [string, number] => {
    i = skip(i);
    if (i >= b.length) throw eof();
    if (at(b, i) !== 0x22) throw new JsonSyntaxError(`invalid character ${quoteChar(at(b, i))} looking for beginning of object key string`);
    const [key, after] = readString(i);
    const j = skip(after);
    if (j >= b.length) throw eof();
    if (at(b, j) !== 0x3a) throw new JsonSyntaxError(`invalid character ${quoteChar(at(b, j))} after object key`);
    return [key, j + 1];
  };
  const readNumber = (i: number): [number, number] => {
    let j = i;
    const need = (): number => {
      if (j >= b.length) throw eof();
      return at(b, j);
    };
    if (at(b, j) === 0x2d) j++;
    const c = need();
    if (c === 0x30) j++;
    else if (c >= 0x31 && c <= 0x39) while (isDigit(at(b, j))) j++;
    else throw new JsonSyntaxError(`invalid character ${quoteChar(c)} in numeric literal`);
    if (at(b, j) === 0x2e) {
      j++;
      const d = need();
      if (!isDigit(d)) throw new JsonSyntaxError(`invalid character ${quoteChar(d)} after decimal point in numeric literal`);
      while (isDigit(at(b, j))) j++;
    }
    if (at(b, j) === 0x65 || at(b, j) === 0x45) {
      j++;
      if (at(b, j) === 0x2b || at(b, j) === 0x2d) j++;
      const d = need();
      if (!isDigit(d)) throw new JsonSyntaxError(`invalid character ${quoteChar(d)} in exponent of numeric literal`);
      while (isDigit(at(b, j))) j++;
    }
    return [Number(latin1(b.subarray(i, j))), j];
  };
  const readLiteral = (i: number, word: string, value: unknown): [unknown, number] => {
    for (let k = 0; k < word.length; k++) {
      if (i + k >= b.length) throw eof();
      const c = at(b, i + k);
      if (c !== word.charCodeAt(k))
        throw new JsonSyntaxError(`invalid character ${quoteChar(c)} in literal ${word} (expecting ${quoteChar(word.charCodeAt(k))})`);
    }
    return [value, i + word.length];
  };

  const stack: Frame[] = [];
  const push = (f: Frame): void => {
    stack.push(f);
    if (stack.length > MAX_DEPTH) throw new JsonSyntaxError('exceeded max depth');
  };
  let members: Array<[string, unknown]> = [];
  let kind: GoJsonKind = 'none';
  let i = start;
  let value: unknown;
  let expectValue = true;
  for (;;) {
    if (expectValue) {
      i = skip(i);
      if (i >= b.length) throw eof();
      const c = at(b, i);
      if (stack.length === 0) {
        kind = c === 0x7b ? 'object' : c === 0x5b ? 'array' : c === 0x22 ? 'string' : c === 0x74 || c === 0x66 ? 'boolean' : c === 0x6e ? 'null' : 'number';
      }
      if (c === 0x7b) {
        push({ kind: 'object', pairs: [], key: '' });
        i = skip(i + 1);
        if (i >= b.length) throw eof();
        if (at(b, i) === 0x7d) {
          i++;
          stack.pop();
          value = pairsToObject([]);
          expectValue = false;
          continue;
        }
        const top = stack[stack.length - 1];
        if (top?.kind === 'object') [top.key, i] = readKey(i);
        continue;
      }
      if (c === 0x5b) {
        push({ kind: 'array', items: [] });
        i = skip(i + 1);
        if (i >= b.length) throw eof();
        if (at(b, i) === 0x5d) {
          i++;
          stack.pop();
          value = [];
          expectValue = false;
        }
        continue;
      }
      if (c === 0x22) [value, i] = readString(i);
      else if (c === 0x2d || isDigit(c)) [value, i] = readNumber(i);
      else if (c === 0x74) [value, i] = readLiteral(i, 'true', true);
      else if (c === 0x66) [value, i] = readLiteral(i, 'false', false);
      else if (c === 0x6e) [value, i] = readLiteral(i, 'null', null);
      else throw new JsonSyntaxError(`invalid character ${quoteChar(c)} looking for beginning of value`);
      expectValue = false;
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined) return { value, end: i, kind, members };
    i = skip(i);
    if (i >= b.length) throw eof();
    const c = at(b, i);
    if (top.kind === 'object') {
      top.pairs.push([top.key, value]);
      if (c === 0x2c) {
        [top.key, i] = readKey(i + 1);
        expectValue = true;
      } else if (c === 0x7d) {
        i++;
        stack.pop();
        if (stack.length === 0) members = top.pairs;
        value = pairsToObject(top.pairs);
      } else {
        throw new JsonSyntaxError(`invalid character ${quoteChar(c)} after object key:value pair`);
      }
    } else {
      top.items.push(value);
      if (c === 0x2c) {
        i++;
        expectValue = true;
      } else if (c === 0x5d) {
        i++;
        stack.pop();
        value = top.items;
      } else {
        throw new JsonSyntaxError(`invalid character ${quoteChar(c)} after array element`);
      }
    }
  }
}

/**
 * The body as `json.NewDecoder(body).Decode(&req)` sees it: only the first value counts, a syntax
 * error inside it fails the whole decode (nothing is assigned), bytes after it are never read.
 * Into a struct, `null` is a no-op (ok) and any other non-object is an UnmarshalTypeError.
 */
export function parseGoJson(body: Uint8Array): GoJson {
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let i = 0;
  while (i < b.length && isJsonSpace(at(b, i))) i++;
  if (i >= b.length) return { ok: false, error: 'EOF', kind: 'none', members: [], trailing: 0 };
  let read: ReturnType<typeof readJsonValue>;
  try {
    read = readJsonValue(b, i);
  } catch (e) {
    if (e instanceof JsonSyntaxError) return { ok: false, error: e.message, kind: 'none', members: [], trailing: 0 };
    throw e;
  }
  let trailing = 0;
  for (let j = read.end; j < b.length; j++) if (!isJsonSpace(at(b, j))) trailing++;
  if (read.kind === 'object' || read.kind === 'null') return { ok: true, kind: read.kind, members: read.members, trailing };
  const word = read.kind === 'boolean' ? 'bool' : read.kind;
  return { ok: false, error: `json: cannot unmarshal ${word} into Go value of type struct`, kind: read.kind, members: [], trailing };
}

/**
 * encoding/json foldRune: the smallest rune of r's simple case-fold orbit. Only U+212A (Kelvin)
 * and U+017F (long s) fold into ASCII ('K', 'S'); U+0130/U+0131 (dotted/dotless i) have case
 * mappings but no folding, so they fold to themselves. Other runes: the orbit is approximated
 * with JS single-code-point case mappings (exact for every case that can match an ASCII name).
 */
function foldRune(r: number): number {
  if (r === 0x212a) return 0x4b;
  if (r === 0x17f) return 0x53;
  if (r === 0x130 || r === 0x131) return r;
  const seen = new Set<number>([r]);
  const queue = [r];
  const single = (s: string): number | null => {
    const cps = [...s];
    return cps.length === 1 ? (cps[0]?.codePointAt(0) ?? null) : null;
  };
  while (queue.length > 0) {
    const x = queue.pop() ?? r;
    const ch = String.fromCodePoint(x);
    for (const y of [single(ch.toLowerCase()), single(ch.toUpperCase())]) {
      if (y !== null && !seen.has(y) && y !== 0x130 && y !== 0x131) {
        seen.add(y);
        queue.push(y);
      }
    }
  }
  return Math.min(...seen);
}

/** encoding/json foldName: ASCII letters upper-cased, other runes folded with foldRune. */
export function goFoldName(name: string): string {
  let out = '';
  for (const ch of name) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80) out += cp >= 0x61 && cp <= 0x7a ? String.fromCharCode(cp - 0x20) : ch;
    else out += String.fromCodePoint(foldRune(cp));
  }
  return out;
}

/**
 * What a Go struct field tagged `json:"<name>"` holds after Decode: every top-level key that equals
 * the name or folds to the same foldName assigns it, so the last one in text order wins; `null` is
 * a no-op for string/number/bool fields (set nullResets for pointer/map/slice/interface fields,
 * which null sets to nil → returned as null). undefined = the field keeps its zero value.
 * Not modelled: a value of the wrong type is skipped by Go AND makes Decode fail; check the type.
 */
export function goField(json: GoJson, name: string, opts: { nullResets?: boolean } = {}): unknown {
  const folded = goFoldName(name);
  let found: unknown;
  for (const [key, value] of json.members) {
    if (key !== name && goFoldName(key) !== folded) continue;
    if (value === null && !opts.nullResets) continue;
    found = value;
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

interface Shared {
  requests: ParsedRequest[];
  errors: FramingError[];
  seq: number;
  connections: number;
  options: RecordingUpstreamOptions;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One TCP connection, served like (*conn).serve: read a request, answer it completely, and only
 * then read the next one; pipelined bytes wait in `buf` meanwhile.
 */
class UpstreamConnection {
  /** Unconsumed bytes; buf[0] is the first byte of the request being read. */
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private closing = false;
  private busy = false;
  private index = 0;
  private lastMethod = '';
  /** After a kept-alive answer Go waits for 4 bytes (c.bufr.Peek(4)) and hangs up silently on EOF. */
  private peek4 = false;
  private current: { head: Head; body: BodyState } | null = null;

  constructor(
    private readonly id: number,
    private readonly socket: net.Socket,
    private readonly shared: Shared,
  ) {
    socket.on('data', (chunk: Buffer) => {
      if (this.closing) return;
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.pump();
    });
    socket.on('end', () => {
      this.ended = true;
      this.pump();
    });
    socket.on('error', () => {
      this.closing = true;
    });
    socket.on('close', () => {
      this.closing = true;
    });
  }

  private hangUp(data?: string | Buffer): void {
    this.closing = true;
    if (this.socket.destroyed) return;
    if (data === undefined) this.socket.end();
    else this.socket.end(data);
    // Go closes the socket outright; give the peer a moment to read the last answer first.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private fail(reply: GoReply, stage: FramingError['stage'], bytes: Buffer): void {
    this.shared.errors.push({ connection: this.id, message: reply.message, bytes: Buffer.from(bytes), status: reply.status, stage });
    this.hangUp(reply.wire);
  }

  private pump(): void {
    while (!this.closing && !this.busy) {
      if (this.current === null) {
        if (this.peek4) {
          if (this.buf.length < 4) {
            if (!this.ended) return;
            if (this.buf.length > 0) {
              this.shared.errors.push({ connection: this.id, message: 'EOF after stray bytes', bytes: Buffer.from(this.buf), status: null, stage: 'head' });
            }
            this.hangUp();
            return;
          }
          this.peek4 = false;
          if (this.lastMethod === 'POST') {
            // "RFC 7230 section 3 tolerance for old buggy clients": up to 4 CR/LF after a POST.
            let n = 0;
            while (n < 4 && (at(this.buf, n) === CR || at(this.buf, n) === LF)) n++;
            this.buf = this.buf.subarray(n);
          }
        }
        const res = readHead(this.buf, this.ended);
        if (res.kind === 'more') {
          if (this.buf.length > HEAD_LIMIT) this.fail(tooLarge(), 'head', this.buf);
          return;
        }
        if (res.kind === 'eof') {
          this.hangUp();
          return;
        }
        if (res.kind === 'error') {
          this.fail(res.reply, 'head', this.buf);
          return;
        }
        const head = res.head;
        this.lastMethod = head.method;
        if (head.expectationFailed) {
          // sendExpectationFailed: 417 with Connection: close; the handler never runs.
          const is11 = head.major > 1 || head.minor >= 1;
          const wire = `${statusLine(is11, 417)}Connection: close\r\n${head.method === 'HEAD' ? '' : 'Content-Length: 0\r\n'}\r\n`;
          this.fail(
            { status: 417, message: `unsupported Expect ${JSON.stringify(headerGet(head.header, 'Expect'))}`, wire },
            'expect',
            this.buf.subarray(0, head.end),
          );
          return;
        }
        if (head.sendContinue) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
        this.current = {
          head,
          body: {
            pos: head.end,
            pieces: [],
            remaining: head.contentLength > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(head.contentLength),
            phase: 'size',
            excess: 0n,
            trailers: [],
          },
        };
      }
      const { head, body } = this.current;
      const step = head.framing === 'chunked' ? stepChunked(this.buf, this.ended, body) : stepContentLength(this.buf, this.ended, body);
      if (step === 'more') return;
      const bodyError = step === 'done' ? null : step.error;
      this.current = null;
      this.finish(head, body, bodyError);
    }
  }

  private finish(head: Head, body: BodyState, bodyError: string | null): void {
    const raw = Buffer.from(this.buf.subarray(0, bodyError === null ? body.pos : this.buf.length));
    this.buf = this.buf.subarray(body.pos);
    const bodyBytes = Buffer.concat(body.pieces);
    const req: ParsedRequest = {
      seq: this.shared.seq++,
      connection: this.id,
      indexOnConnection: this.index++,
      method: head.method,
      target: goString(head.target),
      version: head.proto,
      path: goString(head.url.path),
      rawPath: goString(head.url.rawPath),
      query: goString(head.url.rawQuery),
      headers: head.fields.map((f) => [goString(f.name), goString(f.value)]),
      trailers: body.trailers.map((f) => [goString(f.name), goString(f.value)]),
      body: bodyBytes,
      framing: head.framing,
      json: parseGoJson(bodyBytes),
      raw,
      bodyError,
    };
    this.shared.requests.push(req);
    if (bodyError !== null) {
      this.shared.errors.push({ connection: this.id, message: bodyError, bytes: raw, status: null, stage: 'body' });
    }
    this.busy = true;
    void this.answer(head, req).then((keepAlive) => {
      this.busy = false;
      if (!keepAlive) {
        this.hangUp();
        return;
      }
      this.peek4 = true;
      this.pump();
    });
  }

  /** Writes the answer like Go's chunkWriter.writeHeader would frame it; resolves to "keep the connection". */
  private async answer(head: Head, req: ParsedRequest): Promise<boolean> {
    let r: UpstreamResponse;
    try {
      r = this.shared.options.respond?.(req) ?? defaultResponse(req);
    } catch (e) {
      r = { status: 500, body: JSON.stringify({ error: String(e) }) };
    }
    const status = r.status ?? 200;
    const is11 = head.major > 1 || head.minor >= 1;
    const isHead = head.method === 'HEAD';
    const bodyAllowed = !(status >= 100 && status <= 199) && status !== 204 && status !== 304;
    const headers = new Map<string, [string, string]>([['content-type', ['Content-Type', 'application/json']]]);
    for (const [k, v] of Object.entries(r.headers ?? {})) {
      const lower = k.toLowerCase();
      if (lower === 'content-length' || lower === 'transfer-encoding') continue; // framing is ours
      headers.set(lower, [k, v]);
    }
    const streaming = r.stream !== undefined;
    const bodyBuf = Buffer.from(r.body ?? '');
    let closeAfter = head.closeAfter || req.bodyError !== null;
    const hasCL = !streaming && bodyAllowed && (!isHead || bodyBuf.length > 0);
    const userConnection = headers.get('connection')?.[1] ?? '';
    if (head.wants10KeepAlive && (isHead || hasCL || !bodyAllowed)) {
      if (!headers.has('connection')) headers.set('connection', ['Connection', 'keep-alive']);
    } else if (!is11 || head.wantsClose) {
      closeAfter = true;
    }
    if (userConnection === 'close') closeAfter = true;
    let chunking = false;
    if (streaming && bodyAllowed && !isHead) {
      if (is11) chunking = true;
      else closeAfter = true; // HTTP/1.0 without a length: the end of the body is the close
    }
    if (closeAfter && !hasToken(userConnection, 'close')) {
      headers.delete('connection');
      if (is11) headers.set('connection', ['Connection', 'close']);
    }
    let wire = statusLine(is11, status);
    for (const [, [k, v]] of headers) wire += `${k}: ${v}\r\n`;
    if (hasCL) wire += `Content-Length: ${bodyBuf.length}\r\n`;
    if (chunking) wire += 'Transfer-Encoding: chunked\r\n';
    wire += '\r\n';
    if (this.socket.destroyed) return false;
    if (!streaming) {
      this.socket.write(isHead || !bodyAllowed ? Buffer.from(wire) : Buffer.concat([Buffer.from(wire), bodyBuf]));
      return !closeAfter;
    }
    this.socket.write(wire);
    if (isHead || !bodyAllowed) return !closeAfter;
    for (const line of r.stream ?? []) {
      await sleep(this.shared.options.streamDelayMs ?? 5);
      if (this.socket.destroyed) return false;
      const data = Buffer.from(line.endsWith('\n') ? line : `${line}\n`);
      this.socket.write(chunking ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]) : data);
    }
    if (chunking && !this.socket.destroyed) this.socket.write('0\r\n\r\n');
    return !closeAfter;
  }
}

/** The echo answer: enough for a client to check the answer it got was made for its own request. */
function defaultResponse(req: ParsedRequest): UpstreamResponse {
  const probe = req.headers.find(([k]) => k.toLowerCase() === 'x-probe')?.[1] ?? null;
  // A body that broke before its JSON value was complete makes ShouldBindJSON fail: Ollama's 400.
  if (req.bodyError !== null && !req.json.ok) {
    return { status: 400, body: JSON.stringify({ seq: req.seq, probe, error: req.bodyError }) };
  }
  const model = goField(req.json, 'model');
  return {
    body: JSON.stringify({ seq: req.seq, probe, method: req.method, path: req.path, model: typeof model === 'string' ? model : null }),
  };
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

export async function startRecordingUpstream(options: RecordingUpstreamOptions = {}): Promise<RecordingUpstream> {
  const shared: Shared = { requests: [], errors: [], seq: options.firstSeq ?? 0, connections: 0, options };
  const sockets = new Set<net.Socket>();
  // allowHalfOpen: a client may send its requests and half-close; Go still answers all of them.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    new UpstreamConnection(++shared.connections, socket, shared);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: shared.requests,
    errors: shared.errors,
    get connections() {
      return shared.connections;
    },
    reset() {
      shared.requests.length = 0;
      shared.errors.length = 0;
      shared.seq = options.firstSeq ?? 0;
      shared.connections = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}
