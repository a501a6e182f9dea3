/**
 * The bench's floor for a Node proxy: node:http in front, a keep-alive node:http agent behind, the
 * same key check as the nginx config (X-API-Key or 401) and nothing else: no key store, policy,
 * log or usage. What the gate pays over this is the gate's own work; what this pays over nginx is
 * Node's HTTP stack. One process, one server per upstream; announces its ports over IPC.
 *
 *   npx tsx bench/node-proxy.ts KEY UPSTREAM_URL...
 */
import http from 'node:http';
import { serveBareProxies } from './bare-proxy.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'host', 'x-api-key']);

function proxyTo(upstream: URL, key: string): http.RequestListener {
  const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  return (req, res) => {
    if (req.headers['x-api-key'] !== key) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid API key"}');
      req.resume();
      return;
    }
    const headers: string[] = ['host', upstream.host];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has(req.rawHeaders[i]!.toLowerCase())) headers.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    }
    const forward = http.request({ hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (answer) => {
      const out: string[] = [];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) {
        if (!HOP_BY_HOP.has(answer.rawHeaders[i]!.toLowerCase())) out.push(answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!);
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.on('data', (chunk: Buffer) => {
        if (!res.write(chunk)) answer.pause();
      });
      res.on('drain', () => answer.resume());
      answer.on('end', () => res.end());
      answer.on('error', () => res.destroy());
    });
    forward.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    res.on('close', () => {
      if (!res.writableFinished) forward.destroy();
    });
    req.pipe(forward);
  };
}

await serveBareProxies('node-proxy.ts', proxyTo);
