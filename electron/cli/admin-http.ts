import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';
import type { GateService } from '../core/service.js';
import { GATE_EVENTS, type GateEvents, type GateResult } from '../shared/contract.js';
import { CONTENT_SECURITY_POLICY, contentTypeOf } from '../core/renderer-files.js';
import { UNAUTHORIZED_CSS, UNAUTHORIZED_CSS_PATH, type UnauthorizedReason, pageLanguage, unauthorizedPage, wantsHtml } from './unauthorized-page.js';

/**
 * The headless web admin: GateApi over loopback HTTP (`POST /gate/<method>`, `GET /gate/events`
 * as server-sent events) plus the built renderer, on a listener of its own that is never the
 * proxy's. It binds 127.0.0.1 only and answers only requests that carry the admin token (a cookie
 * set by opening the printed URL, or `Authorization: Bearer`), name this listener in their Host
 * (DNS rebinding) and come from its own origin (cross-site requests).
 */

/** What the admin needs of the gate service: its one generic entry point and its events. */
export type AdminService = Pick<GateService, 'call' | 'on'>;

export interface AdminServerOptions {
  service: AdminService;
  /** 0 picks a free port */
  port: number;
  /** the built renderer (`vite build` output) */
  rendererDir: string;
  /** defaults to 32 random bytes */
  token?: string;
  /** between SSE keep-alive comments */
  keepAliveMs?: number;
}

export interface AdminServer {
  readonly port: number;
  /** http://127.0.0.1:PORT/ */
  readonly url: string;
  /** opens the admin in a browser: sets the token cookie, then redirects to the page */
  readonly loginUrl: string;
  readonly token: string;
  close(): Promise<void>;
}

/** Only loopback: the admin is for whoever sits at this machine. */
const ADMIN_HOST = '127.0.0.1';
export const DEFAULT_ADMIN_PORT = 8001;
export const ADMIN_COOKIE = 'ollama_gate_admin';

/** The page's policy: the same as the desktop window's. */
export const ADMIN_CSP = CONTENT_SECURITY_POLICY;

/** The largest method call body; the biggest real one (a settings patch) is a few kilobytes. */
const MAX_BODY_BYTES = 1024 * 1024;
/** An events client this far behind is cut off; it reconnects and catches up from logs.recent. */
const MAX_SSE_BACKLOG_BYTES = 8 * 1024 * 1024;

