/**
 * Tests of the recording upstream over real sockets (raw node:net clients, so every byte on the
 * wire is the test's choice), plus unit tests of its Go-style JSON reader.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { goField, goFoldName, parseGoJson, startRecordingUpstream } from './recording-upstream.js';
import type { RecordingUpstream } from './recording-upstream.js';

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client: writes bytes, splits the answers itself
// ---------------------------------------------------------------------------------------------

interface RawResponse {
  status: number;
  statusLine: string;
  headers: Array<[string, string]>;
  body: Buffer;
  text: string;
}

interface Exchange {
  responses: RawResponse[];
  /** The server closed (or half-closed) the connection. */
  closed: boolean;
  raw: Buffer;
}

interface ExchangeOptions {
  /** Final (non-1xx) answers to wait for. Default 1. */
  responses?: number;
  /** Pause between writes, ms (each write then leaves in its own segment). */
  gapMs?: number;
  /** Indexes (among final answers) of answers to HEAD requests: they have no body. */
  heads?: number[];
  /** Wait this long after the last expected answer, to see whether the server closes. */
  settleMs?: number;
  /** Half-close after writing. */
  halfClose?: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function header(r: RawResponse | undefined, name: string): string | undefined {
  return r?.headers.find(([k]) => k === name.toLowerCase())?.[1];
}

/** Splits a byte stream of answers; an answer without length or chunking ends with the connection. */
function parseResponses(buf: Buffer, closed: boolean, heads: Set<number>): RawResponse[] {
  const out: RawResponse[] = [];
  let pos = 0;
  let finalIndex = 0;
  while (pos < buf.length) {
    const end = buf.indexOf('\r\n\r\n', pos);
    if (end < 0) break;
    const lines = buf.subarray(pos, end).toString('latin1').split('\r\n');
    const statusLine = lines[0] ?? '';
    const status = Number(statusLine.split(' ')[1]);
    const headers = lines.slice(1).map((l): [string, string] => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
    const get = (n: string): string | undefined => headers.find(([k]) => k === n)?.[1];
    const interim = status >= 100 && status < 200;
    let p = end + 4;
    let body: Buffer = Buffer.alloc(0);
    if (interim || status === 204 || status === 304 || heads.has(finalIndex)) {
      // no body
    } else if (get('transfer-encoding') === 'chunked') {
      const parts: Buffer[] = [];
      let complete = false;
      for (;;) {
        const nl = buf.indexOf('\r\n', p);
        if (nl < 0) break;
        const size = parseInt(buf.subarray(p, nl).toString('latin1'), 16);
        if (size === 0) {
          if (buf.length < nl + 4) break;
          p = nl + 4;
          complete = true;
          break;
        }
        if (buf.length < nl + 2 + size + 2) break;
        parts.push(buf.subarray(nl + 2, nl + 2 + size));
        p = nl + 2 + size + 2;
      }
      if (!complete) break;
      body = Buffer.concat(parts);
    } else if (get('content-length') !== undefined) {
      const n = Number(get('content-length'));
      if (buf.length < p + n) break;
      body = buf.subarray(p, p + n);
      p += n;
    } else {
      if (!closed) break;
      body = buf.subarray(p);
      p = buf.length;
    }
    out.push({ status, statusLine, headers, body, text: body.toString('utf8') });
    if (!interim) finalIndex++;
    pos = p;
  }
  return out;
}

async function exchange(url: string, writes: Array<string | Buffer>, opts: ExchangeOptions = {}): Promise<Exchange> {
  const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  let data: Buffer = Buffer.alloc(0);
  let closed = false;
  socket.on('data', (d: Buffer) => {
    data = Buffer.concat([data, d]);
  });
  socket.on('end', () => {
    closed = true;
  });
  socket.on('close', () => {
    closed = true;
  });
  for (const w of writes) {
    if (socket.destroyed) break;
    socket.write(w);
    if (opts.gapMs !== undefined) await sleep(opts.gapMs);
  }
  if (opts.halfClose) socket.end();
  const heads = new Set(opts.heads ?? []);
  const want = opts.responses ?? 1;
  const deadline = Date.now() + 4000;
  while (Date.now() < deadline && !closed) {
    if (parseResponses(data, closed, heads).filter((r) => r.status >= 200).length >= want) break;
    await sleep(5);
  }
  await sleep(opts.settleMs ?? 100);
  const responses = parseResponses(data, closed, heads);
  socket.destroy();
  return { responses, closed, raw: data };
}

const GET = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: up\r\n${extra}\r\n`;

let up: RecordingUpstream;

beforeEach(async () => {
  up = await startRecordingUpstream();
});

afterEach(async () => {
  await up.close();
});

// ---------------------------------------------------------------------------------------------
// Pipelining and framing
// ---------------------------------------------------------------------------------------------

describe('pipelining', () => {
  it('two GETs in one write are two requests, answered in order on the same connection', async () => {
    const first = GET('/api/tags', 'X-Probe: a\r\n');
    const second = GET('/api/version', 'X-Probe: b\r\n');
    const r = await exchange(up.url, [first + second], { responses: 2 });

    expect(up.connections).toBe(1);
    expect(up.requests.map((q) => [q.seq, q.connection, q.indexOnConnection, q.method, q.path])).toEqual([
      [0, 1, 0, 'GET', '/api/tags'],
      [1, 1, 1, 'GET', '/api/version'],
    ]);
    expect(up.requests[0]?.raw.toString('latin1')).toBe(first);
    expect(up.requests[1]?.raw.toString('latin1')).toBe(second);
    expect(r.responses.map((x) => JSON.parse(x.text))).toEqual([
      { seq: 0, probe: 'a', method: 'GET', path: '/api/tags', model: null },
      { seq: 1, probe: 'b', method: 'GET', path: '/api/version', model: null },
    ]);
    expect(r.closed).toBe(false); // keep-alive
    expect(up.errors).toEqual([]);
  });

  it('a GET with Content-Length: 5 carries a 5-byte body; the next request starts after it', async () => {
    const r = await exchange(up.url, [`GET /api/tags HTTP/1.1\r\nHost: up\r\nContent-Length: 5\r\n\r\nhello${GET('/api/ps')}`], { responses: 2 });

    expect(up.requests).toHaveLength(2);
    expect(up.requests[0]).toMatchObject({ method: 'GET', path: '/api/tags', framing: 'content-length' });
    expect(up.requests[0]?.body.toString()).toBe('hello');
    expect(up.requests[1]).toMatchObject({ method: 'GET', path: '/api/ps', framing: 'none' });
    expect(r.responses).toHaveLength(2);
  });

  it('without Content-Length or Transfer-Encoding the body is empty, whatever the method: what follows is the next request', async () => {
    const smuggled = '{"model":"victim"}';
    const inner = `DELETE /api/delete HTTP/1.1\r\nHost: up\r\nContent-Length: ${Buffer.byteLength(smuggled)}\r\n\r\n${smuggled}`;
    const r = await exchange(up.url, [`GET /api/tags HTTP/1.1\r\nHost: up\r\n\r\n${inner}`], { responses: 2 });

    expect(up.requests.map((q) => [q.method, q.path, q.framing, q.body.length])).toEqual([
      ['GET', '/api/tags', 'none', 0],
      ['DELETE', '/api/delete', 'content-length', smuggled.length],
    ]);
    expect(goField(up.requests[1]!.json, 'model')).toBe('victim');
    expect(JSON.parse(r.responses[1]?.text ?? '{}')).toMatchObject({ seq: 1, method: 'DELETE', model: 'victim' });
  });

  it('a POST without framing headers has an empty body too; its JSON is then read as a request line (400)', async () => {
    const r = await exchange(up.url, [`POST /api/generate HTTP/1.1\r\nHost: up\r\n\r\n{"model":"a"}\r\n\r\n`], { responses: 2 });

    expect(up.requests).toHaveLength(1);
    expect(up.requests[0]?.body.length).toBe(0);
    expect(up.requests[0]?.json).toMatchObject({ ok: false, error: 'EOF' });
    expect(r.responses.map((x) => x.status)).toEqual([200, 400]);
    expect(up.errors).toMatchObject([{ status: 400, stage: 'head', bytes: Buffer.from('{"model":"a"}\r\n\r\n') }]);
    expect(r.closed).toBe(true);
  });

  it('after a POST, up to 4 stray CR/LF bytes are skipped (Go tolerance); after a GET they are a bad request line', async () => {
    const post = `POST /api/show HTTP/1.1\r\nHost: up\r\nContent-Length: 2\r\n\r\n{}`;
    const ok = await exchange(up.url, [`${post}\r\n${GET('/after-post')}`], { responses: 2 });
    expect(ok.responses.map((x) => x.status)).toEqual([200, 200]);
    expect(up.requests.map((q) => q.path)).toEqual(['/api/show', '/after-post']);

    up.reset();
    const bad = await exchange(up.url, [`${GET('/a')}\r\n${GET('/after-get')}`], { responses: 2 });
    expect(bad.responses.map((x) => x.status)).toEqual([200, 400]);
    expect(up.requests.map((q) => q.path)).toEqual(['/a']);
  });
});

describe('chunked bodies', () => {
  const chunked =
    'POST /api/chat HTTP/1.1\r\nHost: up\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\nX-Probe: c\r\n\r\n' +
    '5;name=value\r\n{"mod\r\n' +
    '8;q="x y";flag\r\nel":"m1"\r\n' +
    '1\r\n}\r\n' +
    '0;last\r\nX-T: done\r\n\r\n';

  function checkChunked(): void {
    expect(up.requests).toHaveLength(2);
    const q = up.requests[0]!;
    expect(q.framing).toBe('chunked');
    expect(q.body.toString()).toBe('{"model":"m1"}');
    expect(q.trailers).toEqual([['X-T', 'done']]);
    expect(q.raw.toString('latin1')).toBe(chunked);
    expect(goField(q.json, 'model')).toBe('m1');
    expect(up.requests[1]).toMatchObject({ method: 'GET', path: '/next', indexOnConnection: 1 });
    expect(up.errors).toEqual([]);
  }

  it('de-chunks a body with chunk extensions and a trailer, and finds the next request after it', async () => {
    const r = await exchange(up.url, [chunked + GET('/next')], { responses: 2 });
    checkChunked();
    expect(JSON.parse(r.responses[0]?.text ?? '{}')).toMatchObject({ seq: 0, probe: 'c', model: 'm1' });
  });

  it('gives the same result when every byte arrives in its own write', async () => {
    const bytes = [...Buffer.from(chunked + GET('/next'))].map((b) => Buffer.from([b]));
    const r = await exchange(up.url, bytes, { responses: 2, gapMs: 1 });
    checkChunked();
    expect(r.responses).toHaveLength(2);
  });

  it('rejects what Go rejects inside a chunked body: the request was handed over, the connection closes', async () => {
    const cases: Array<[string, string]> = [
      ['5\n{"a":\r\n0\r\n\r\n', 'chunked line ends with bare LF'],
      ['5 ;x\r\n{"a":\r\n0\r\n\r\n', 'invalid byte in chunk length'], // no whitespace before ';'
      ['5\r\n{"a":1}\r\n0\r\n\r\n', 'malformed chunked encoding'], // 7 bytes in a 5-byte chunk
      ['10000000000000000\r\n', 'http chunk length too large'],
    ];
    for (const [body, message] of cases) {
      up.reset();
      const r = await exchange(up.url, [`POST /api/chat HTTP/1.1\r\nHost: up\r\nTransfer-Encoding: chunked\r\n\r\n${body}${GET('/never')}`], { responses: 1 });
      expect(
        up.requests.map((q) => [q.path, q.bodyError]),
        message,
      ).toEqual([['/api/chat', message]]);
      expect(up.errors, message).toMatchObject([{ stage: 'body', status: null, message }]);
      expect(r.closed, message).toBe(true);
      expect(header(r.responses[0], 'connection'), message).toBe('close');
    }
  });

  it('a JSON value complete before the chunking breaks is still what the handler decodes', async () => {
    await exchange(up.url, [`POST /api/chat HTTP/1.1\r\nHost: up\r\nTransfer-Encoding: chunked\r\n\r\nd\r\n{"model":"a"}\r\nzz\r\n`]);
    expect(up.requests[0]?.bodyError).toBe('invalid byte in chunk length');
    expect(goField(up.requests[0]!.json, 'model')).toBe('a');
  });
});

describe("framing errors get Go's answer", () => {
  it('Transfer-Encoding other than exactly "chunked" → 501, connection closed, nothing after it parsed', async () => {
    const values = ['xchunked', 'chunked, identity', 'identity', 'chunked;q=1', ''];
    for (const te of values) {
      up.reset();
      const r = await exchange(up.url, [`POST /api/chat HTTP/1.1\r\nHost: up\r\nTransfer-Encoding: ${te}\r\n\r\n0\r\n\r\n${GET('/never')}`]);
      expect(
        r.responses.map((x) => [x.statusLine, x.text]),
        te,
      ).toEqual([['HTTP/1.1 501 Not Implemented', 'Unsupported transfer encoding']]);
      expect(r.closed, te).toBe(true);
      expect(up.requests, te).toEqual([]);
      expect(up.errors, te).toMatchObject([{ status: 501, stage: 'head', connection: 1 }]);
    }
  });

  it('two Transfer-Encoding fields → 501 even when both say chunked; "Chunked" in any case is fine', async () => {
    const r = await exchange(up.url, [`POST /x HTTP/1.1\r\nHost: up\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`]);
    expect(r.responses[0]?.status).toBe(501);

    up.reset();
    await exchange(up.url, [`POST /x HTTP/1.1\r\nHost: up\r\nTransfer-Encoding: CHUNKED \r\n\r\n2\r\nhi\r\n0\r\n\r\n`]);
    expect(up.requests[0]).toMatchObject({ framing: 'chunked' });
    expect(up.requests[0]?.body.toString()).toBe('hi');
  });

  it('Content-Length fields that differ → 400; equal duplicates are merged', async () => {
    const r = await exchange(up.url, [`POST /x HTTP/1.1\r\nHost: up\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!${GET('/never')}`]);
    expect(r.responses.map((x) => [x.statusLine, x.text])).toEqual([['HTTP/1.1 400 Bad Request', '400 Bad Request']]);
    expect(header(r.responses[0], 'connection')).toBe('close');
    expect(r.closed).toBe(true);
    expect(up.requests).toEqual([]);
    expect(up.errors).toMatchObject([{ status: 400 }]);

    up.reset();
    const same = await exchange(up.url, [`POST /x HTTP/1.1\r\nHost: up\r\nContent-Length: 5\r\ncontent-length:  5 \r\n\r\nhello${GET('/y')}`], {
      responses: 2,
    });
    expect(same.responses.map((x) => x.status)).toEqual([200, 200]);
    expect(up.requests.map((q) => [q.path, q.body.toString()])).toEqual([
      ['/x', 'hello'],
      ['/y', ''],
    ]);
  });

  it('an invalid Content-Length → 400', async () => {
    for (const cl of ['abc', '+5', '-1', '0x5', '5 5', '', '9223372036854775808']) {
      up.reset();
      const r = await exchange(up.url, [`POST /x HTTP/1.1\r\nHost: up\r\nContent-Length: ${cl}\r\n\r\n`]);
      expect(r.responses[0]?.status, cl).toBe(400);
      expect(r.closed, cl).toBe(true);
      expect(up.requests, cl).toEqual([]);
    }
  });

  it('Transfer-Encoding: chunked with a valid Content-Length: chunked wins (Go drops the length), the connection stays open', async () => {
    const body = '3\r\nabc\r\n0\r\n\r\n';
    const r = await exchange(up.url, [`POST /x HTTP/1.1\r\nHost: up\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n${body}${GET('/y')}`], {
      responses: 2,
    });
    expect(r.responses.map((x) => x.status)).toEqual([200, 200]);
    expect(r.closed).toBe(false);
    expect(up.requests.map((q) => [q.path, q.framing, q.body.toString()])).toEqual([
      ['/x', 'chunked', 'abc'],
      ['/y', 'none', ''],
    ]);
    expect(up.errors).toEqual([]);
  });

  it('…but with an invalid Content-Length next to it → 400 (Go 1.22+ checks the length first)', async () => {
    const r = await exchange(up.url, [`POST /x HTTP/1.1\r\nHost: up\r\nTransfer-Encoding: chunked\r\nContent-Length: abc\r\n\r\n0\r\n\r\n`]);
    expect(r.responses[0]?.status).toBe(400);
    expect(up.requests).toEqual([]);
  });

  it('HTTP/1.0 ignores Transfer-Encoding entirely: no 501, the Content-Length frames the body', async () => {
    const r = await exchange(up.url, [`POST /x HTTP/1.0\r\nTransfer-Encoding: xchunked\r\nContent-Length: 2\r\n\r\nhi`]);
    expect(r.responses[0]?.statusLine).toBe('HTTP/1.0 200 OK');
    expect(up.requests.map((q) => [q.framing, q.body.toString()])).toEqual([['content-length', 'hi']]);
    expect(r.closed).toBe(true); // HTTP/1.0 without keep-alive
  });

  it('header syntax as textproto reads it: obs-fold is joined (even for Transfer-Encoding), bare LF ends lines', async () => {
    await exchange(up.url, [`POST /x HTTP/1.1\r\nHost: up\r\nTransfer-Encoding:\r\n chunked\r\nX-Long: a\r\n\t b\r\n\r\n2\r\nhi\r\n0\r\n\r\n`]);
    expect(up.requests[0]).toMatchObject({ framing: 'chunked' });
    expect(up.requests[0]?.headers).toEqual([
      ['Host', 'up'],
      ['Transfer-Encoding', 'chunked'],
      ['X-Long', 'a b'],
    ]);

    up.reset();
    await exchange(up.url, ['GET /lf HTTP/1.1\nHost: up\nX-Probe: lf\n\n']);
    expect(up.requests.map((q) => [q.path, q.headers])).toEqual([
      [
        '/lf',
        [
          ['Host', 'up'],
          ['X-Probe', 'lf'],
        ],
      ],
    ]);
  });

  it("whitespace before the colon, a folded first line, a missing Host → 400 with Go's text", async () => {
    const cases: Array<[string, string]> = [
      ['GET / HTTP/1.1\r\nHost: up\r\nContent-Length : 5\r\n\r\nhello', 'HTTP/1.1 400 Bad Request: invalid header name'],
      ['GET / HTTP/1.1\r\n Host: up\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
      ['GET / HTTP/1.1\r\nX: 1\r\n\r\n', 'HTTP/1.1 400 Bad Request: missing required Host header'],
      ['GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 'HTTP/1.1 400 Bad Request: malformed Host header'],
      ['GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
      ['GET /a%zz HTTP/1.1\r\nHost: up\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
      ['GET / HTTP/1.1 \r\nHost: up\r\n\r\n', 'HTTP/1.1 400 Bad Request'],
      ['GET / HTTP/3.0\r\nHost: up\r\n\r\n', 'HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version'],
    ];
    for (const [request, line] of cases) {
      up.reset();
      const r = await exchange(up.url, [request]);
      expect(r.responses[0]?.statusLine, request).toBe(line);
      expect(r.closed, request).toBe(true);
      expect(up.requests, request).toEqual([]);
      expect(up.errors, request).toHaveLength(1);
    }
  });

  it("the path is percent-decoded as Go's URL.Path (what gin routes on), the raw forms are kept", async () => {
    await exchange(up.url, ['GET /api/%74ags?x=%41 HTTP/1.1\r\nHost: up\r\n\r\n']);
    expect(up.requests[0]).toMatchObject({ target: '/api/%74ags?x=%41', path: '/api/tags', rawPath: '/api/%74ags', query: 'x=%41' });
  });
});

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

describe('answers', () => {
  it('echo the X-Probe header, the seq and the model Go would decode', async () => {
    const json = '{"model":"a","MODEL":"b"}';
    const r = await exchange(up.url, [`POST /api/generate HTTP/1.1\r\nHost: up\r\nX-Probe: p1\r\nContent-Length: ${json.length}\r\n\r\n${json}`]);
    expect(r.responses[0]?.status).toBe(200);
    expect(header(r.responses[0], 'content-type')).toBe('application/json');
    expect(JSON.parse(r.responses[0]?.text ?? '')).toEqual({ seq: 0, probe: 'p1', method: 'POST', path: '/api/generate', model: 'b' });
  });

  it('HEAD gets the headers (with the length of the body it would have) and no body', async () => {
    const r = await exchange(up.url, [`HEAD /api/tags HTTP/1.1\r\nHost: up\r\n\r\n${GET('/api/tags', 'X-Probe: after\r\n')}`], { responses: 2, heads: [0] });
    expect(r.responses).toHaveLength(2);
    expect(r.responses[0]?.body.length).toBe(0);
    expect(Number(header(r.responses[0], 'content-length'))).toBeGreaterThan(0);
    // The bytes right after the HEAD answer's blank line are the next status line.
    const text = r.raw.toString('latin1');
    expect(text.slice(text.indexOf('\r\n\r\n') + 4).startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(JSON.parse(r.responses[1]?.text ?? '')).toMatchObject({ seq: 1, probe: 'after' });
  });

  it('Connection: close closes after the answer, and a request pipelined behind it is never read', async () => {
    const r = await exchange(up.url, [GET('/one', 'Connection: close\r\n') + GET('/two')], { responses: 2 });
    expect(r.responses.map((x) => x.status)).toEqual([200]);
    expect(header(r.responses[0], 'connection')).toBe('close');
    expect(r.closed).toBe(true);
    expect(up.requests.map((q) => q.path)).toEqual(['/one']);
  });

  it('HTTP/1.0 closes unless it asks for keep-alive', async () => {
    const closed = await exchange(up.url, ['GET /a HTTP/1.0\r\n\r\n']);
    expect(closed.closed).toBe(true);
    const kept = await exchange(up.url, ['GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n']);
    expect(kept.closed).toBe(false);
    expect(header(kept.responses[0], 'connection')).toBe('keep-alive');
  });

  it('Expect: 100-continue gets "100 Continue" before the body; another Expect gets 417 and a close', async () => {
    const r = await exchange(up.url, ['POST /x HTTP/1.1\r\nHost: up\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n', 'hi'], { gapMs: 50 });
    expect(r.responses.map((x) => x.status)).toEqual([100, 200]);
    expect(up.requests[0]?.body.toString()).toBe('hi');

    up.reset();
    const bad = await exchange(up.url, ['POST /x HTTP/1.1\r\nHost: up\r\nExpect: something\r\nContent-Length: 2\r\n\r\nhi']);
    expect(bad.responses[0]?.statusLine).toBe('HTTP/1.1 417 Expectation Failed');
    expect(bad.closed).toBe(true);
    expect(up.requests).toEqual([]);
    expect(up.errors).toMatchObject([{ status: 417, stage: 'expect' }]);
  });

  it('respond() can override the answer, including an NDJSON stream sent chunked', async () => {
    await up.close();
    up = await startRecordingUpstream({
      respond: (req) =>
        req.path === '/stream' ? { stream: ['{"n":1}', '{"n":2}'], headers: { 'Content-Type': 'application/x-ndjson' } } : { status: 404, body: 'nope' },
      streamDelayMs: 1,
    });
    const r = await exchange(up.url, [GET('/stream') + GET('/other')], { responses: 2 });
    expect(header(r.responses[0], 'transfer-encoding')).toBe('chunked');
    expect(header(r.responses[0], 'content-type')).toBe('application/x-ndjson');
    expect(r.responses[0]?.text).toBe('{"n":1}\n{"n":2}\n');
    expect([r.responses[1]?.status, r.responses[1]?.text]).toEqual([404, 'nope']);
  });

  it('a half-closed client still gets every answer; reset() starts the numbering again', async () => {
    const r = await exchange(up.url, [GET('/a') + GET('/b')], { responses: 2, halfClose: true });
    expect(r.responses.map((x) => JSON.parse(x.text).path)).toEqual(['/a', '/b']);
    expect(r.closed).toBe(true);
    up.reset();
    expect([up.requests.length, up.errors.length, up.connections]).toEqual([0, 0, 0]);
    await exchange(up.url, [GET('/c')]);
    expect(up.requests.map((q) => [q.seq, q.connection])).toEqual([[0, 1]]);
  });
});

// ---------------------------------------------------------------------------------------------
// JSON as encoding/json's Decoder sees it
// ---------------------------------------------------------------------------------------------

describe('Go JSON decoding', () => {
  const decode = (s: string | Buffer): ReturnType<typeof parseGoJson> => parseGoJson(Buffer.isBuffer(s) ? s : Buffer.from(s));

  it('keys match case-insensitively and the last match wins', () => {
    const j = decode('{"model":"a","MODEL":"b","Model":"c","other":"d"}');
    expect(j.ok).toBe(true);
    expect(j.members.map(([k]) => k)).toEqual(['model', 'MODEL', 'Model', 'other']);
    expect(goField(j, 'model')).toBe('c');
    expect(goField(decode('{"Model":"c","model":"a"}'), 'model')).toBe('a');
  });

  it('null leaves the field as it was (unless the field is a pointer/map/slice)', () => {
    const j = decode('{"model":"a","MODEL":null}');
    expect(goField(j, 'model')).toBe('a');
    expect(goField(j, 'model', { nullResets: true })).toBe(null);
    expect(goField(decode('{"model":null}'), 'model')).toBeUndefined();
  });

  it('only the first value counts: trailing data and a second value are ignored, and counted', () => {
    const a = decode('{"model":"a"}xyz');
    expect([a.ok, goField(a, 'model'), a.trailing]).toEqual([true, 'a', 3]);
    const b = decode('{"model":"a"} \n{"model":"b"}');
    expect([b.ok, goField(b, 'model'), b.trailing]).toEqual([true, 'a', 13]);
    expect(decode(' {"model":"a"} \r\n\t').trailing).toBe(0);
  });

  it('unescapes keys before matching', () => {
    expect(goField(decode('{"mod\\u0065l":"x"}'), 'model')).toBe('x');
    expect(goField(decode('{"\\u004dODEL":"y"}'), 'model')).toBe('y');
    // a lone surrogate becomes U+FFFD: no longer the same key
    const j = decode('{"\\ud800model":"z"}');
    expect(j.members[0]?.[0]).toBe('\ufffdmodel');
    expect(goField(j, 'model')).toBeUndefined();
  });

  it("folds like encoding/json: Kelvin sign and long s fold into ASCII, dotted/dotless i don't", () => {
    expect(goField(decode('{"\u212Aeep_alive":"5m"}'), 'keep_alive')).toBe('5m');
    expect(goField(decode('{"\u017Ftream":false}'), 'stream')).toBe(false);
    expect(goField(decode('{"th\u0131nk":true}'), 'think')).toBeUndefined();
    expect(goField(decode('{"\u0130mages":[]}'), 'images')).toBeUndefined();
    expect(goFoldName('mOdEl')).toBe('MODEL');
  });

  it('replaces invalid UTF-8 byte by byte, like Go', () => {
    const body = Buffer.concat([Buffer.from('{"model":"a'), Buffer.from([0xe2, 0x82]), Buffer.from('b","mode'), Buffer.from([0xff]), Buffer.from('l":"c"}')]);
    const j = decode(body);
    expect(j.ok).toBe(true);
    expect(goField(j, 'model')).toBe('a\ufffd\ufffdb'); // TextDecoder would give one U+FFFD
    expect(j.members[1]?.[0]).toBe('mode\ufffdl');
  });

  it('non-object bodies: null is a no-op, others fail to decode; syntax errors and empty bodies fail', () => {
    expect(decode('null')).toEqual({ ok: true, kind: 'null', members: [], trailing: 0 });
    expect(decode('[{"model":"a"}]')).toMatchObject({ ok: false, kind: 'array', members: [] });
    expect(decode('"model"')).toMatchObject({ ok: false, kind: 'string' });
    expect(decode('01')).toMatchObject({ ok: false, kind: 'number', trailing: 1 });
    expect(decode('true')).toMatchObject({ ok: false, kind: 'boolean' });
    expect(decode(' \n')).toMatchObject({ ok: false, error: 'EOF' });
    expect(decode('{"model":"a"')).toMatchObject({ ok: false, error: 'unexpected EOF', members: [] });
    expect(decode('{"model":"a",}')).toMatchObject({ ok: false, members: [] });
    expect(decode('{"model":"a\u0001"}')).toMatchObject({ ok: false });
    expect(decode('{"model":01}')).toMatchObject({ ok: false });
  });

  it('decodes nested values and stops at 10,000 levels like the scanner', () => {
    const j = decode('{"options":{"a":[1,2.5e1,{"b":null}],"a ":true},"messages":[]}');
    expect(goField(j, 'options')).toEqual({ a: [1, 25, { b: null }], 'a ': true });
    expect(decode(`${'['.repeat(10000)}${']'.repeat(10000)}`)).toMatchObject({
      kind: 'array',
      error: 'json: cannot unmarshal array into Go value of type struct',
    });
    expect(decode(`${'['.repeat(10001)}${']'.repeat(10001)}`).error).toBe('exceeded max depth');
  });
});
