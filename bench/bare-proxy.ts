import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Runs a bare proxy (node-proxy.ts, undici-proxy.ts): one server per upstream on a free loopback
 * port, their ports announced on stdout and over IPC for bench/stack.ts; exits with its parent.
 */
export async function serveBareProxies(name: string, proxyTo: (upstream: URL, key: string) => http.RequestListener): Promise<void> {
  const [key, ...upstreams] = process.argv.slice(2);
  if (!key || upstreams.length === 0) throw new Error(`usage: ${name} KEY UPSTREAM_URL...`);
  const ports = await Promise.all(
    upstreams.map(
      (url) =>
        new Promise<number>((resolve) => {
          const server = http.createServer(proxyTo(new URL(url), key));
          server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
        }),
    ),
  );
  process.stdout.write(`${JSON.stringify(ports)}\n`);
  if (process.send) {
    process.send(ports);
    process.on('disconnect', () => process.exit(0));
  }
  process.once('SIGTERM', () => process.exit(0));
}
