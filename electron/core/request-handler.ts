import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { summarizeBody } from './body-log.js';
import type { Clock } from './clock.js';
import { CorsHeaderCache } from './cors.js';
import { keyFromHeadersOrQuery } from './credentials.js';
import { GateError, sendError } from './errors.js';
import type { Emitter, GatewayEvents } from './events.js';
import { type GateRouteDeps, answerGateRoute, answerJson, answerPreflight, isGateRoute } from './gate-routes.js';
import { type Backend, type BackendSet, MODEL_CHANGING_PATHS, routingModel } from './backends.js';
import { BACKEND_HEADER, passedThrough, upstreamRequestHeaders } from './headers.js';
import { type InspectedBody, inspectJsonBody } from './json-body.js';
import type { KeyRecord } from './keys.js';
import type { KeyLimits } from './limits.js';
import { normalizeIp } from './network.js';
import { type BodyForPolicy, MODEL_LIST_PATHS, budgetCanFollow, checkScope, filterModelList, refuseModels } from './policy.js';
import { Relay, type UpstreamRequest } from './relay.js';
import { authenticate, keyFromBody, missingKey, refuseIfLockedOut, trustedSessionKey } from './request-auth.js';
import { BodyMeter, type RequestBody, declaresBody, expectsContinue } from './request-body.js';
import { RequestRecord } from './request-record.js';
import { type RequestTarget, parseTarget } from './request-target.js';
import { type UploadedBlobs, UploadProof } from './uploaded-blobs.js';
import { REFUSED, fetchModelLists, mergeModelLists } from './merged-lists.js';
import type { GateSettings } from './settings.js';

export interface RequestHandlerDeps extends GateRouteDeps {
  /** the Ollamas requests go to */
  backends: BackendSet;
  events: Emitter<GatewayEvents>;
  clock: Clock;
  limits: KeyLimits;
  blobs: UploadedBlobs;
  /** told when a request's response is over (sent, failed or abandoned), whatever became of it */
  closed?(): void;
  /** this gate's `Via` entry (ownViaEntry), added to every request it forwards */
  via: string;
}

/** The methods Ollama serves; anything else is refused before it costs anything. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS']);

/**
 * The request path, as small steps that each return what they found: accept → target → (the gate's
 * own routes) → credentials → authenticate → body → policy → admit → relay → finish. A step that
 * refuses throws the gate's error; one place answers it and one place logs the request.
 */
export function createRequestHandler(deps: RequestHandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const cors = new CorsHeaderCache();
  return (req, res) => {
    const record = new RequestRecord(normalizeIp(req.socket.remoteAddress), req.method ?? 'GET', deps.clock.now());
    record.userAgent = req.headers['user-agent'];
    cors.addTo(record.headers, req.headers.origin, deps.settings.current().corsOrigins);
    // Everything a request's end needs, once: its answer is over (sent, failed or abandoned).
    let forget: (() => void) | undefined;
    const finish = () => {
      if (record.over) return;
      record.over = true;
      forget?.();
      // A client that leaves before the answer ended stops Ollama too.
      if (!res.writableFinished) record.relay?.clientLeft();
      record.meter?.repay();
      if (record.admitted) {
        deps.limits.release(record.admitted.id);
        rememberUpload(record, res, deps.blobs);
      }
      record.leaveBackend?.();
      // A pull, create, copy or delete changed the backend's models: with several, where models go depends on its list now.
      if (record.backend && res.statusCode < 400 && MODEL_CHANGING_PATHS.has(record.target!.path) && deps.backends.several) {
        void record.backend.monitor.check();
      }
      deps.events.emit('request', record.toLogEntry(res));
      deps.closed?.();
    };
    res.once('close', finish);
    // A pipelined request's answer waits for its turn off the connection: if the connection dies
    // first, that answer never closes, so the connection's end is the request's end.
    if (!res.socket) forget = atConnectionEnd(req.socket, finish);
    handle(req, res, record, deps).catch((error: unknown) => fail(req, res, record, error));
  };
}

/** What to do for each waiting request when its connection ends; one listener per connection. */
const waitingOnConnection = new WeakMap<Socket, Set<() => void>>();

/** Runs `run` when the connection ends, unless the returned function is called first. */
function atConnectionEnd(socket: Socket, run: () => void): () => void {
  let waiting = waitingOnConnection.get(socket);
  if (!waiting) {
    const each = new Set<() => void>();
    waitingOnConnection.set(socket, (waiting = each));
    socket.once('close', () => {
      for (const ending of each) ending();
    });
  }
  waiting.add(run);
  return () => waiting.delete(run);
}

