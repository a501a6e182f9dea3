import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { summarizeBody } from './body-log.js';
import type { Clock } from './clock.js';
import { corsHeaders, preflightHeaders } from './cors.js';
import { type KeySource, type PresentedKey, keyFromHeadersOrQuery } from './credentials.js';
import { GateError, sendError, upstreamError } from './errors.js';
import type { GateEmitter, GateStatus, Outcome } from './events.js';
import type { OllamaHealth } from './health.js';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers.js';
import { inspectJsonBody } from './json-body.js';
import type { KeyRing, Verification } from './keyring.js';
import { type KeyRecord, displayPrefix } from './keys.js';
import type { KeyLimits, Lockout } from './limits.js';
import { normalizeIp } from './network.js';
import { newRequestId } from './request-id.js';
import { type RequestTarget, parseTarget } from './request-target.js';
import { MODEL_LIST_PATHS, MODEL_MEMBERS, checkScope, filterModelList, modelAllowed } from './policy.js';
import type { SessionCache } from './sessions.js';
import type { SettingsProvider } from './settings.js';
import { TokenTap } from './token-tap.js';
import type { UpstreamPool, UpstreamTarget } from './upstream.js';

export interface ProxyDeps {
  keys: KeyRing;
  sessions: SessionCache;
  settings: SettingsProvider;
  upstream: UpstreamPool;
  events: GateEmitter;
  clock: Clock;
  limits: KeyLimits;
  lockout: Lockout;
  version: string;
  health(): Promise<OllamaHealth>;
  status(): GateStatus;
  /** told when a request's response is over (sent, failed or abandoned), whatever became of it */
  closed?(): void;
}

/** One request's journey through the gate, filled in step by step and logged when it is over. */
interface Exchange {
  id: string;
  /** what every answer carries: X-Request-Id and the CORS headers, as a flat `[name, value, …]` list */
  headers: string[];
  startedAt: number;
  t0: number;
  ip: string;
  method: string;
  url: RequestTarget;
  /** the query string as sent, minus `api_key` (what Ollama gets) */
  forwardQuery: string;
  key: KeyRecord | null;
  keySource: KeySource | null;
  presentedPrefix: string | null;
  decision: 'public' | 'allowed' | 'denied';
  model: string | null;
  /** other members naming a model (`source` and `destination` of /api/copy, `from` of /api/create), read for keys with an allow-list */
  otherModels: Array<[member: string, value: string | undefined]>;
  ttfbMs: number | null;
  bytesIn: number;
  /** the most body bytes this request may send (0 = no limit): blob uploads have none */
  maxBodyBytes: number;
  bodyTooLarge: boolean;
  bytesOut: number;
  tokens: TokenTap;
  /** the body, shortened, when the user turned body logging on */
  loggedBody: string | null;
  failure: { outcome: Outcome; message: string } | null;
  /** the key holding a concurrency slot until the response is over */
  admittedKeyId: string | null;
  /** the upstream request, once there is one */
  relay: Relay | null;
}

/** A body the gate has read (a Buffer) or is still streaming through. */
type ForwardBody = Buffer | Readable | undefined;

const BODYLESS_METHODS = new Set(['GET', 'HEAD']);
/** Bodies that are never JSON: they stream straight through, however large. */
const OPAQUE_CONTENT = /^(multipart\/|application\/octet-stream|image\/|audio\/|video\/)/i;
/** `/auth` bodies hold one key; nothing bigger is read there. */
const AUTH_BODY_LIMIT = 64 * 1024;

export function createRequestHandler(deps: ProxyDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const cors = new CorsHeaders();
  return (req, res) => {
    const exchange = startExchange(req, res, deps, cors);
    // One listener per request does everything its end needs.
    res.once('close', () => {
      if (exchange) {
        // A client that leaves before the answer ended stops Ollama too.
        if (!res.writableFinished) exchange.relay?.clientLeft();
        if (exchange.admittedKeyId !== null) deps.limits.release(exchange.admittedKeyId);
        finishExchange(exchange, res, deps);
      }
      deps.closed?.();
    });
    if (exchange) route(req, res, exchange, deps).catch((error: unknown) => fail(res, exchange, error));
  };
}

