/**
 * The request path against smuggling: each test is an attack on framing, tried from a key that may
 * only run models, and judged by what a Go-like upstream parsed off the wire (test/support/
 * recording-upstream.ts), not only by what the gate answered.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../../test/support/gate-harness.js';
import { chunk, exchangeRaw, parseAnswers } from '../../test/support/raw-exchange.js';
import { type RecordingUpstream, startRecordingUpstream } from '../../test/support/recording-upstream.js';

const DELETE_MODEL = 'DELETE /api/delete HTTP/1.1\r\nHost: x\r\nContent-Length: 22\r\n\r\n{"model":"qwen2.5:7b"}';
const PULL_ELSEWHERE = 'POST /api/pull HTTP/1.1\r\nHost: x\r\nContent-Length: 27\r\n\r\n{"model":"evil.example/x/y"}';

let h: Harness;
let upstream: RecordingUpstream;
let port: number;
let inference: string;
let full: string;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  h = await startHarness({ upstream: upstream.url, settings: { lockoutMaxFailures: 0, maxInspectBytes: 1024 * 1024 } });
  port = Number(new URL(h.url).port);
  inference = h.addKey('runner', 'inference').secret;
  full = h.addKey('admin', 'full').secret;
});
afterAll(async () => {
  await h.close();
  await upstream.close();
});
beforeEach(() => upstream.reset());
// Whatever the gate forwarded, the upstream framed it as one request of Go's reading.
afterEach(() => expect(upstream.errors).toEqual([]));

/**
 * Sends exact bytes on one connection, then (unless they close it themselves) a last request that
 * closes it; the answers to what was sent (the last one's left out), as they came back.
 */
async function send(...parts: string[]) {
  const text = parts.join('');
  const closing = /\r\nConnection: close\r\n/i.test(text) ? '' : 'GET / HTTP/1.1\r\nHost: gate\r\nConnection: close\r\n\r\n';
  const answers = parseAnswers(await exchangeRaw(port, Buffer.from(text + closing, 'latin1')));
  // The gate's own GET / answer is JSON naming it; a connection the gate closed earlier has none.
  const last = answers.at(-1);
  if (last && last.body.toString().includes('"name":"Ollama Gate"')) answers.pop();
  return answers;
}