async function handle(req: IncomingMessage, res: ServerResponse, record: RequestRecord, deps: RequestHandlerDeps): Promise<void> {
  accept(req, res, record.method);
  const target = (record.target = parseTarget(req.url ?? '/'));
  if (record.method === 'OPTIONS') return answerPreflight(req, res, record, deps.settings.current().corsOrigins);
  if (isGateRoute(target.path)) return answerGateRoute(req, res, record, deps);
  return passToOllama(req, res, record, target, deps);
}

/** Methods whose requests never carry a body to Ollama. */
const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What the gate refuses before reading anything: a method Ollama does not serve, and a body on a
 * GET, HEAD or OPTIONS (Ollama never reads one; unframed, it would become a second request).
 */
function accept(req: IncomingMessage, res: ServerResponse, method: string): void {
  // Node stops reading a connection after an Upgrade request (the gate upgrades nothing): end it after this answer.
  if (req.headers.upgrade !== undefined) res.shouldKeepAlive = false;
  if (!METHODS.has(method)) throw new GateError('method_not_supported', { method }, { Allow: 'GET, HEAD, POST, DELETE, OPTIONS' });
  if (BODYLESS.has(method) && declaresBody(req)) throw new GateError('body_on_bodyless', { method });
}

/** A request for Ollama: who sends it, its body, whether its key may, then on to Ollama. */
async function passToOllama(req: IncomingMessage, res: ServerResponse, record: RequestRecord, target: RequestTarget, deps: RequestHandlerDeps): Promise<void> {
  const settings = deps.settings.current();
  record.decision = 'denied';
  // Forwarded by this very gate: its upstream leads back here, and each round would open another.
  if (passedThrough(req.headers.via, deps.via)) throw new GateError('forward_loop');
  refuseIfLockedOut(record.ip, deps.lockout);

  // Credentials in the headers or query are checked before a byte of the body is read.
  const headerKey = keyFromHeadersOrQuery(req.headers, target.query.key);
  let key = headerKey ? authenticate(headerKey, record, deps, settings.lockoutCooldownSeconds) : undefined;
  const sessionKey = key ? undefined : trustedSessionKey(record.ip, req.headers, settings.corsOrigins, deps);

  const blobUpload = target.path.startsWith('/api/blobs/');
  const known = key ?? sessionKey;
  // Without a key already, a blob is not read at all (it is never searched for one), and a client
  // that waits for "100 Continue" is not asked for its body.
  if (!known && (blobUpload || expectsContinue(req))) throw missingKey();
  const meter = new BodyMeter({
    readLimit: known ? settings.maxInspectBytes : settings.maxUnauthenticatedBodyBytes,
    maxBodyBytes: blobUpload ? 0 : settings.maxBodyBytes,
    idleMs: settings.clientBodyTimeoutMs,
    budget: known ? undefined : { from: deps.unauthenticatedBodies, address: record.ip },
  });
  record.meter = meter;
  const body = await meter.read(req, res, blobUpload);
  // The model decides something only for a key with an allow-list; otherwise it is just logged.
  const exactModel = known ? known.models.length > 0 : deps.keys.hasModelAllowLists;
  const inspected = body.kind === 'read' ? inspectJsonBody(body.bytes, { exactModel }) : undefined;

  // The body may have taken long to come: a key known before it must still hold, as it is now.
  if (key) key = stillUsable(key, undefined, deps);
  if (!key && inspected?.hasApiKey) key = authenticate(keyFromBody(inspected.apiKey), record, deps, settings.lockoutCooldownSeconds);
  if (!key && sessionKey) {
    key = stillUsable(sessionKey, record.ip, deps);
    record.keySource = 'session';
  }
  meter.repay(); // from here the gate knows whom it serves, or refuses
  if (!key) throw missingKey(body.kind === 'partial' ? settings.maxUnauthenticatedBodyBytes : undefined);
  // Without a key in a header the body's "api_key" would be the credential, to be taken out before
  // Ollama sees it: a body too long to read cannot be cleaned of it.
  if (!headerKey && body.kind === 'partial') {
    throw new GateError('body_too_long_to_clean', { limit: settings.maxInspectBytes });
  }
  record.key = key;
  record.model = inspected?.model ?? null;

  authorize(key, target, body, inspected, deps.blobs);
  if (record.method === 'HEAD' && blobUpload && key.models.length > 0 && !deps.blobs.has(key.id, blobDigest(target))) {
    // For a key limited to some models, only its own uploads exist: the client uploads the file again.
    return answerJson(res, record, 404, '');
  }
  // The client left while its body was read: its end has been handled, so claim no slot and send nothing.
  if (record.over) return;
  const pinned = deps.backends.named(req.headers[BACKEND_HEADER]);
  const refusal = deps.limits.admit(key);
  if (refusal) throw refusal.error;
  record.admitted = key;
  record.decision = 'allowed';
  if (settings.logRequestBodies && inspected) record.loggedBody = summarizeBody(inspected.body);
  deps.keys.touch(key.id, record.ip);

  const filtersModels = key.models.length > 0 && record.method === 'GET' && MODEL_LIST_PATHS.has(target.path);
  const allowedModels = filtersModels ? key.models : null;
  const several = deps.backends.several;
  const headers = upstreamRequestHeaders(req.headers, record.presentedSecret, deps.via);
  if (several && !pinned && record.method === 'GET' && MODEL_LIST_PATHS.has(target.path)) {
    return answerMergedList(res, record, target, headers, allowedModels, settings, deps.backends);
  }
  const request: UpstreamRequest = {
    method: record.method,
    path: target.wirePath + target.query.forwarded,
    headers,
    body: forwardedBody(body, inspected, record),
  };
  // Only running a model goes where the model is: everything else (pull, create, copy, delete, push,
  // blobs, account routes) to the default, unless X-Gate-Backend names another.
  const model = several && !pinned ? routingModel(record.model, target.path) : null;
  const first = pinned ?? (several ? deps.backends.route(model) : undefined) ?? deps.backends.default;
  try {
    await relayTo(first, request, res, record, allowedModels, settings, several);
  } catch (error) {
    // Nothing of the answer came: another backend may take it, once, if the body can be sent again.
    const again = !pinned && several && !record.over && retryable(error, request) ? deps.backends.route(model, first) : undefined;
    if (!again) throw error;
    await relayTo(again, request, res, record, allowedModels, settings, several);
  }
}