function startExchange(req: IncomingMessage, res: ServerResponse, deps: ProxyDeps, cors: CorsHeaders): Exchange | undefined {
  const id = newRequestId();
  const headers = ['X-Request-Id', id];
  cors.addTo(headers, req.headers.origin, deps.settings.current().corsOrigins);
  let url: RequestTarget;
  try {
    url = parseTarget(req.url ?? '/');
  } catch {
    sendError(res, '/', new GateError('bad_request', 'malformed request target'), headers);
    return undefined;
  }
  return {
    id,
    headers,
    startedAt: deps.clock.now(),
    t0: performance.now(),
    ip: normalizeIp(req.socket.remoteAddress),
    method: req.method ?? 'GET',
    url,
    forwardQuery: withoutApiKey(rawQuery(req.url ?? '')),
    key: null,
    keySource: null,
    presentedPrefix: null,
    decision: 'public',
    model: null,
    otherModels: [],
    ttfbMs: null,
    bytesIn: 0,
    maxBodyBytes: 0,
    bodyTooLarge: false,
    bytesOut: 0,
    tokens: new TokenTap(),
    loggedBody: null,
    failure: null,
    admittedKeyId: null,
    relay: null,
  };
}

async function route(req: IncomingMessage, res: ServerResponse, exchange: Exchange, deps: ProxyDeps): Promise<void> {
  const path = exchange.url.pathname;
  const method = exchange.method;
  if (method === 'OPTIONS') return answerPreflight(req, res, exchange, deps);
  if (path === '/') {
    if (method !== 'GET' && method !== 'HEAD') throw new GateError('method_not_allowed', `${method} / is not supported; use GET`);
    return answerJson(res, exchange, 200, infoBody(deps.version, deps.status().tls));
  }
  if (path === '/health') {
    if (method !== 'GET' && method !== 'HEAD') throw new GateError('method_not_allowed', `${method} /health is not supported; use GET`);
    return answerHealth(res, exchange, deps);
  }
  if (path === '/auth') {
    if (method !== 'POST') throw new GateError('method_not_allowed', `${method} /auth is not supported; POST {"api_key": "..."}`);
    return answerAuth(req, res, exchange, deps);
  }
  return proxy(req, res, exchange, deps);
}

function answerPreflight(req: IncomingMessage, res: ServerResponse, exchange: Exchange, deps: ProxyDeps): void {
  // The preflight headers include the CORS ones of every answer.
  const headers = ['X-Request-Id', exchange.id];
  for (const [name, value] of Object.entries(preflightHeaders(req.headers.origin, deps.settings.current().corsOrigins))) headers.push(name, value);
  res.writeHead(204, headers);
  res.end();
}

