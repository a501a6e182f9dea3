import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BackendView, HealthView } from '../shared/contract.js';
import { preflightHeaders } from './cors.js';
import { keyFromHeadersOrQuery } from './credentials.js';
import { GateError } from './errors.js';
import type { GateStatus } from './events.js';
import { inspectJsonBody } from './json-body.js';
import { type AuthDeps, authenticate, keyFromBody, refuseIfLockedOut } from './request-auth.js';
import { BodyMeter, type ByteBudget } from './request-body.js';
import type { RequestRecord } from './request-record.js';
import type { SettingsProvider } from './settings.js';

/** What the gate's own routes need. */
export interface GateRouteDeps extends AuthDeps {
  settings: SettingsProvider;
  unauthenticatedBodies: ByteBudget;
  version: string;
  /** Ollama's health, at most a second old */
  health(): Promise<HealthView>;
  /** every backend with its health at most a second old, the default first (its health is `health()`'s) */
  backendViews(): Promise<BackendView[]>;
  status(): GateStatus;
}

/** The paths the gate answers itself; everything else is Ollama's. */
export function isGateRoute(path: string): boolean {
  return path === '/' || path === '/health' || path === '/auth';
}

/** `/`, `/health` and `/auth`, for a request whose path is one of them. */
export async function answerGateRoute(req: IncomingMessage, res: ServerResponse, record: RequestRecord, deps: GateRouteDeps): Promise<void> {
  const { method } = record;
  const path = record.target!.path;
  if (path === '/auth') {
    if (method !== 'POST') throw new GateError('auth_method', { method });
    return answerAuth(req, res, record, deps);
  }
  if (method !== 'GET' && method !== 'HEAD') throw new GateError('route_method', { method, path });
  if (path === '/') return answerJson(res, record, 200, infoBody(deps.version, deps.status().tls));
  const [ollama, backends] = await Promise.all([deps.health(), deps.backendViews()]);
  // With several backends, the gate serves while any one does.
  const reachable = backends.filter((b) => b.enabled && (b.isDefault ? ollama : b.health)?.reachable).length;
  const enabled = backends.filter((b) => b.enabled).length;
  const state = reachable === enabled ? 'ok' : reachable > 0 && enabled > 1 ? 'degraded' : 'unavailable';
  answerJson(res, record, state === 'unavailable' ? 503 : 200, healthBody(state, ollama, backends, deps.version));
}

/** A CORS preflight, answered here for any path: the preflight headers include those of every answer. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, record: RequestRecord, corsOrigins: readonly string[]): void {
  const headers = ['X-Request-Id', record.id];
  for (const [name, value] of Object.entries(preflightHeaders(req.headers.origin, corsOrigins))) headers.push(name, value);
  res.writeHead(204, headers);
  res.end();
}

export function answerJson(res: ServerResponse, record: RequestRecord, status: number, body: string): void {
  const length = Buffer.byteLength(body);
  res.writeHead(status, [...record.headers, 'Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(length)]);
  if (record.method === 'HEAD') return void res.end();
  record.ownBytesOut = length;
  res.end(body);
}

/** `/auth` bodies hold one key; nothing bigger is read there. */
const AUTH_BODY_LIMIT = 64 * 1024;

/** The seed's `/auth`: a valid key trusts the caller's IP for a while, for clients that cannot send headers. */
async function answerAuth(req: IncomingMessage, res: ServerResponse, record: RequestRecord, deps: GateRouteDeps): Promise<void> {
  const settings = deps.settings.current();
  record.decision = 'denied';
  refuseIfLockedOut(record.ip, deps.lockout);
  let presented = keyFromHeadersOrQuery(req.headers, record.target!.query.key);
  if (!presented) {
    const limit = Math.min(AUTH_BODY_LIMIT, settings.maxUnauthenticatedBodyBytes);
    const meter = new BodyMeter({
      readLimit: limit,
      maxBodyBytes: 0,
      idleMs: settings.clientBodyTimeoutMs,
      budget: { from: deps.unauthenticatedBodies, address: record.ip },
    });
    record.meter = meter;
    try {
      const body = await meter.read(req, res, false);
      if (body.kind === 'partial') throw new GateError('auth_body_too_large');
      const inspected = body.kind === 'read' ? inspectJsonBody(body.bytes) : undefined;
      if (!inspected?.hasApiKey) throw new GateError('auth_missing_key');
      presented = keyFromBody(inspected.apiKey);
    } finally {
      meter.repay();
    }
  }
  const key = authenticate(presented, record, deps, settings.lockoutCooldownSeconds);
  if (!deps.sessions.enabled) throw new GateError('sessions_off');
  deps.sessions.create(record.ip, key);
  record.decision = 'allowed';
  const ttl = settings.sessionTtlSeconds;
  answerJson(
    res,
    record,
    200,
    JSON.stringify({
      status: 'success',
      message: `IP ${record.ip} is authorized for ${ttl} seconds, renewed with each request`,
      user: key.user,
      expires_in: ttl,
    }),
  );
}

function healthBody(status: string, ollama: HealthView, backends: BackendView[], version: string): string {
  return JSON.stringify({
    status,
    gate: { name: 'Ollama Gate', version, uptime_seconds: Math.round(process.uptime()) },
    ollama: {
      reachable: ollama.reachable,
      version: ollama.version,
      latency_ms: ollama.latencyMs,
      error: ollama.error,
      checked_at: new Date(ollama.checkedAt).toISOString(),
      exposed_on: ollama.exposedOn,
    },
    // Each Ollama the gate forwards to (the default is `ollama` above), only when there are several.
    backends:
      backends.length > 1
        ? backends.map((b) => {
            const health = b.isDefault ? ollama : b.health;
            // No URL, model names or load: /health answers anyone, and those say more than whether the gate serves.
            return {
              name: b.name,
              default: b.isDefault,
              enabled: b.enabled,
              reachable: health?.reachable ?? false,
              version: health?.version ?? null,
              error: health?.reason?.code ?? (health?.error ? 'unreachable' : null),
              models: health?.models.length ?? 0,
            };
          })
        : undefined,
    // Every Ollama that answers on this machine's network addresses too: clients there bypass the gate.
    warnings: [
      ...ollama.exposedOn.map((address) => `Ollama also answers on ${address}, so clients there can bypass the gate: start Ollama with OLLAMA_HOST=127.0.0.1`),
      ...backends.flatMap((b) =>
        b.isDefault || !b.health
          ? []
          : b.health.exposedOn.map(
              (address) => `Ollama "${b.name}" also answers on ${address}, so clients there can bypass the gate: start it with OLLAMA_HOST=127.0.0.1`,
            ),
      ),
    ],
  });
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
