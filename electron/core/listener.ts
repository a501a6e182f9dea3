import { type RequestListener, type Server, createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

export class ListenError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    options: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Options shared by both listeners: no default may cut a slow model or a long upload. */
const SERVER_OPTIONS = {
  // A blob upload or a slow model may take far longer than Node's 5-minute request default.
  requestTimeout: 0,
  keepAliveTimeout: 65_000,
  noDelay: true,
};

/** Starts an HTTP listener, or an HTTPS one when given a certificate; rejects with a readable ListenError. */
export function openListener(handler: RequestListener, host: string, port: number, tls?: { cert: string; key: string }): Promise<Server> {
  // An https.Server serves the same handler; typed as http.Server for the parts both share.
  const server = tls ? (createHttpsServer({ ...SERVER_OPTIONS, cert: tls.cert, key: tls.key }, handler) as unknown as Server) : createServer(SERVER_OPTIONS, handler);
  server.on('clientError', (error, socket) => {
    if (socket.writable && !socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy(error);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new ListenError(listenErrorMessage(error, host, port), error.code, { cause: error })));
    server.listen(port, host, () => resolve(server));
  });
}

/** Stops accepting; `force` also cuts open requests, otherwise they finish and idle connections close. */
export function closeListener(server: Server, force: boolean): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    if (force) server.closeAllConnections();
    else server.closeIdleConnections();
  });
}

function listenErrorMessage(error: unknown, host: string, port: number): string {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') return `port ${port} is already in use on ${host}: stop the other program or choose another port`;
  if (code === 'EACCES') return `not allowed to listen on ${host}:${port}: choose a port above 1023`;
  if (code === 'EADDRNOTAVAIL') return `${host} is not an address of this machine`;
  return `could not listen on ${host}:${port}: ${error instanceof Error ? error.message : String(error)}`;
}