function answerJson(res: ServerResponse, exchange: Exchange, status: number, body: string): void {
  const length = Buffer.byteLength(body);
  res.writeHead(status, [...exchange.headers, 'Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(length)]);
  if (exchange.method === 'HEAD') return void res.end();
  exchange.bytesOut = length;
  res.end(body);
}

async function answerHealth(res: ServerResponse, exchange: Exchange, deps: ProxyDeps): Promise<void> {
  const ollama = await deps.health();
  const body = JSON.stringify({
    status: ollama.reachable ? 'ok' : 'unavailable',
    gate: { name: 'Ollama Gate', version: deps.version, uptime_seconds: Math.round(process.uptime()) },
    ollama: {
      reachable: ollama.reachable,
      version: ollama.version,
      latency_ms: ollama.latencyMs,
      error: ollama.error,
      checked_at: new Date(ollama.checkedAt).toISOString(),
      exposed_on: ollama.exposedOn,
    },
    warnings: ollama.exposedOn.map(
      (address) => `Ollama also answers on ${address}, so clients there can bypass the gate: start Ollama with OLLAMA_HOST=127.0.0.1`,
    ),
  });
  answerJson(res, exchange, ollama.reachable ? 200 : 503, body);
}

/** The seed's `/auth`: a valid key trusts the caller's IP for a while, for clients that cannot send headers. */
async function answerAuth(req: IncomingMessage, res: ServerResponse, exchange: Exchange, deps: ProxyDeps): Promise<void> {
  refuseIfLockedOut(exchange, deps);
  let presented = keyFromHeadersOrQuery(req.headers, queryOf(exchange.url));
  if (!presented) {
    const { chunks, complete } = await readPrefix(req, AUTH_BODY_LIMIT, exchange);
    if (!complete) throw new GateError('body_too_large', 'the /auth body holds only {"api_key": "..."}');
    const inspected = inspectJsonBody(Buffer.concat(chunks));
    if (!inspected.hasApiKey) throw new GateError('missing_key', 'API key required: POST {"api_key": "<key>"} or send it in a header');
    presented = keyFromBody(inspected.apiKey);
  }
  exchange.decision = 'denied';
  const key = authenticate(presented, exchange, deps);
  if (!deps.sessions.enabled) {
    throw new GateError('sessions_off', 'IP sessions are turned off on this gate; send the key with every request instead');
  }
  const ttl = deps.settings.current().sessionTtlSeconds;
  deps.sessions.create(exchange.ip, key);
  exchange.decision = 'allowed';
  const body = JSON.stringify({
    status: 'success',
    message: `IP ${exchange.ip} is authorized for ${ttl} seconds, renewed with each request`,
    user: key.user,
    expires_in: ttl,
  });
  answerJson(res, exchange, 200, body);
}

async function proxy(req: IncomingMessage, res: ServerResponse, exchange: Exchange, deps: ProxyDeps): Promise<void> {
  const settings = deps.settings.current();
  exchange.decision = 'denied';
  refuseIfLockedOut(exchange, deps);
  let presented = keyFromHeadersOrQuery(req.headers, queryOf(exchange.url));
  // A wrong header key is refused before a byte of the body is read.
  let key = presented ? authenticate(presented, exchange, deps) : null;

  // The model decides something only for a key with a model allow-list; otherwise it is just logged.
  const exactModel = key ? key.models.length > 0 : deps.keys.hasModelAllowLists;
  const prepared = await prepareBody(req, exchange, settings.maxInspectBytes, settings.maxBodyBytes, exactModel);
  if (!key && prepared.bodyApiKey !== undefined) {
    presented = keyFromBody(prepared.bodyApiKey);
    key = authenticate(presented, exchange, deps);
  }
  if (!key) key = sessionKey(exchange, deps);
  if (!key) {
    const hint = prepared.bodyTruncated ? ` (the body is over ${settings.maxInspectBytes} bytes, so it was not searched for api_key)` : '';
    throw new GateError('missing_key', `API key required: send it as "Authorization: Bearer <key>" or "X-API-Key: <key>"${hint}`);
  }

  const scope = checkScope(key.scope, exchange.url.pathname);
  if (!scope.allowed) {
    if (scope.reason === 'not_exposed') throw new GateError('not_exposed', `${exchange.url.pathname} is not exposed through the gate`);
    throw new GateError('out_of_scope', `this key's scope "${key.scope}" does not allow ${exchange.url.pathname}; it needs scope "${scope.needs}"`);
  }
  checkModel(key, exchange, prepared.bodyTruncated);
  // The client left while its body was read: its close has been handled, so claim no slot now.
  if (res.destroyed) return;
  const refusal = deps.limits.admit(key);
  if (refusal) throw new GateError('rate_limited', refusal.message, { 'Retry-After': String(refusal.retryAfterSeconds) });
  exchange.admittedKeyId = key.id;

  exchange.decision = 'allowed';
  if (settings.logRequestBodies && Buffer.isBuffer(prepared.body)) exchange.loggedBody = summarizeBody(prepared.body);
  deps.keys.touch(key.id, exchange.ip);
  await forward(req, res, exchange, deps, prepared.body);
}

function refuseIfLockedOut(exchange: Exchange, deps: ProxyDeps): void {
  const seconds = deps.lockout.remainingSeconds(exchange.ip);
  if (seconds > 0) {
    exchange.decision = 'denied';
    throw new GateError('locked_out', `too many failed API keys from ${exchange.ip}; try again in ${seconds} s`, { 'Retry-After': String(seconds) });
  }
}

/** A key with an allow-list may only name allowed models; a model it cannot check is refused, not guessed. */
function checkModel(key: KeyRecord, exchange: Exchange, bodyTruncated: boolean): void {
  if (key.models.length === 0) return;
  // A copy or a create from a model the key may not use would hand it that model under a new name.
  for (const [member, value] of exchange.otherModels) {
    if (value === undefined) throw new GateError('model_not_allowed', `"${member}" must name a model this key may use`);
    if (!modelAllowed(key.models, value)) {
      throw new GateError('model_not_allowed', `model "${value}" ("${member}") is not allowed for this key (allowed: ${key.models.join(', ')})`);
    }
  }
  const path = exchange.url.pathname;
  const model = path.startsWith('/v1/models/') ? safeDecode(path.slice('/v1/models/'.length)) : exchange.model;
  if (model === null) {
    if (bodyTruncated) throw new GateError('model_not_allowed', "the request body is too large to check its model against this key's allowed models");
    return;
  }
  if (!modelAllowed(key.models, model)) {
    throw new GateError('model_not_allowed', `model "${model}" is not allowed for this key (allowed: ${key.models.join(', ')})`);
  }
}

/** Verifies a presented key or throws the matching 401/403. */
function authenticate(presented: PresentedKey, exchange: Exchange, deps: ProxyDeps): KeyRecord {
  exchange.keySource = presented.source;
  exchange.presentedPrefix = displayPrefix(presented.secret);
  const result: Verification = deps.keys.verify(presented.secret);
  if (result.ok) {
    exchange.key = result.key;
    return result.key;
  }
  if (result.key) exchange.key = result.key;
  const messages = {
    unknown: 'invalid API key',
    disabled: 'this API key is disabled',
    expired: 'this API key has expired',
  } as const;
  const code = result.reason === 'unknown' ? 'invalid_key' : result.reason === 'disabled' ? 'disabled_key' : 'expired_key';
  const lockedNow = deps.lockout.recordFailure(exchange.ip);
  const cooldown = deps.settings.current().lockoutCooldownSeconds;
  throw new GateError(code, lockedNow ? `${messages[result.reason]}; too many failed keys: ${exchange.ip} is locked out for ${cooldown} s` : messages[result.reason]);
}

function keyFromBody(apiKey: unknown): PresentedKey {
  if (typeof apiKey !== 'string' || !apiKey.trim()) throw new GateError('bad_request', '"api_key" in the body must be a non-empty string');
  return { secret: apiKey.trim(), source: 'body' };
}

function sessionKey(exchange: Exchange, deps: ProxyDeps): KeyRecord | null {
  const session = deps.sessions.use(exchange.ip);
  if (!session) return null;
  const key = deps.keys.get(session.keyId);
  if (!key) return null;
  exchange.key = key;
  exchange.keySource = 'session';
  return key;
}

interface PreparedBody {
  body: ForwardBody;
  /** the api_key value found in a JSON body, when there was one */
  bodyApiKey: unknown;
  /** a JSON body over the inspection limit: it streams through unread */
  bodyTruncated: boolean;
}

/**
 * Reads a JSON body up to the inspection limit to find `api_key` (removed) and `model` (logged).
 * Blob uploads and other opaque bodies are not read at all: they stream through as they arrive,
 * and so does any body over the limit, its read prefix first.
 */
async function prepareBody(req: IncomingMessage, exchange: Exchange, limit: number, maxBodyBytes: number, exactModel: boolean): Promise<PreparedBody> {
  exchange.maxBodyBytes = exchange.url.pathname.startsWith('/api/blobs/') ? 0 : maxBodyBytes;
  if (exchange.maxBodyBytes > 0 && Number(req.headers['content-length'] ?? 0) > exchange.maxBodyBytes) throw bodyTooLarge(exchange);
  if (!hasBody(req)) return { body: undefined, bodyApiKey: undefined, bodyTruncated: false };
  if (BODYLESS_METHODS.has(exchange.method) || isOpaque(req, exchange.url.pathname)) {
    return { body: Readable.from(counted(req, exchange), { objectMode: false }), bodyApiKey: undefined, bodyTruncated: false };
  }
  const { chunks, complete } = await readPrefix(req, limit, exchange);
  if (!complete) {
    return { body: Readable.from(prefixThenRest(chunks, req, exchange), { objectMode: false }), bodyApiKey: undefined, bodyTruncated: true };
  }
  const modelMembers = exactModel ? MODEL_MEMBERS.get(exchange.url.pathname) : undefined;
  const inspected = inspectJsonBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), { exactModel, modelMembers });
  exchange.model = inspected.model ?? null;
  exchange.otherModels = inspected.otherModels ?? [];
  return { body: inspected.body, bodyApiKey: inspected.hasApiKey ? inspected.apiKey : undefined, bodyTruncated: false };
}