const SECURITY_HEADERS = {
  'content-security-policy': ADMIN_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
} as const;

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const tokenDigest = digest(token);
  const rendererDir = resolve(options.rendererDir);
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const streams = new Set<ServerResponse>();
  let port = 0;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const refusal = refuseForeign(req, port);
    if (refusal) return text(res, 403, refusal);
    const url = new URL(req.url ?? '/', `http://${ADMIN_HOST}`);

    const offered = url.searchParams.get('token');
    if (offered !== null) return login(req, res, url, offered);
    // The 401 page's stylesheet: nothing secret, so it needs no token.
    if (url.pathname === UNAUTHORIZED_CSS_PATH) return sendText(res, 200, 'text/css; charset=utf-8', UNAUTHORIZED_CSS);
    if (!authorized(req)) {
      if (url.pathname.startsWith('/gate/'))
        return json(res, 401, failure('forbidden', 'the admin token is missing or wrong: open the URL that `ollama-gate serve` printed'));
      return unauthorized(req, res, 'missing', 'Ollama Gate admin: open the URL with the token that `ollama-gate serve` printed.');
    }
    if (url.pathname === '/gate/events') return events(req, res);
    if (url.pathname.startsWith('/gate/')) return void call(req, res, url.pathname.slice('/gate/'.length));
    void serveFile(req, res, url.pathname);
  };

  const authorized = (req: IncomingMessage): boolean => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const presented = bearer ?? cookie(req.headers.cookie, ADMIN_COOKIE);
    return presented !== undefined && timingSafeEqual(digest(presented), tokenDigest);
  };

  /** `?token=` sets the cookie and sends the browser on without the token in its address bar and history. */
  const login = (req: IncomingMessage, res: ServerResponse, url: URL, offered: string): void => {
    if (!timingSafeEqual(digest(offered), tokenDigest))
      return unauthorized(req, res, 'wrong', 'Ollama Gate admin: that token is wrong: open the link `ollama-gate serve` printed when it started.');
    url.searchParams.delete('token');
    res.writeHead(303, {
      'set-cookie': `${ADMIN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`,
      location: `${url.pathname}${url.search}${url.hash}`,
      'cache-control': 'no-store',
    });
    res.end();
  };

  /** A browser opening a page gets a page that says how to get in; anything else, one line of text. */
  const unauthorized = (req: IncomingMessage, res: ServerResponse, reason: UnauthorizedReason, plain: string): void => {
    if (!wantsHtml(req.headers.accept)) return text(res, 401, plain);
    sendText(res, 401, 'text/html; charset=utf-8', unauthorizedPage(reason, pageLanguage(req.headers['accept-language']), port));
  };

  const call = async (req: IncomingMessage, res: ServerResponse, method: string): Promise<void> => {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return json(res, 405, failure('invalid_input', 'call a method with POST'));
    }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      // Also keeps plain HTML forms, which cannot send JSON, from calling anything.
      return json(res, 415, failure('invalid_input', 'send the request as application/json'));
    }
    let input: unknown;
    try {
      const body = await readBody(req);
      input = body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
    } catch (error) {
      const tooLarge = error instanceof BodyTooLarge;
      return json(res, tooLarge ? 413 : 400, failure('invalid_input', tooLarge ? 'the request is too large' : 'the request body is not valid JSON'));
    }
    const result = await options.service.call(decodeMethod(method), input);
    json(res, !result.ok && result.error.code === 'unknown_method' ? 404 : 200, result);
  };

  const events = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      return text(res, 405, 'events are read with GET');
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n: connected\n\n');
    streams.add(res);
    const send = (chunk: string) => {
      res.write(chunk);
      if (res.writableLength > MAX_SSE_BACKLOG_BYTES) res.destroy();
    };
    const unsubscribe = GATE_EVENTS.map((event) =>
      options.service.on(event, (payload: GateEvents[typeof event]) => send(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`)),
    );
    const keepAlive = setInterval(() => send(': keep-alive\n\n'), keepAliveMs);
    res.once('close', () => {
      clearInterval(keepAlive);
      for (const stop of unsubscribe) stop();
      streams.delete(res);
    });
  };

  const serveFile = async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return text(res, 405, 'method not allowed');
    }
    const file = rendererFile(rendererDir, pathname);
    const found = file && (await stat(file).catch(() => null));
    if (!found || !found.isFile()) {
      if (pathname === '/' || pathname === '/index.html')
        return text(res, 503, 'The web admin is not built: run `npm run build` (vite build writes dist/renderer).');
      return text(res, 404, 'not found');
    }
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': contentTypeOf(file),
      'content-length': body.length,
      // Vite names assets by content hash; index.html must always be fresh.
      'cache-control': file.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server: Server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, handler);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `admin port ${options.port} is already in use (choose another with --admin-port, or --no-admin)`
            : `the admin could not listen on ${ADMIN_HOST}:${options.port}: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    server.listen(options.port, ADMIN_HOST, () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://${ADMIN_HOST}:${port}/`;

  return {
    port,
    url,
    loginUrl: `${url}?token=${token}`,
    token,
    async close() {
      for (const stream of streams) stream.end();
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/**
 * Why a request is refused before anything else, or null. The Host must name this listener, or a
 * page on some other name that resolves to 127.0.0.1 (DNS rebinding) could talk to it; and a
 * browser request must come from the admin's own page, never another site or local port.
 */
export function refuseForeign(req: Pick<IncomingMessage, 'headers'>, port: number): string | null {
  const host = (req.headers.host ?? '').toLowerCase();
  const allowed = [`${ADMIN_HOST}:${port}`, `localhost:${port}`, ...(port === 80 ? [ADMIN_HOST, 'localhost'] : [])];
  if (!allowed.includes(host)) return 'this admin answers only at its loopback address';
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) return 'cross-origin requests are refused';
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return 'cross-site requests are refused';
  return null;
}

/** The file a URL path names inside the renderer folder, or null for anything outside it. */
export function rendererFile(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const base = resolve(root);
  const file = resolve(base, `.${decoded === '/' ? '/index.html' : decoded}`);
  return file.startsWith(base + sep) ? file : null;
}

function decodeMethod(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function failure(code: 'invalid_input' | 'forbidden', message: string): GateResult<never> {
  return { ok: false, error: { code, message } };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

function text(res: ServerResponse, status: number, message: string): void {
  sendText(res, status, 'text/plain; charset=utf-8', message);
}

function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** Fixed-length digests, so comparing tokens takes the same time whatever was presented. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is read and dropped, so the 413 still reaches the client.
      if (size > MAX_BODY_BYTES) reject(new BodyTooLarge());
      else chunks.push(chunk);
    });
    req.once('end', () => resolveBody(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
