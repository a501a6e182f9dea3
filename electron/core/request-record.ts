import type { ServerResponse } from 'node:http';
import type { KeySource } from './credentials.js';
import type { GateReason } from '../shared/contract.js';
import { explain } from './errors.js';
import type { Outcome, RequestLogEntry } from './events.js';
import type { KeyRecord } from './keys.js';
import { newRequestId } from './request-id.js';
import type { BodyMeter } from './request-body.js';
import type { RequestTarget } from './request-target.js';
import type { Backend } from './backends.js';
import type { Relay } from './relay.js';
import type { TokenReading } from './token-tap.js';
import type { UploadProof } from './uploaded-blobs.js';
import { withoutSecret } from './headers.js';
import { cleanUserAgent } from './user-agent.js';

/**
 * What one request's log line will say, filled in by the request handler as each step returns,
 * and turned into the log event when the response is over.
 */
export class RequestRecord {
  readonly id = newRequestId();
  readonly startedAt: number;
  readonly t0 = performance.now();
  /** what every answer carries: X-Request-Id and the CORS headers, as a flat `[name, value, …]` list */
  readonly headers: string[];
  target: RequestTarget | null = null;
  key: KeyRecord | null = null;
  /** the key whose concurrency slot this request holds until it is over (only a forwarded request takes one) */
  admitted: KeyRecord | null = null;
  keySource: KeySource | null = null;
  presentedPrefix: string | null = null;
  decision: 'public' | 'allowed' | 'denied' = 'public';
  model: string | null = null;
  /** the request body as it was counted, once reading began */
  meter: BodyMeter | null = null;
  /** the upstream request and its answer, once there is one */
  relay: Relay | null = null;
  /** the backend the request went to (the last one, after a retry) */
  backend: Backend | null = null;
  /** ends the request's count in its backend's load; null once done */
  leaveBackend: (() => void) | null = null;
  /** for an answer the gate put together from several backends (a merged model list): its name (`all`) and time to first byte */
  backendName: string | null = null;
  mergedTtfbMs: number | null = null;
  /** a blob upload from a key with an allow-list, hashed on its way through */
  upload: UploadProof | null = null;
  /** bytes of an answer the gate wrote itself */
  ownBytesOut = 0;
  /** the body, shortened, when the user turned body logging on */
  loggedBody: string | null = null;
  failure: { outcome: Outcome; message: string; reason: GateReason } | null = null;
  /** the request's end has been handled (its answer sent, failed or abandoned): nothing more is done for it */
  over = false;
  /** the User-Agent header as received; cleaned only when the log entry is made */
  userAgent: string | string[] | undefined = undefined;
  /**
   * The key the client presented, held only to keep it out of what the request passes on: the
   * headers forwarded to Ollama and the logged User-Agent. Never logged itself.
   */
  presentedSecret: string | null = null;

  constructor(
    readonly ip: string,
    readonly method: string,
    now: number,
  ) {
    this.startedAt = now;
    this.headers = ['X-Request-Id', this.id];
  }

  /**
   * The completion tokens to count. Ollama's own count, from an answer that ended as it should.
   * Without one (an OpenAI-style stream without `stream_options.include_usage`), or when the answer
   * was cut (the client left, Ollama broke off: its last line seen may be any line, such as a
   * `/v1/completions` chunk's zero usage), a generation counts at least one token per JSON line it
   * streamed, which is how Ollama streams: else a key's daily budget would not see it. An error
   * answer generated nothing.
   */
  private completionTokens(tokens: TokenReading | undefined, status: number, ended: boolean): number | null {
    const reported = tokens?.completionTokens ?? null;
    if (!tokens?.jsonLines || status >= 300 || !this.target || !GENERATES.has(this.target.path)) return reported;
    if (ended && reported !== null) return reported;
    return Math.max(reported ?? 0, tokens.jsonLines);
  }

  /** The log event for a response that is over: sent, failed or abandoned. */
  toLogEntry(res: ServerResponse): RequestLogEntry {
    const outcome: Outcome = this.failure?.outcome ?? (this.relay?.failure ? 'upstream_error' : res.writableFinished ? 'ok' : 'client_aborted');
    const failed = this.failure ?? this.relay?.failure ?? null;
    const clientLeft = !failed && outcome === 'client_aborted' ? explain('client_closed') : null;
    const tokens = this.relay?.tokens.counts();
    const ttfb = this.relay?.ttfbMs ?? this.mergedTtfbMs;
    return {
      id: this.id,
      time: this.startedAt,
      method: this.method,
      path: clip(this.target ? this.target.path + this.target.query.logged : '/', MAX_LOGGED_PATH),
      ip: this.ip,
      user: this.key?.user ?? null,
      keyId: this.key?.id ?? null,
      keyPrefix: this.key?.prefix ?? this.presentedPrefix,
      keySource: this.keySource,
      decision: this.decision,
      status: res.statusCode,
      ttfbMs: ttfb === null ? null : round(ttfb),
      durationMs: round(performance.now() - this.t0),
      bytesIn: this.meter?.bytes ?? 0,
      bytesOut: this.ownBytesOut + (this.relay?.bytesOut ?? 0),
      model: this.model === null ? null : clip(this.model, MAX_LOGGED_NAME),
      promptTokens: tokens?.promptTokens ?? null,
      completionTokens: this.completionTokens(tokens, res.statusCode, outcome === 'ok'),
      requestBody: this.loggedBody,
      outcome,
      error: failed ? clip(failed.message, MAX_LOGGED_ERROR) : (clientLeft?.text ?? null),
      reason: failed ? clipParams(failed.reason) : (clientLeft?.reason ?? null),
      client: cleanUserAgent(withoutSecret(this.userAgent, this.presentedSecret)),
      // Ollama's answer began and the gate did not replace it with its own error.
      answeredBy: ttfb !== null && !this.failure ? 'ollama' : 'gate',
      backend: this.backendName ?? this.backend?.name ?? null,
    };
  }
}

/** Routes whose answers are generated text, streamed one JSON line per token. */
const GENERATES = new Set(['/api/chat', '/api/generate', '/v1/chat/completions', '/v1/completions']);

/**
 * What one log entry may hold of what a client chose: a model name or path a client makes
 * megabytes long would otherwise be kept that long in memory, in gate.log and in the history file.
 */
const MAX_LOGGED_NAME = 256;
const MAX_LOGGED_PATH = 2_048;
const MAX_LOGGED_ERROR = 1_024;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function clipParams<R extends { params?: Record<string, string | number> } | null>(reason: R): R {
  if (!reason?.params) return reason;
  const params = Object.fromEntries(
    Object.entries(reason.params).map(([name, value]) => [name, typeof value === 'string' ? clip(value, MAX_LOGGED_NAME) : value]),
  );
  return { ...reason, params };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