/** Counts body bytes as they pass and stops a body past the limit (a chunked one only shows its size late). */
function countBodyBytes(exchange: Exchange, length: number): void {
  exchange.bytesIn += length;
  if (exchange.maxBodyBytes > 0 && exchange.bytesIn > exchange.maxBodyBytes) throw bodyTooLarge(exchange);
}

function bodyTooLarge(exchange: Exchange): GateError {
  exchange.bodyTooLarge = true;
  return new GateError('body_too_large', `the request body is larger than this gate's limit of ${exchange.maxBodyBytes} bytes`);
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isOpaque(req: IncomingMessage, path: string): boolean {
  return path.startsWith('/api/blobs/') || OPAQUE_CONTENT.test(req.headers['content-type'] ?? '');
}

/**
 * Reads the body until it ends or passes `limit` bytes. Past the limit the request is paused with
 * the rest unread, for prefixThenRest to stream on.
 */
function readPrefix(req: IncomingMessage, limit: number, exchange: Exchange): Promise<{ chunks: Buffer[]; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    // Listeners stay on a body that was read to its end: removing a Readable's listeners costs more
    // than their being called once more (a late 'close') and ignored.
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      if (settled) return;
      chunks.push(chunk);
      length += chunk.length;
      try {
        countBodyBytes(exchange, chunk.length);
      } catch (error) {
        return fail(error as Error);
      }
      if (length > limit) {
        // The rest is streamed on by prefixThenRest, which reads the request itself.
        settled = true;
        req.pause();
        req.off('data', onData);
        resolve({ chunks, complete: false });
      }
    };
    req.on('data', onData);
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve({ chunks, complete: true });
    });
    req.on('error', fail);
    // Closed without an end (and without an error): the client went away mid-body. Every request
    // closes once it is over, so the Error (and its stack) is made only when it is one.
    req.on('close', () => settled || fail(new Error('the client closed the connection while sending its body')));
  });
}

