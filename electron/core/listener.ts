import { type RequestListener, type Server, createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { GateReason } from '../shared/contract.js';
import { type Explained, explain } from './errors.js';

/** Why a listener could not start, in words and as a reason the window translates. */
export class ListenError extends Error {
  readonly reason: GateReason;
  constructor(
    explained: Explained,
    readonly code: string | undefined,
    options: ErrorOptions,
  ) {
    super(explained.text, options);
    this.reason = explained.reason;
  }
}

/** What a client may cost before the gate gives up on it: these guard against slow, idle or oversized clients. */
export interface ClientLimits {
  /** all request headers together (Node's default is 16 KiB) */
  maxHeaderBytes: number;
  /** how long a client may take to send its headers, also on a new connection that sends nothing (slowloris) */
  headersTimeoutMs: number;
  /** how long a kept-alive connection may sit idle between requests */
  idleTimeoutMs: number;
  /** connections at once; more are closed as they arrive */
  maxConnections: number;
}

/** Starts an HTTP listener, or an HTTPS one when given a certificate; rejects with a readable ListenError. */
export function openListener(handler: RequestListener, host: string, port: number, limits: ClientLimits, tls?: { cert: string; key: string }): Promise<Server> {
  const options = {
    // A blob upload or a slow model may take far longer than Node's 5-minute request default.
    requestTimeout: 0,
    // How often Node looks for clients past headersTimeout; its 30 s default would let them linger.
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 2))),
    noDelay: true,
  };
  // An https.Server serves the same handler; typed as http.Server for the parts both share.
  const server = tls ? (createHttpsServer({ ...options, cert: tls.cert, key: tls.key }, handler) as unknown as Server) : createServer(options, handler);
  applyClientLimits(server, limits);
  server.on('clientError', answerClientError);
  // "Expect: 100-continue" reaches the handler, which says "continue" only when it wants the body.
  server.on('checkContinue', handler);
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new ListenError(whyNotListening(error, host, port), error.code, { cause: error })));
    server.listen(port, host, () => resolve(server));
  });
}

/** The limits, on a listener already running too: Node reads them for each new connection and request. */
export function applyClientLimits(server: Server, limits: ClientLimits): void {
  server.keepAliveTimeout = limits.idleTimeoutMs;
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  // Read by Node from the server for every new connection's parser; not in its typings.
  (server as Server & { maxHeaderSize: number }).maxHeaderSize = limits.maxHeaderBytes;
}

/** Requests too broken for the handler: the status that fits, a JSON reason, and the connection closed. */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request headers took too long to arrive'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large', 'chunk extensions are too large'],
};

function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || socket.destroyed || (error.code === 'ECONNRESET' && !socket.writable)) {
    socket.destroy();
    return;
  }
  const [status, reason, message] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'Bad Request', 'malformed HTTP request'];
  const body = JSON.stringify({ error: message });
  // Closed once the answer is out: an HTTP server keeps a half-closed socket open until the client
  // closes its side, and a client that never does would hold it for good.
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/** Stops accepting; `force` also cuts open requests, otherwise they finish and idle connections close. */
export function closeListener(server: Server, force: boolean): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    if (force) server.closeAllConnections();
    else server.closeIdleConnections();
  });
}

function whyNotListening(error: unknown, host: string, port: number): Explained {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') return explain('port_in_use', { port, host });
  if (code === 'EACCES') return explain('port_not_allowed', { host, port });
  if (code === 'EADDRNOTAVAIL') return explain('address_not_available', { host });
  return explain('listen_failed', { host, port, detail: error instanceof Error ? error.message : String(error) });
}