/** Sends the request (its path without a base path: the backend's goes in front) to one backend, streaming its answer to the client; rejects, before any byte of an answer, with why. */
async function relayTo(
  backend: Backend,
  request: UpstreamRequest,
  res: ServerResponse,
  record: RequestRecord,
  allowedModels: readonly string[] | null,
  settings: GateSettings,
  several: boolean,
): Promise<void> {
  const upstream = backend.target(settings);
  const relay = new Relay(res, upstream, {
    gateHeaders: record.headers,
    allowedModels,
    path: record.target!.path,
    t0: record.t0,
    failure: (error) => backend.failure(error),
  });
  record.relay = relay;
  record.backend = backend;
  backend.inFlight++;
  record.leaveBackend = () => {
    record.leaveBackend = null;
    backend.inFlight--;
  };
  try {
    await relay.send({ ...request, path: upstream.basePath + request.path });
  } catch (error) {
    record.leaveBackend?.(); // (the request's end may have come first)
    if (several && error instanceof GateError && REFUSED.has(error.code)) backend.refused();
    throw error;
  }
}

function retryable(error: unknown, request: UpstreamRequest): boolean {
  return error instanceof GateError && REFUSED.has(error.code) && (request.body === null || Buffer.isBuffer(request.body));
}

/** A model list from every backend that is up, each model once, cut to the key's allowed models. */
async function answerMergedList(
  res: ServerResponse,
  record: RequestRecord,
  target: RequestTarget,
  headers: string[],
  allowedModels: readonly string[] | null,
  settings: GateSettings,
  backends: BackendSet,
): Promise<void> {
  const up = backends.upNow();
  const asked = up.length > 0 ? up : [backends.default];
  record.backendName = 'all';
  // A client that leaves ends the backends' requests too (its slot is released as it leaves).
  const leaving = new AbortController();
  record.leaveBackend = () => leaving.abort();
  const bodies = await fetchModelLists(asked, settings, target.wirePath + target.query.forwarded, headers, leaving.signal);
  record.leaveBackend = null;
  const merged = mergeModelLists(target.path, bodies);
  const body = merged === undefined || !allowedModels ? merged : filterModelList(merged, allowedModels);
  if (body === undefined) throw new GateError('upstream_model_list');
  record.mergedTtfbMs = performance.now() - record.t0;
  answerJson(res, record, 200, body);
}