async function* prefixThenRest(prefix: Buffer[], rest: IncomingMessage, exchange: Exchange): AsyncIterable<Buffer> {
  yield* prefix;
  for await (const chunk of rest) {
    countBodyBytes(exchange, (chunk as Buffer).length);
    yield chunk as Buffer;
  }
}

async function* counted(source: AsyncIterable<Buffer>, exchange: Exchange): AsyncIterable<Buffer> {
  for await (const chunk of source) {
    countBodyBytes(exchange, chunk.length);
    yield chunk;
  }
}

/** Why an upstream request is aborted when its client has gone. */
const CLIENT_GONE = new Error('the client closed the connection');

/**
 * Sends the request to Ollama; resolves once Ollama's answer has started (the Relay streams the
 * rest) and rejects with the gate's error when it fails before that.
 */
function forward(req: IncomingMessage, res: ServerResponse, exchange: Exchange, deps: ProxyDeps, body: ForwardBody): Promise<void> {
  const target = deps.upstream.target(deps.settings.current());
  // A body the gate has read is sent with its own length (it may have lost its api_key).
  const headers = upstreamRequestHeaders(req.headers, Buffer.isBuffer(body) ? body.length : undefined);
  return new Promise((resolve, reject) => {
    const relay = new Relay(res, exchange, target, (error) => (error === undefined ? resolve() : reject(error)));
    exchange.relay = relay;
    relay.send(target.basePath + exchange.url.pathname + exchange.forwardQuery, headers, body);
  });
}

/**
 * Streams Ollama's answer to the client chunk by chunk as it arrives: a write the client cannot
 * take yet pauses Ollama's side until the client drains, and a client that leaves destroys the
 * upstream request so Ollama stops generating. Nothing is buffered, except a model list the
 * key's allow-list filters (small JSON, read whole).
 */