describe('a body where Ollama reads none', () => {
  it('refuses a GET whose body comes chunked, and Ollama parses nothing of it', async () => {
    const answers = await send(
      `GET /api/tags HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${inference}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      chunk(DELETE_MODEL),
      '0\r\n\r\n',
    );
    expect(answers.map((a) => a.status)).toEqual([400]);
    expect(JSON.parse(answers[0]!.body.toString()).error).toBe('a GET request cannot carry a body');
    expect(answers[0]!.headers.get('connection')).toBe('close');
    expect(upstream.requests).toEqual([]);
  });

  it('refuses a GET whose Content-Length is named in Connection, and Ollama parses nothing of it', async () => {
    const answers = await send(
      `GET /api/tags HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${inference}\r\nConnection: keep-alive, content-length\r\nContent-Length: ${PULL_ELSEWHERE.length}\r\n\r\n${PULL_ELSEWHERE}`,
    );
    expect(answers.map((a) => a.status)).toEqual([400]);
    expect(upstream.requests).toEqual([]);
  });

  it('refuses a HEAD or an OPTIONS with a body the same way, before any key is looked at', async () => {
    for (const method of ['HEAD', 'OPTIONS']) {
      const answers = await send(`${method} /api/tags HTTP/1.1\r\nHost: gate\r\nContent-Length: ${DELETE_MODEL.length}\r\n\r\n${DELETE_MODEL}`);
      expect(
        answers.map((a) => a.status),
        method,
      ).toEqual([400]);
    }
    expect(upstream.requests).toEqual([]);
  });
});

describe('the gate frames what it forwards', () => {
  it('sends a body it read with its own exact length, whatever the client named in Connection', async () => {
    const body = '{"model":"llama3.2","prompt":"hi"}';
    const answers = await send(
      `POST /api/generate HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${inference}\r\nConnection: keep-alive, content-length, transfer-encoding, host\r\nTransfer-Encoding: chunked\r\n\r\n`,
      chunk(body),
      '0\r\n\r\n',
    );
    expect(answers.map((a) => a.status)).toEqual([200]);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]).toMatchObject({ method: 'POST', path: '/api/generate', framing: 'content-length' });
    expect(upstream.requests[0]!.body.toString()).toBe(body);
  });

  it('sends a body whose whole text is HTTP requests as one request with that body', async () => {
    const answers = await send(
      `POST /api/chat HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${inference}\r\nContent-Length: ${DELETE_MODEL.length}\r\n\r\n${DELETE_MODEL}`,
    );
    expect(answers.map((a) => a.status)).toEqual([200]);
    expect(upstream.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/chat']);
    expect(upstream.requests[0]!.body.toString()).toBe(DELETE_MODEL);
  });

  it('streams a body past the inspection limit chunked, and Ollama still parses exactly one request', async () => {
    const big = `{"model":"llama3.2","prompt":"${'x'.repeat(1024 * 1024 + 10)}"}`;
    const answers = await send(`POST /api/generate HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${inference}\r\nContent-Length: ${big.length}\r\n\r\n${big}`);
    expect(answers.map((a) => a.status)).toEqual([200]);
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]).toMatchObject({ framing: 'chunked' });
    expect(upstream.requests[0]!.body.length).toBe(big.length);
  });

  it('refuses the framing Node cannot read one way only, and Ollama parses none of it', async () => {
    const heads = [
      `Content-Length: 5\r\nTransfer-Encoding: chunked`,
      'Transfer-Encoding: xchunked',
      'Transfer-Encoding: chunked, identity',
      'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity',
    ];
    for (const head of heads) {
      const answers = await send(`POST /api/chat HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${inference}\r\n${head}\r\n\r\n`, chunk(DELETE_MODEL), '0\r\n\r\n');
      expect(
        answers.map((a) => a.status),
        head,
      ).toEqual([400]);
    }
    expect(upstream.requests).toEqual([]);
  });

  it('refuses methods Ollama does not serve with 405, forwarding nothing', async () => {
    for (const method of ['PUT', 'PATCH', 'TRACE', 'PROPFIND']) {
      const answers = await send(`${method} /api/tags HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${full}\r\nConnection: close\r\n\r\n`);
      expect(
        answers.map((a) => a.status),
        method,
      ).toEqual([405]);
      expect(answers[0]!.headers.get('allow')).toBe('GET, HEAD, POST, DELETE, OPTIONS');
    }
    expect(upstream.requests).toEqual([]);
  });

  it('answers an Upgrade request and closes its connection: bytes after it reach nothing', async () => {
    const answers = await send(
      `GET /api/tags HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${inference}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
      DELETE_MODEL,
    );
    expect(answers.map((a) => a.status)).toEqual([200]);
    expect(answers[0]!.headers.get('connection')).toBe('close');
    expect(upstream.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/tags']);
    expect(upstream.requests[0]!.headers.map(([name]) => name.toLowerCase())).not.toContain('upgrade');
  });
});

describe('paths as Ollama routes them', () => {
  it('checks an encoded path as the path Ollama will route, and sends that path', async () => {
    const refused = await send(
      `DELETE /api%2Fdelete HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${inference}\r\nContent-Length: 22\r\nConnection: close\r\n\r\n{"model":"qwen2.5:7b"}`,
    );
    expect(refused.map((a) => a.status)).toEqual([403]);
    expect(JSON.parse(refused[0]!.body.toString()).error).toMatch(/does not allow \/api\/delete/);
    expect(upstream.requests).toEqual([]);

    const allowed = await send(
      `DELETE /api%2Fdel%65te HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${full}\r\nContent-Length: 22\r\nConnection: close\r\n\r\n{"model":"qwen2.5:7b"}`,
    );
    expect(allowed.map((a) => a.status)).toEqual([200]);
    expect(upstream.requests.map((r) => [r.rawPath, r.path])).toEqual([['/api/delete', '/api/delete']]);
  });
});

describe('answers go to the client that asked', () => {
  it('forwards pipelined requests one by one and answers each, in order, on its own connection', async () => {
    const ask = (probe: string) => `GET /api/tags?probe=${probe} HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${inference}\r\n\r\n`;
    const answers = await send(ask('a'), ask('b'), ask('c'));
    expect(answers).toHaveLength(3);
    const seqs = answers.map((a) => (JSON.parse(a.body.toString()) as { seq: number }).seq);
    expect(seqs.map((seq) => upstream.requests.find((r) => r.seq === seq)!.query)).toEqual(['probe=a', 'probe=b', 'probe=c']);
    expect(upstream.requests).toHaveLength(3);
  });

  it('keeps answering other users with their own answers while one tries to smuggle', async () => {
    const attacks = Array.from({ length: 20 }, (_, i) =>
      send(
        `GET /api/tags?probe=attack${i} HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${inference}\r\nConnection: keep-alive, content-length\r\nContent-Length: ${DELETE_MODEL.length}\r\n\r\n${DELETE_MODEL}`,
      ),
    );
    const victims = Array.from({ length: 20 }, (_, i) =>
      send(`GET /api/ps?probe=victim${i} HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${full}\r\nConnection: close\r\n\r\n`),
    );
    const answered = await Promise.all(victims);
    await Promise.all(attacks);
    answered.forEach((answers, i) => {
      expect(answers.map((a) => a.status)).toEqual([200]);
      const { seq } = JSON.parse(answers[0]!.body.toString()) as { seq: number };
      expect(upstream.requests.find((r) => r.seq === seq)!.query).toBe(`probe=victim${i}`);
    });
    expect(upstream.requests.map((r) => r.path).sort()).toEqual(Array(20).fill('/api/ps'));
  });
});