/**
 * A key known before the body was read, as it is now: a body may take minutes to come, and a key
 * disabled, rotated, removed or given a narrower list meanwhile (or the IP's session ended) does
 * not carry the request it began.
 */
function stillUsable(key: KeyRecord, sessionIp: string | undefined, deps: RequestHandlerDeps): KeyRecord {
  const current = deps.keys.get(key.id);
  const sessionHolds = sessionIp === undefined || deps.sessions.use(sessionIp)?.keyId === key.id;
  if (!current || !deps.keys.isUsable(key.id, key.hash) || !sessionHolds) {
    throw new GateError('key_changed');
  }
  return current;
}

/** The key's scope, then its allowed models: whatever the policy cannot read, it refuses. */
function authorize(key: KeyRecord, target: RequestTarget, body: RequestBody, inspected: InspectedBody | undefined, blobs: UploadedBlobs): void {
  const scope = checkScope(key.scope, target.path);
  if (!scope.allowed) {
    if (scope.reason === 'not_exposed') throw new GateError('not_exposed', { path: target.path });
    throw new GateError('out_of_scope', { scope: key.scope, path: target.path, needs: scope.needs });
  }
  // A budget the gate could not keep would be no budget.
  if (key.dailyTokens !== null && !budgetCanFollow(target.path)) throw new GateError('budget_uncountable', { path: target.path });
  // Ollama reads the first JSON value and ignores the rest; the gate will not guess which part counts.
  if (inspected?.shape === 'trailing') throw new GateError('trailing_json');
  const forPolicy: BodyForPolicy = inspected
    ? { kind: 'read', bytes: inspected.body, shape: inspected.shape }
    : body.kind === 'none'
      ? { kind: 'none' }
      : { kind: 'unread' };
  const refusal = refuseModels(key.models, target.path, forPolicy, (digest) => blobs.has(key.id, digest));
  if (refusal) throw refusal;
}

/** What goes to Ollama: the body read (without its api_key), or the body as it streams in. */
function forwardedBody(body: RequestBody, inspected: InspectedBody | undefined, record: RequestRecord): Buffer | AsyncIterable<Buffer> | null {
  if (body.kind === 'none') return null;
  if (body.kind === 'read') return inspected!.body;
  if (body.kind === 'partial') return prefixThenRest(body.prefix, body.rest());
  // A blob from a key with an allow-list is hashed on its way: only proven bytes may build a model.
  if (record.key!.models.length === 0 || record.method !== 'POST') return body.rest();
  record.upload = new UploadProof(blobDigest(record.target!));
  return record.upload.tap(body.rest());
}

async function* prefixThenRest(prefix: Buffer[], rest: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  yield* prefix;
  yield* rest;
}

function blobDigest(target: RequestTarget): string {
  return target.path.slice('/api/blobs/'.length);
}

/**
 * A blob a key with an allow-list uploaded is one it may build models from, once its bytes are
 * proven: Ollama checked them (201), or it already had the blob (200) and the gate's own hash of
 * every byte the client sent matches.
 */
function rememberUpload(record: RequestRecord, res: ServerResponse, blobs: UploadedBlobs): void {
  const { admitted: key, upload } = record;
  if (!key || !upload || !res.writableFinished || record.relay?.failure) return;
  if (res.statusCode === 201 || (res.statusCode === 200 && upload.matches)) blobs.add(key.id, upload.digest);
}

/**
 * Answers a refusal or failure in the shape the client's path expects. A request whose body was not
 * read to its end is answered with the connection closing: the rest of its bytes never become
 * another request, and a stranger cannot keep sending them.
 */
function fail(req: IncomingMessage, res: ServerResponse, record: RequestRecord, error: unknown): void {
  const gateError = error instanceof GateError ? error : new GateError('internal', { detail: error instanceof Error ? error.message : String(error) });
  if (gateError.code === 'internal') console.error(`ollama-gate: request ${record.id} failed:`, error);
  record.failure = { outcome: gateError.outcome, message: gateError.message, reason: gateError.reason };
  if (res.destroyed) return;
  const unread = declaresBody(req) && !req.complete;
  record.ownBytesOut += sendError(res, record.target?.path ?? '/', gateError, record.headers, unread);
}
