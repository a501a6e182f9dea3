import { type IncomingHttpHeaders, request } from 'node:http';

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** ends a response that streams on (an event stream) after this long, with what arrived by then */
  cutAfterMs?: number;
  /** a loopback address of this machine to send from (127.0.0.2…), to act as another client */
  localAddress?: string;
}

/**
 * A request through node:http rather than fetch, so a test controls every header (Host, Origin,
 * Cookie) and sees every byte: the path after the URL's origin goes out exactly as written (no
 * `..` folding), and every response header comes back.
 */
export function rawRequest(url: string, options: RawRequestOptions = {}): Promise<RawAnswer> {
  const { hostname, port, origin } = new URL(url);
  const path = url.slice(origin.length) || '/';
  // Node frames a DELETE body only with an explicit length.
  const length = options.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(options.body)) };
  return new Promise((resolve, reject) => {
    const req = request(
      { hostname, port, path, method: options.method ?? 'GET', headers: { ...length, ...options.headers }, localAddress: options.localAddress },
      (res) => {
        const chunks: Buffer[] = [];
        const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', done);
        res.on('error', reject);
        if (options.cutAfterMs !== undefined) {
          setTimeout(() => {
            req.destroy();
            done();
          }, options.cutAfterMs).unref();
        }
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
