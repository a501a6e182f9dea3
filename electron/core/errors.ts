import type { ServerResponse } from 'node:http';
import type { Outcome } from '../shared/contract.js';

/**
 * Every error the gate itself answers with, in one table: its status, the OpenAI error type used on
 * `/v1/*`, and how the request log counts it. Auth failures are 400/401/403 only: clients retry 429
 * and 5xx, which would hammer a wrong key. 429 is for limits, where a retry after Retry-After is
 * exactly right; 503 for a gate too busy with strangers to read one more body.
 */
const ERROR_TABLE = {
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
  body_timeout: { status: 408, type: 'invalid_request_error', code: 'request_timeout', outcome: 'error' },
  /** never sent: the client is gone */
  client_gone: { status: 400, type: 'invalid_request_error', code: 'client_gone', outcome: 'client_aborted' },
  body_too_large: { status: 413, type: 'invalid_request_error', code: 'body_too_large', outcome: 'error' },
  busy: { status: 503, type: 'api_error', code: 'gate_busy', outcome: 'denied' },
  upstream_unreachable: { status: 502, type: 'api_error', code: 'upstream_unreachable', outcome: 'upstream_error' },
  upstream_timeout: { status: 504, type: 'api_error', code: 'upstream_timeout', outcome: 'upstream_error' },
  internal: { status: 500, type: 'api_error', code: 'internal_error', outcome: 'error' },
} as const satisfies Record<string, { status: number; type: string; code: string; outcome: Outcome }>;

export type GateErrorCode = keyof typeof ERROR_TABLE;

export class GateError extends Error {
  readonly status: number;
  constructor(
    readonly code: GateErrorCode,
    message: string,
    /** headers the answer must carry, such as Retry-After */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = ERROR_TABLE[code].status;
  }

  /** how the request log counts a request that ended in this error */
  get outcome(): Outcome {
    return ERROR_TABLE[this.code].outcome;
  }
}

/** The JSON body for an error, in the shape the client on that path understands. */
function errorBody(path: string, error: GateError): string {
  if (path === '/v1' || path.startsWith('/v1/')) {
    const { type, code } = ERROR_TABLE[error.code];
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
const UNREADABLE_ANSWER: { code: GateErrorCode; message: string } = { code: 'upstream_unreachable', message: 'Ollama sent an answer the gate cannot read' };

const UPSTREAM_ERRORS: Record<string, { code: GateErrorCode; message: string }> = {
  ECONNREFUSED: { code: 'upstream_unreachable', message: 'Ollama is not running or refused the connection' },
  ECONNRESET: { code: 'upstream_unreachable', message: 'Ollama closed the connection' },
  EHOSTUNREACH: { code: 'upstream_unreachable', message: 'Ollama host is unreachable' },
  ENETUNREACH: { code: 'upstream_unreachable', message: 'Ollama host is unreachable' },
  ENOTFOUND: { code: 'upstream_unreachable', message: 'Ollama host name could not be resolved' },
  EAI_AGAIN: { code: 'upstream_unreachable', message: 'Ollama host name could not be resolved' },
  EPIPE: { code: 'upstream_unreachable', message: 'Ollama closed the connection' },
  UND_ERR_SOCKET: { code: 'upstream_unreachable', message: 'Ollama closed the connection' },
  UND_ERR_CLOSED: { code: 'upstream_unreachable', message: 'the connection to Ollama was closed' },
  UND_ERR_DESTROYED: { code: 'upstream_unreachable', message: 'the connection to Ollama was closed' },
  UND_ERR_INFO: UNREADABLE_ANSWER,
  // Something of the client's request undici will not send (a header value it refuses).
  UND_ERR_INVALID_ARG: { code: 'bad_request', message: 'the request has a header or path that cannot be forwarded' },
  UND_ERR_HEADERS_OVERFLOW: { code: 'upstream_unreachable', message: "Ollama's answer headers are too large" },
  UND_ERR_CONNECT_TIMEOUT: { code: 'upstream_timeout', message: 'timed out connecting to Ollama' },
  UND_ERR_HEADERS_TIMEOUT: { code: 'upstream_timeout', message: 'Ollama did not answer in time' },
  UND_ERR_BODY_TIMEOUT: { code: 'upstream_timeout', message: 'Ollama stopped sending in time' },
  ETIMEDOUT: { code: 'upstream_timeout', message: 'timed out connecting to Ollama' },
};

export function upstreamError(error: unknown, upstreamUrl: string): GateError {
  if (error instanceof GateError) return error; // the request body failed on its way (too large, too slow)
  const code = errorCode(error);
  // undici's HTTP parser names what it could not read with llhttp's HPE_ codes.
  const known = code ? (UPSTREAM_ERRORS[code] ?? UNREADABLE_ANSWER) : undefined;
  if (known) return new GateError(known.code, `${known.message} (${upstreamUrl}, ${code})`);
  const detail = error instanceof Error ? error.message : String(error);
  return new GateError('upstream_unreachable', `could not reach Ollama at ${upstreamUrl}: ${detail}`);
}

function errorCode(error: unknown): string | undefined {
  // A wrapped error may carry the system code on its cause.
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (code in UPSTREAM_ERRORS || code.startsWith('HPE_'))) return code;
  }
  return undefined;
}
