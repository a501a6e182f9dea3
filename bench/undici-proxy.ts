/**
 * The bench's floor for a Node proxy that forwards with undici, as the gate does: node:http in
 * front, an undici Pool per upstream behind (keep-alive, no pipelining, no header or body timeout:
 * Ollama sends no headers until a model has loaded), driven through `pool.dispatch` with a
 * controller-style handler, undici's lowest-cost API that streams both ways with backpressure.
 * The same key check as node-proxy.ts and the nginx config (X-API-Key or 401) and nothing else: no
 * key store, policy, log or usage. What the gate pays over this is the gate's own work; what this
 * pays over node-proxy.ts is undici against node:http's client. One process, one server per
 * upstream; announces its ports on stdout and over IPC, as node-proxy.ts does.
 *
 *   npx tsx bench/undici-proxy.ts KEY UPSTREAM_URL...
 */
import type http from 'node:http';
import { type Dispatcher, Pool } from 'undici';
import { serveBareProxies } from './bare-proxy.js';

/**
 * Not forwarded either way. Request side, undici throws on transfer-encoding, keep-alive, upgrade
 * and expect, sets host from the pool's origin and frames the body itself (content-length when the
 * client gave one, chunked when not); `connection` would set its reset flag.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'host', 'x-api-key', 'expect']);

/** One forwarded request: undici's events written to the client's response, with backpressure both ways. */
class Forward implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private clientGone = false;

  constructor(private readonly res: http.ServerResponse) {
    res.on('drain', () => this.controller?.resume());
    res.on('close', () => {
      if (res.writableFinished) return;
      this.clientGone = true;
      this.controller?.abort(new Error('client closed the connection'));
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // The client left while the request waited for a connection.
    if (this.clientGone) controller.abort(new Error('client closed the connection'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number): void {
    const raw = controller.rawHeaders as Buffer[];
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toString('latin1');
      if (!HOP_BY_HOP.has(name.toLowerCase())) out.push(name, raw[i + 1]!.toString('latin1'));
    }
    this.res.writeHead(statusCode, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, _error: Error): void {
    const res = this.res;
    if (res.destroyed) return;
    if (res.headersSent) res.destroy();
    else res.writeHead(502).end();
  }
}

function proxyTo(upstream: URL, key: string): http.RequestListener {
  const pool = new Pool(upstream.origin, { pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
  return (req, res) => {
    if (req.headers['x-api-key'] !== key) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid API key"}');
      req.resume();
      return;
    }
    const length = req.headers['content-length'];
    const hasBody = length === undefined ? req.headers['transfer-encoding'] !== undefined : length !== '0';
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) || (!hasBody && lower === 'content-length')) continue;
      headers.push(name, req.rawHeaders[i + 1]!);
    }
    pool.dispatch({ method: req.method ?? 'GET', path: req.url ?? '/', headers, body: hasBody ? req : null }, new Forward(res));
  };
}

await serveBareProxies('undici-proxy.ts', proxyTo);
