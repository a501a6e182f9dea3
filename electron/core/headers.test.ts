import { describe, expect, it } from 'vitest';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers.js';

describe('downstreamResponseHeaders', () => {
  it("passes Ollama's own headers on, lower-cased, after the gate's", () => {
    const raw = ['Content-Type', 'application/x-ndjson', 'Date', 'Fri, 27 Nov 2026 10:00:00 GMT', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'];
    expect(downstreamResponseHeaders(raw, ['X-Request-Id', 'r1'])).toEqual([
      'X-Request-Id',
      'r1',
      'content-type',
      'application/x-ndjson',
      'date',
      'Fri, 27 Nov 2026 10:00:00 GMT',
      'set-cookie',
      'a=1',
      'set-cookie',
      'b=2',
    ]);
  });

  it('drops framing, hop-by-hop, CORS, Vary and request-id headers, and any the Connection header names', () => {
    const raw = [
      'Transfer-Encoding', 'chunked',
      'Connection', 'keep-alive, X-Hop',
      'X-Hop', 'secret',
      'Keep-Alive', 'timeout=5',
      'Access-Control-Allow-Origin', '*',
      'Vary', 'Origin',
      'X-Request-Id', 'ollama-own',
      'Content-Length', '12',
      'X-Kept', 'yes',
    ];
    expect(downstreamResponseHeaders(raw)).toEqual(['content-length', '12', 'x-kept', 'yes']);
    expect(downstreamResponseHeaders(raw, [], false)).toEqual(['x-kept', 'yes']);
  });
});

describe('upstreamRequestHeaders', () => {
  it('drops key, host, origin, cookie and hop-by-hop headers and sets the length of a rewritten body', () => {
    const headers = upstreamRequestHeaders(
      { host: 'gate:8000', 'x-api-key': 'og_secret', authorization: 'Bearer og_secret', origin: 'http://evil', cookie: 'admin=1', connection: 'keep-alive', 'content-length': '40', 'content-type': 'application/json', 'x-tag': ['a', 'b'] },
      31,
    );
    expect(headers).toEqual(['content-type', 'application/json', 'x-tag', 'a', 'x-tag', 'b', 'content-length', '31']);
  });
});
