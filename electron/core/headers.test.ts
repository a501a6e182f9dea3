import { describe, expect, it } from 'vitest';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers.js';

describe('downstreamResponseHeaders', () => {
  it("passes Ollama's own headers on, lower-cased, after the gate's", () => {
    const raw = { 'content-type': 'application/x-ndjson', date: 'Fri, 27 Nov 2026 10:00:00 GMT', 'set-cookie': ['a=1', 'b=2'] };
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
    // as undici hands them over: names lower-cased
    const raw = {
      'transfer-encoding': 'chunked',
      connection: 'keep-alive, X-Hop',
      'x-hop': 'secret',
      'keep-alive': 'timeout=5',
      'access-control-allow-origin': '*',
      vary: 'Origin',
      'x-request-id': 'ollama-own',
      'content-length': '12',
      'x-kept': 'yes',
    };
    expect(downstreamResponseHeaders(raw, [])).toEqual(['content-length', '12', 'x-kept', 'yes']);
  });
});

describe('upstreamRequestHeaders', () => {
  it('drops key, host, origin, cookie, framing and hop-by-hop headers: the gate frames the body itself', () => {
    const headers = upstreamRequestHeaders({
      host: 'gate:8000',
      'x-api-key': 'og_secret',
      authorization: 'Bearer og_secret',
      origin: 'http://evil',
      cookie: 'admin=1',
      connection: 'keep-alive',
      'content-length': '40',
      'transfer-encoding': 'chunked',
      'content-type': 'application/json',
      'x-tag': ['a', 'b'],
    });
    expect(headers).toEqual(['content-type', 'application/json', 'x-tag', 'a', 'x-tag', 'b']);
  });

  it('drops what Connection names, and never lets Connection bring back a framing or host header', () => {
    const headers = upstreamRequestHeaders({
      connection: 'keep-alive, content-length, X-Hop, host',
      'content-length': '5',
      'x-hop': '1',
      'x-kept': '2',
      host: 'gate',
    });
    expect(headers).toEqual(['x-kept', '2']);
  });
});
