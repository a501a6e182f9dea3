import type { ServerResponse } from 'node:http';
import type { GateReason, Outcome, ReasonCode } from '../shared/contract.js';

/**
 * How the gate answers each kind of error: its status, the OpenAI error type and code used on
 * `/v1/*`, and how the request log counts it. Auth failures are 400/401/403 only: clients retry 429
 * and 5xx, which would hammer a wrong key. 429 is for limits, where a retry after Retry-After is
 * exactly right; 503 for a gate too busy with strangers to read one more body.
 */
const ERROR_KINDS = {
  missing_key: { status: 401, type: 'invalid_request_error', code: 'missing_api_key', outcome: 'denied' },
  invalid_key: { status: 403, type: 'invalid_request_error', code: 'invalid_api_key', outcome: 'denied' },
  disabled_key: { status: 403, type: 'invalid_request_error', code: 'invalid_api_key', outcome: 'denied' },
  expired_key: { status: 403, type: 'invalid_request_error', code: 'invalid_api_key', outcome: 'denied' },
  sessions_off: { status: 403, type: 'invalid_request_error', code: 'sessions_disabled', outcome: 'denied' },
  out_of_scope: { status: 403, type: 'permission_error', code: 'insufficient_scope', outcome: 'denied' },
  model_not_allowed: { status: 403, type: 'permission_error', code: 'model_not_allowed', outcome: 'denied' },
  rate_limited: { status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', outcome: 'denied' },
  locked_out: { status: 429, type: 'rate_limit_error', code: 'too_many_failed_keys', outcome: 'denied' },
  not_exposed: { status: 404, type: 'not_found_error', code: 'not_found', outcome: 'error' },
  bad_request: { status: 400, type: 'invalid_request_error', code: 'bad_request', outcome: 'denied' },
  method_not_allowed: { status: 405, type: 'invalid_request_error', code: 'method_not_allowed', outcome: 'error' },
  loop_detected: { status: 508, type: 'api_error', code: 'loop_detected', outcome: 'error' },
  body_timeout: { status: 408, type: 'invalid_request_error', code: 'request_timeout', outcome: 'error' },
  /** never sent: the client is gone */
  client_gone: { status: 400, type: 'invalid_request_error', code: 'client_gone', outcome: 'client_aborted' },
  body_too_large: { status: 413, type: 'invalid_request_error', code: 'body_too_large', outcome: 'error' },
  busy: { status: 503, type: 'api_error', code: 'gate_busy', outcome: 'denied' },
  upstream_unreachable: { status: 502, type: 'api_error', code: 'upstream_unreachable', outcome: 'upstream_error' },
  upstream_timeout: { status: 504, type: 'api_error', code: 'upstream_timeout', outcome: 'upstream_error' },
  internal: { status: 500, type: 'api_error', code: 'internal_error', outcome: 'error' },
} as const satisfies Record<string, { status: number; type: string; code: string; outcome: Outcome }>;

export type GateErrorKind = keyof typeof ERROR_KINDS;

/**
 * Every reason the gate gives in words, in one table: its English text, with `{name}` filled from
 * the reason's params, and for a refusal or failure of a request the kind of error it answers
 * with. HTTP clients and log files read the English; the window translates the code
 * (`reason.<code>` in its dictionaries), so the two say the same thing and cannot drift apart.
 */
const REASONS = {
  missing_key: { kind: 'missing_key', en: 'API key required: send it as "Authorization: Bearer <key>" or "X-API-Key: <key>"' },
  missing_key_body_unread: {
    kind: 'missing_key',
    en: 'API key required: send it as "Authorization: Bearer <key>" or "X-API-Key: <key>" (the body is over {limit} bytes, so it was not searched for api_key)',
  },
  auth_missing_key: { kind: 'missing_key', en: 'API key required: POST {"api_key": "<key>"} or send it in a header' },
  bad_body_api_key: { kind: 'bad_request', en: '"api_key" in the body must be a non-empty string' },
  invalid_key: { kind: 'invalid_key', en: 'invalid API key' },
  disabled_key: { kind: 'disabled_key', en: 'this API key is disabled' },
  expired_key: { kind: 'expired_key', en: 'this API key has expired' },
  invalid_key_locking: { kind: 'invalid_key', en: 'invalid API key; too many failed keys: {ip} is locked out for {seconds} s' },
  disabled_key_locking: { kind: 'disabled_key', en: 'this API key is disabled; too many failed keys: {ip} is locked out for {seconds} s' },
  expired_key_locking: { kind: 'expired_key', en: 'this API key has expired; too many failed keys: {ip} is locked out for {seconds} s' },
  key_changed: { kind: 'invalid_key', en: 'this API key was disabled, rotated or removed (or its IP session ended) while the request was being sent' },
  locked_out: { kind: 'locked_out', en: '{ip} is locked out after too many failed API keys; try again in {seconds} s' },
  sessions_off: { kind: 'sessions_off', en: 'IP sessions are turned off on this gate; send the key with every request instead' },

  budget_uncountable: {
    kind: 'out_of_scope',
    en: 'this key has a daily token budget, and the gate cannot count the tokens of {path}: use /v1/chat/completions or /api/chat',
  },
  out_of_scope: { kind: 'out_of_scope', en: 'this key\'s scope "{scope}" does not allow {path}; it needs scope "{needs}"' },
  not_exposed: { kind: 'not_exposed', en: '{path} is not exposed through the gate' },
  model_not_allowed: { kind: 'model_not_allowed', en: 'model "{model}" is not allowed for this key (allowed: {allowed})' },
  model_member_not_allowed: { kind: 'model_not_allowed', en: 'model "{model}" ("{member}") is not allowed for this key (allowed: {allowed})' },
  model_body_unread: { kind: 'model_not_allowed', en: "the request body is too large to check its model against this key's allowed models" },
  model_body_not_object: {
    kind: 'model_not_allowed',
    en: 'this key may use only some models, and the request body is not a JSON object the gate can read a model from',
  },
  model_member_not_text: { kind: 'model_not_allowed', en: '"{member}" must name a model this key may use' },
  model_blob_not_uploaded: {
    kind: 'model_not_allowed',
    en: '"{member}" may only name files this key has uploaded itself (POST /api/blobs with the file\'s bytes); {digest} is not one',
  },
  model_path_modelfile: {
    kind: 'model_not_allowed',
    en: '"{member}" points at a Modelfile on Ollama\'s machine, which a key limited to some models may not use',
  },
  model_unnamed: { kind: 'model_not_allowed', en: 'this key may use only some models ({allowed}): name one in "model"' },
  modelfile_not_text: { kind: 'model_not_allowed', en: '"modelfile" must be text' },
  modelfile_adapter: { kind: 'model_not_allowed', en: 'a Modelfile ADAPTER names a file the gate cannot check for a key limited to some models' },
  rate_limit_rpm: { kind: 'rate_limited', en: 'rate limit of {limit} requests per minute reached' },
  rate_limit_concurrency: { kind: 'rate_limited', en: 'at most {limit} concurrent requests for this key' },
  rate_limit_concurrency_one: { kind: 'rate_limited', en: 'at most 1 concurrent request for this key' },
  rate_limit_daily_tokens: { kind: 'rate_limited', en: 'daily token budget of {limit} used up ({used} tokens today); it resets at 00:00 UTC' },

  method_not_supported: { kind: 'method_not_allowed', en: "{method} is not supported; Ollama's API uses GET, HEAD, POST and DELETE" },
  auth_method: { kind: 'method_not_allowed', en: '{method} /auth is not supported; POST {"api_key": "..."}' },
  route_method: { kind: 'method_not_allowed', en: '{method} {path} is not supported; use GET' },
  body_on_bodyless: { kind: 'bad_request', en: 'a {method} request cannot carry a body' },
  trailing_json: { kind: 'bad_request', en: 'the request body goes on after its JSON value: send one JSON object' },
  backend_unknown: { kind: 'bad_request', en: 'X-Gate-Backend names no backend in use: "{name}" (in use: {names})' },
  forward_loop: {
    kind: 'loop_detected',
    en: 'this request already passed through this gate: its Ollama URL leads back to the gate itself; point it at Ollama (http://127.0.0.1:11434 by default)',
  },
  target_not_path: { kind: 'bad_request', en: 'the request target must be a path starting with /' },
  target_bad_escape: { kind: 'bad_request', en: 'the request path has a malformed %-escape or is not UTF-8' },
  target_control_char: { kind: 'bad_request', en: 'the request path holds a control character or #' },
  target_two_keys: { kind: 'bad_request', en: 'the query holds two different api_key values' },
  // Something of the client's request undici will not send (a header value it refuses).
  unforwardable_request: { kind: 'bad_request', en: 'the request has a header or path that cannot be forwarded ({url}, {errno})' },
  body_too_large: { kind: 'body_too_large', en: "the request body is larger than this gate's limit of {limit} bytes" },
  body_too_long_to_clean: {
    kind: 'body_too_large',
    en: 'the request body is over {limit} bytes, too long to search for an "api_key" to remove: send the key in a header',
  },
  auth_body_too_large: { kind: 'body_too_large', en: 'the /auth body holds only {"api_key": "..."}' },
  body_incomplete: {
    kind: 'body_timeout',
    en: 'the request body did not arrive within {ms} ms; without a key in a header a body must come whole in that time',
  },
  body_stalled: { kind: 'body_timeout', en: 'the request body stalled: nothing arrived for {ms} ms' },
  client_gone: { kind: 'client_gone', en: 'the client closed the connection while sending its body' },
  client_closed: { en: 'client closed the connection before the response ended' },
  busy: { kind: 'busy', en: 'the gate is holding too many request bodies of clients without a key; try again shortly, or send the key in a header' },

  upstream_refused: { kind: 'upstream_unreachable', en: 'Ollama is not running or refused the connection ({url}, {errno})' },
  upstream_closed: { kind: 'upstream_unreachable', en: 'Ollama closed the connection ({url}, {errno})' },
  upstream_host_unreachable: { kind: 'upstream_unreachable', en: 'Ollama host is unreachable ({url}, {errno})' },
  upstream_dns: { kind: 'upstream_unreachable', en: 'Ollama host name could not be resolved ({url}, {errno})' },
  upstream_connection_closed: { kind: 'upstream_unreachable', en: 'the connection to Ollama was closed ({url}, {errno})' },
  upstream_unreadable: { kind: 'upstream_unreachable', en: 'Ollama sent an answer the gate cannot read ({url}, {errno})' },
  upstream_headers_too_large: { kind: 'upstream_unreachable', en: "Ollama's answer headers are too large ({url}, {errno})" },
  upstream_connect_timeout: { kind: 'upstream_timeout', en: 'timed out connecting to Ollama ({url}, {errno})' },
  upstream_no_answer: { kind: 'upstream_timeout', en: 'Ollama did not answer in time ({url}, {errno})' },
  upstream_stalled: { kind: 'upstream_timeout', en: 'Ollama stopped sending in time ({url}, {errno})' },
  upstream_failed: { kind: 'upstream_unreachable', en: 'could not reach Ollama at {url}: {detail}' },
  upstream_model_list: {
    kind: 'upstream_unreachable',
    en: "Ollama's model list could not be read, so the models this key may see cannot be picked out of it",
  },
  upstream_bad_headers: { kind: 'internal', en: "the gate failed: Ollama's answer has headers it cannot pass on ({detail})" },
  internal: { kind: 'internal', en: 'the gate failed: {detail}' },
  ollama_timeout: { en: 'Ollama did not answer within {ms} ms ({url})' },
  ollama_bad_status: { en: '{url} answered {status} to /api/version: is it Ollama?' },
  ollama_no_version: { en: '{url} gave no version to /api/version: is it Ollama?' },

  port_in_use: { en: 'port {port} is already in use on {host}: stop the other program or choose another port' },
  port_not_allowed: { en: 'not allowed to listen on {host}:{port}: choose a port above 1023' },
  address_not_available: { en: '{host} is not an address of this machine' },
  listen_failed: { en: 'could not listen on {host}:{port}: {detail}' },

  test_not_running: { en: 'the proxy is not running: start it first' },
  test_no_answer: { en: 'the gate did not answer: {detail}' },
  test_key_works: { en: 'the key works: {count} models visible through the gate' },
  test_key_works_one: { en: 'the key works: 1 model visible through the gate' },
  test_gate_ok: { en: 'the gate answers and Ollama is reachable through it' },
} as const satisfies Record<ReasonCode, { kind?: GateErrorKind; en: string }>;

type ReasonTable = typeof REASONS;

/** The `{name}` placeholders of a message (`{"api_key": …}` in a message is JSON, not one). */
type Placeholders<S extends string> = S extends `${string}{${infer Name}}${infer Rest}`
  ? (Name extends `${string}${'"' | ' ' | ':'}${string}` ? never : Name) | Placeholders<Rest>
  : never;

/** The params a reason's message names, each required. */
export type ReasonParams<C extends ReasonCode> = Record<Placeholders<ReasonTable[C]['en']>, string | number>;

/** `[params]` for a message that names some, `[params?]` for one that names none. */
type ParamsArg<C extends ReasonCode> = [Placeholders<ReasonTable[C]['en']>] extends [never] ? [params?: Record<string, never>] : [params: ReasonParams<C>];

/** The reasons that refuse or fail a request, each with its kind of error. */
export type RequestReasonCode = { [C in ReasonCode]: ReasonTable[C] extends { kind: GateErrorKind } ? C : never }[ReasonCode];

/** A reason and its English text, as the contract carries them side by side (`error` and `reason`). */
export interface Explained {
  text: string;
  reason: GateReason;
}

/** The English of a reason, its `{name}` placeholders filled from params. */
export function reasonText(code: ReasonCode, params: Readonly<Record<string, string | number>> = {}): string {
  return REASONS[code].en.replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

/** A reason with its English text. */
export function explain<C extends ReasonCode>(code: C, ...[params]: ParamsArg<C>): Explained {
  return { text: reasonText(code, params), reason: params && Object.keys(params).length > 0 ? { code, params: { ...params } } : { code } };
}

/** The reason an error carries (a GateError, a ListenError), or null for one the gate did not explain. */
export function reasonOf(error: unknown): GateReason | null {
  const reason = (error as { reason?: unknown } | null)?.reason;
  return reason && typeof reason === 'object' && typeof (reason as GateReason).code === 'string' && Object.hasOwn(REASONS, (reason as GateReason).code)
    ? (reason as GateReason)
    : null;
}

/** Every reason's English message template, for tests that hold the window's dictionaries to it. */
export function reasonTemplate(code: ReasonCode): string {
  return REASONS[code].en;
}

/** The status a request reason answers with, or undefined for a reason that is not a request's. */
export function reasonStatus(code: ReasonCode): number | undefined {
  const kind = (REASONS[code] as { kind?: GateErrorKind }).kind;
  return kind && ERROR_KINDS[kind].status;
}

/**
 * An error the gate answers a request with: a reason from the table above, which gives its
 * English message and its kind (status, OpenAI type, log outcome).
 */
export class GateError<C extends RequestReasonCode = RequestReasonCode> extends Error {
  readonly status: number;
  readonly kind: GateErrorKind;
  readonly params: Readonly<Record<string, string | number>>;
  /** headers the answer must carry, such as Retry-After */
  readonly headers: Record<string, string>;

  constructor(
    readonly code: C,
    ...args: [...ParamsArg<C>, headers?: Record<string, string>]
  ) {
    const [params = {}, headers = {}] = args as unknown as [Record<string, string | number>?, Record<string, string>?];
    super(reasonText(code, params));
    this.params = params;
    this.headers = headers;
    this.kind = REASONS[code].kind;
    this.status = ERROR_KINDS[this.kind].status;
  }

  /** how the request log counts a request that ended in this error */
  get outcome(): Outcome {
    return ERROR_KINDS[this.kind].outcome;
  }

  /** the code and params, for the window to translate */
  get reason(): GateReason {
    return Object.keys(this.params).length > 0 ? { code: this.code, params: { ...this.params } } : { code: this.code };
  }
}

/** The JSON body for an error, in the shape the client on that path understands. */
function errorBody(path: string, error: GateError): string {
  if (path === '/v1' || path.startsWith('/v1/')) {
    const { type, code } = ERROR_KINDS[error.kind];
    return JSON.stringify({ error: { message: error.message, type, param: null, code } }) + '\n';
  }
  return JSON.stringify({ error: error.message });
}

/**
 * Answers with the error, after `headers` (a flat `[name, value, …]` list the gate puts on every
 * answer); returns the body's length (0 when the answer had already begun and the stream is cut).
 * With `close`, the connection ends after the answer: the request's body was not read, so what
 * follows on the connection cannot be told from it.
 */
export function sendError(res: ServerResponse, path: string, error: GateError, headers: readonly string[] = [], close = false): number {
  if (res.headersSent) {
    res.destroy();
    return 0;
  }
  const body = errorBody(path, error);
  const length = Buffer.byteLength(body);
  const all = [...headers];
  for (const name in error.headers) all.push(name, error.headers[name]!);
  all.push('Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(length));
  if (close) all.push('Connection', 'close');
  res.writeHead(error.status, all);
  res.end(body);
  return length;
}

/**
 * Transport failures talking to Ollama, mapped once: refused, reset or unresolvable means Ollama is
 * not there (502); a timeout we configured means it is there but too slow (504). undici reports its
 * own failures with `UND_ERR_*` codes, the system's with errno codes (on the error or its cause).
 */
type UpstreamReason =
  | 'upstream_refused'
  | 'upstream_closed'
  | 'upstream_host_unreachable'
  | 'upstream_dns'
  | 'upstream_connection_closed'
  | 'upstream_unreadable'
  | 'unforwardable_request'
  | 'upstream_headers_too_large'
  | 'upstream_connect_timeout'
  | 'upstream_no_answer'
  | 'upstream_stalled';

const UPSTREAM_ERRORS: Record<string, UpstreamReason> = {
  ECONNREFUSED: 'upstream_refused',
  ECONNRESET: 'upstream_closed',
  EHOSTUNREACH: 'upstream_host_unreachable',
  ENETUNREACH: 'upstream_host_unreachable',
  ENOTFOUND: 'upstream_dns',
  EAI_AGAIN: 'upstream_dns',
  EPIPE: 'upstream_closed',
  UND_ERR_SOCKET: 'upstream_closed',
  UND_ERR_CLOSED: 'upstream_connection_closed',
  UND_ERR_DESTROYED: 'upstream_connection_closed',
  UND_ERR_INFO: 'upstream_unreadable',
  UND_ERR_INVALID_ARG: 'unforwardable_request',
  UND_ERR_HEADERS_OVERFLOW: 'upstream_headers_too_large',
  UND_ERR_CONNECT_TIMEOUT: 'upstream_connect_timeout',
  UND_ERR_HEADERS_TIMEOUT: 'upstream_no_answer',
  UND_ERR_BODY_TIMEOUT: 'upstream_stalled',
  ETIMEDOUT: 'upstream_connect_timeout',
};

/**
 * The gate's error for a failure reaching Ollama at `upstreamUrl` (or whatever names it). Without
 * `detailed`, an error the gate has no code for says only its own code or kind: the message of a
 * TLS or socket error may name the host, which a client of another backend must not learn.
 */
export function upstreamError(error: unknown, upstreamUrl: string, detailed = true): GateError {
  if (error instanceof GateError) return error; // the request body failed on its way (too large, too slow)
  const errno = errorCode(error);
  // undici's HTTP parser names what it could not read with llhttp's HPE_ codes.
  if (errno) return new GateError(UPSTREAM_ERRORS[errno] ?? 'upstream_unreadable', { url: upstreamUrl, errno });
  return new GateError('upstream_failed', { url: upstreamUrl, detail: failureDetail(error, detailed) });
}

/** An error's message, or with `detailed` off only its code (else its class's name). */
function failureDetail(error: unknown, detailed: boolean): string {
  if (!(error instanceof Error)) return String(error);
  if (detailed) return error.message;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.name;
}

function errorCode(error: unknown): string | undefined {
  // A wrapped error may carry the system code on its cause.
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (code in UPSTREAM_ERRORS || code.startsWith('HPE_'))) return code;
  }
  return undefined;
}