class Relay {
  private upstream: ClientRequest | null = null;
  private started = false;
  private gone = false;
  /** the gate could not pass Ollama's answer on and answers with its own error instead */
  private refused = false;
  /** the upstream request or answer failed; later errors of the same failure are ignored */
  private failed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly exchange: Exchange,
    private readonly target: UpstreamTarget,
    /** called once: when the answer starts, or with the error that came first */
    private settle: ((error?: unknown) => void) | null,
  ) {}

  send(path: string, headers: string[], body: ForwardBody): void {
    const upstream = this.target.request(this.exchange.method, path, headers);
    this.upstream = upstream;
    upstream.on('response', (answer) => this.onResponse(answer));
    upstream.on('error', (error) => this.onError(error));
    if (this.gone) upstream.destroy(CLIENT_GONE);
    else if (body === undefined || Buffer.isBuffer(body)) upstream.end(body);
    else {
      // A body that fails on its way (too large, the client gone) fails the upstream request with it.
      body.on('error', (error) => upstream.destroy(error));
      body.pipe(upstream);
    }
  }

  /** The client has gone before the answer ended: stop Ollama (now, or as soon as the request starts). */
  clientLeft(): void {
    this.gone = true;
    this.upstream?.destroy(CLIENT_GONE);
  }

  private onResponse(answer: IncomingMessage): void {
    const { exchange, res } = this;
    const upstream = this.upstream!;
    const statusCode = answer.statusCode ?? 502;
    exchange.ttfbMs = performance.now() - exchange.t0;
    answer.on('error', (error) => this.onError(error));
    const models = exchange.key?.models ?? [];
    if (models.length > 0 && statusCode === 200 && MODEL_LIST_PATHS.has(exchange.url.pathname)) {
      this.readModelList(answer);
    } else {
      try {
        res.writeHead(statusCode, downstreamResponseHeaders(answer.rawHeaders, [...exchange.headers]));
      } catch (error) {
        // Headers Node refuses to send (invalid characters): the client gets the gate's 500.
        this.refused = true;
        upstream.destroy();
        return this.done(error);
      }
      this.target.watchBody(upstream, answer);
      let drainWatched = false;
      answer.on('data', (chunk: Buffer) => {
        exchange.bytesOut += chunk.length;
        exchange.tokens.observe(chunk);
        if (res.write(chunk)) return;
        answer.pause();
        if (!drainWatched) {
          drainWatched = true;
          res.on('drain', () => answer.resume());
        }
      });
      answer.on('end', () => res.end());
    }
    this.started = true;
    this.done();
  }

  private onError(error: Error): void {
    const { exchange } = this;
    if (this.failed || this.refused) return; // the first error is the answer
    this.failed = true;
    if (!this.started) {
      if (this.gone) return this.done(); // finishExchange records the client's leaving
      return this.done(exchange.bodyTooLarge ? bodyTooLarge(exchange) : upstreamError(error, this.target.url));
    }
    if (this.gone || this.res.writableEnded) return;
    exchange.failure = { outcome: 'upstream_error', message: upstreamError(error, this.target.url).message };
    this.res.destroy(); // the client sees a broken stream, not a clean end it would trust
  }

  private done(error?: unknown): void {
    const settle = this.settle;
    this.settle = null;
    settle?.(error);
  }

  /** A model list (small JSON) is the one answer the gate reads whole: to show only the models the key may use. */
  private readModelList(answer: IncomingMessage): void {
    const { exchange, res } = this;
    const chunks: Buffer[] = [];
    answer.on('data', (chunk: Buffer) => chunks.push(chunk));
    answer.on('end', () => {
      try {
        const body = filterModelList(Buffer.concat(chunks).toString('utf8'), exchange.key?.models ?? []);
        const length = Buffer.byteLength(body);
        res.writeHead(200, [...downstreamResponseHeaders(answer.rawHeaders, [...exchange.headers], false), 'content-length', String(length)]);
        if (exchange.method === 'HEAD') return void res.end();
        exchange.bytesOut = length;
        res.end(body);
      } catch (error) {
        exchange.failure = { outcome: 'error', message: `the gate failed: ${(error as Error).message}` };
        res.destroy();
      }
    });
  }
}

function fail(res: ServerResponse, exchange: Exchange, error: unknown): void {
  const gateError = error instanceof GateError ? error : new GateError('internal', `the gate failed: ${error instanceof Error ? error.message : String(error)}`);
  const outcome: Outcome = gateError.isDenial || gateError.status === 400 ? 'denied' : gateError.status >= 500 ? 'upstream_error' : 'error';
  if (gateError.code === 'internal') console.error(`ollama-gate: request ${exchange.id} failed:`, error);
  exchange.failure = { outcome: gateError.code === 'internal' ? 'error' : outcome, message: gateError.message };
  if (res.destroyed) return;
  exchange.bytesOut += sendError(res, exchange.url.pathname, gateError, exchange.headers);
}

function finishExchange(exchange: Exchange, res: ServerResponse, deps: ProxyDeps): void {
  const outcome: Outcome = exchange.failure?.outcome ?? (res.writableFinished ? 'ok' : 'client_aborted');
  const tokens = exchange.tokens.counts();
  deps.events.emit('request', {
    id: exchange.id,
    time: exchange.startedAt,
    method: exchange.method,
    path: exchange.url.pathname + redactQuery(exchange.url.search),
    ip: exchange.ip,
    user: exchange.key?.user ?? null,
    keyId: exchange.key?.id ?? null,
    keyPrefix: exchange.key?.prefix ?? exchange.presentedPrefix,
    keySource: exchange.keySource,
    decision: exchange.decision,
    status: res.statusCode,
    ttfbMs: exchange.ttfbMs === null ? null : round(exchange.ttfbMs),
    durationMs: round(performance.now() - exchange.t0),
    bytesIn: exchange.bytesIn,
    bytesOut: exchange.bytesOut,
    model: exchange.model,
    promptTokens: tokens.promptTokens,
    completionTokens: tokens.completionTokens,
    requestBody: exchange.loggedBody,
    outcome,
    error: exchange.failure?.message ?? (outcome === 'client_aborted' ? 'client closed the connection before the response ended' : null),
  });
}

/**
 * The CORS headers for a request's Origin, worked out once per origin for the configured origins
 * (a browser sends the same one every time; a flood of made-up ones is not cached past a few).
 */
class CorsHeaders {
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

/** The parsed query, only for a target that has one. */
function queryOf(url: RequestTarget): URLSearchParams | undefined {
  return url.search ? url.searchParams : undefined;
}

function rawQuery(url: string): string {
  const q = url.indexOf('?');
  return q >= 0 ? url.slice(q) : '';
}

/** The query without `api_key`, every other parameter exactly as the client encoded it. */
function withoutApiKey(query: string): string {
  if (!query.includes('api_key')) return query;
  const kept = query
    .slice(1)
    .split('&')
    .filter((pair) => safeDecode(pair.split('=')[0] ?? '') !== 'api_key');
  return kept.length ? `?${kept.join('&')}` : '';
}

function redactQuery(query: string): string {
  if (!query) return '';
  return (
    '?' +
    query
      .slice(1)
      .split('&')
      .map((pair) => (safeDecode(pair.split('=')[0] ?? '') === 'api_key' ? 'api_key=***' : pair))
      .join('&')
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function infoBody(version: string, tls: GateStatus['tls']): string {
  return JSON.stringify({
    name: 'Ollama Gate',
    version,
    status: 'running',
    description: 'API-key gate in front of Ollama',
    https: tls?.fingerprint256 ? { port: tls.port, fingerprint_sha256: tls.fingerprint256 } : null,
    auth: {
      headers: ['Authorization: Bearer <key>', 'X-API-Key: <key>', 'Authorization: Basic (key as password)'],
      query: '?api_key=<key>',
      body: '{"api_key": "<key>"}',
      session: 'POST /auth {"api_key": "<key>"} trusts your IP for a while',
    },
    endpoints: {
      '/': 'this information',
      '/health': "the gate's and Ollama's health",
      '/auth': 'POST: trust this IP for a while',
      '/api/*': 'Ollama API (needs a key)',
      '/v1/*': 'OpenAI-compatible API (needs a key)',
    },
  });
}
