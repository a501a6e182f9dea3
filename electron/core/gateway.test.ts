import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOllama } from '../../test/support/fake-ollama.js';
import { rawRequest } from '../../test/support/raw-request.js';
import { type Harness, startHarness } from '../../test/support/gate-harness.js';
import { MemoryKeyStore } from '../../test/support/memory-key-store.js';
import { createGateway } from './gateway.js';
import { DEFAULT_SETTINGS, staticSettings } from './settings.js';

const chatBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi there' }], stream: false, ...extra });

describe('gateway routes, auth and forwarding', () => {
  let h: Harness;
  let alice: { id: string; secret: string };

  beforeAll(async () => {
    h = await startHarness();
    alice = h.addKey('alice');
  });
  afterAll(() => h.close());
  afterEach(() => h.fake.reset());

  describe('public routes', () => {
    it('GET / answers JSON info without a key, HEAD / answers 200', async () => {
      const get = await rawRequest(`${h.url}/`);
      expect(get.status).toBe(200);
      expect(get.headers['content-type']).toMatch(/application\/json/);
      const info = JSON.parse(get.body);
      expect(info.name).toBe('Ollama Gate');
      expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(Object.keys(info.endpoints)).toEqual(expect.arrayContaining(['/health', '/auth']));
      const head = await rawRequest(`${h.url}/`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      expect(h.fake.requests).toHaveLength(0);
    });

    it('GET /health reports Ollama reachable with its version and latency', async () => {
      const res = await rawRequest(`${h.url}/health`);
      expect(res.status).toBe(200);
      const body = JSON.parse(res.body);
      expect(body.status).toBe('ok');
      expect(body.ollama).toMatchObject({ reachable: true, version: '0.12.6' });
      expect(body.ollama.latency_ms).toBeGreaterThanOrEqual(0);
    });

    it('OPTIONS preflight is answered by the gate with CORS headers and never reaches Ollama', async () => {
      const res = await rawRequest(`${h.url}/api/chat`, {
        method: 'OPTIONS',
        headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
      });
      expect(res.status).toBe(204);
      // The default list allows this machine's own pages, not any site's.
      expect(res.headers['access-control-allow-origin']).toBe('http://localhost:5173');
      expect(res.headers['access-control-allow-headers']).toMatch(/Authorization/);
      expect(res.headers['access-control-allow-headers']).toMatch(/X-API-Key/);
      expect(res.headers['access-control-allow-headers']).toMatch(/Content-Type/);
      expect(h.fake.requests).toHaveLength(0);
      const foreign = await rawRequest(`${h.url}/api/chat`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'DELETE' },
      });
      expect(foreign.status).toBe(204);
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('every response carries an X-Request-Id that matches its log entry', async () => {
      const res = await rawRequest(`${h.url}/api/tags`);
      const id = res.headers['x-request-id'];
      expect(id).toMatch(/^[0-9a-f]{8}$/);
      const entry = await h.waitForLog((e) => e.id === id);
      expect(entry.status).toBe(401);
    });
  });

  describe('key sources', () => {
    const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
    const cases: Array<[string, (secret: string) => { headers?: Record<string, string>; query?: string; body?: (s: string) => string }]> = [
      ['x-api-key', (s) => ({ headers: { 'X-API-Key': s } })],
      ['bearer', (s) => ({ headers: { Authorization: `Bearer ${s}` } })],
      ['basic', (s) => ({ headers: { Authorization: basic('alice', s) } })],
      ['basic', (s) => ({ headers: { Authorization: basic(s, '') } })],
      ['authorization', (s) => ({ headers: { Authorization: s } })],
      ['query', (s) => ({ query: `?api_key=${encodeURIComponent(s)}` })],
      ['body', () => ({ body: (key) => chatBody({ api_key: key }) })],
    ];

    it.each(cases)('accepts a key sent as %s and forwards nothing that carries it', async (source, make) => {
      const how = make(alice.secret);
      const body = how.body ? how.body(alice.secret) : chatBody();
      const res = await rawRequest(`${h.url}/api/chat${how.query ?? ''}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...how.headers },
        body,
      });
      expect(res.status).toBe(200);
      const seen = await h.fake.waitForRequest((r) => r.path === '/api/chat');
      expect(seen.headers['x-api-key']).toBeUndefined();
      expect(seen.headers.authorization).toBeUndefined();
      expect(seen.query.has('api_key')).toBe(false);
      expect(seen.body.toString()).not.toContain(alice.secret);
      expect(seen.body.toString()).not.toContain('api_key');
      expect(Number(seen.headers['content-length'])).toBe(seen.body.length);
      const entry = await h.waitForLog((e) => e.id === res.headers['x-request-id']);
      expect(entry).toMatchObject({ user: 'alice', keySource: source, decision: 'allowed', outcome: 'ok', model: 'llama3.2' });
    });

    it('removes api_key from the body and leaves every other byte as sent', async () => {
      const sent =
        '{"model":"llama3.2",\n  "api_key": "' +
        alice.secret +
        '",\n  "prompt":"caf\u00e9 \\u003c\\/b\\u003e 1.50", "stream":false, "options":{"api_key":"inner"}}';
      const res = await rawRequest(`${h.url}/api/generate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: sent });
      expect(res.status).toBe(200);
      const seen = await h.fake.waitForRequest((r) => r.path === '/api/generate');
      expect(seen.body.toString()).toBe('{"model":"llama3.2",\n  "prompt":"caf\u00e9 \\u003c\\/b\\u003e 1.50", "stream":false, "options":{"api_key":"inner"}}');
    });

    it('keeps the query string, minus api_key, exactly as encoded', async () => {
      const res = await rawRequest(`${h.url}/api/tags?a=1&api_key=${alice.secret}&b=x%20y+z&c`);
      expect(res.status).toBe(200);
      const seen = await h.fake.waitForRequest((r) => r.path === '/api/tags');
      expect(seen.url).toBe('/api/tags?a=1&b=x%20y+z&c');
      const entry = await h.waitForLog((e) => e.id === res.headers['x-request-id']);
      expect(entry.path).toBe('/api/tags?a=1&api_key=***&b=x%20y+z&c');
    });
  });

  describe('refusals', () => {
    it("answers 401 without a key and 403 with a wrong one, in Ollama's shape on /api", async () => {
      const missing = await rawRequest(`${h.url}/api/tags`);
      expect(missing.status).toBe(401);
      expect(missing.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(missing.body)).toEqual({ error: expect.stringContaining('API key required') });
      const wrong = await rawRequest(`${h.url}/api/tags`, { headers: { Authorization: 'Bearer og_not-a-real-key-000000000000000000' } });
      expect(wrong.status).toBe(403);
      expect(JSON.parse(wrong.body)).toEqual({ error: 'invalid API key' });
      expect(h.fake.requests).toHaveLength(0);
    });

    it("answers in OpenAI's error shape on /v1", async () => {
      const res = await rawRequest(`${h.url}/v1/models`);
      expect(res.status).toBe(401);
      const body = JSON.parse(res.body);
      expect(body.error).toMatchObject({ message: expect.stringContaining('API key required'), type: 'invalid_request_error', code: 'missing_api_key' });
    });

    it('refuses a disabled key and an expired key with 403, and accepts it again once re-enabled', async () => {
      const bob = h.addKey('bob');
      h.gate.keys.setEnabled(bob.id, false);
      const disabled = await rawRequest(`${h.url}/api/tags`, { headers: { 'X-API-Key': bob.secret } });
      expect(disabled.status).toBe(403);
      expect(JSON.parse(disabled.body).error).toMatch(/disabled/);
      h.gate.keys.setEnabled(bob.id, true);
      expect((await rawRequest(`${h.url}/api/tags`, { headers: { 'X-API-Key': bob.secret } })).status).toBe(200);
      h.gate.keys.update(bob.id, { expiresAt: Date.now() - 1 });
      const expired = await rawRequest(`${h.url}/api/tags`, { headers: { 'X-API-Key': bob.secret } });
      expect(expired.status).toBe(403);
      expect(JSON.parse(expired.body).error).toMatch(/expired/);
      expect(h.fake.requests.filter((r) => r.path === '/api/tags')).toHaveLength(1);
    });

    it('keeps an inference key away from model management and names the scope', async () => {
      const res = await rawRequest(`${h.url}/api/pull`, { method: 'POST', headers: { 'X-API-Key': alice.secret }, body: '{"model":"llama3.2"}' });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body).error).toMatch(/scope "inference".*needs scope "full"/);
      const admin = h.addKey('admin', 'full');
      const ok = await rawRequest(`${h.url}/api/pull`, { method: 'POST', headers: { 'X-API-Key': admin.secret }, body: '{"model":"llama3.2","stream":false}' });
      expect(ok.status).toBe(200);
      expect(h.fake.requests.filter((r) => r.path === '/api/pull')).toHaveLength(1);
    });

    it("never exposes Ollama's debug endpoints, whatever the path spelling", async () => {
      const admin = h.addKey('admin2', 'full');
      for (const path of ['/debug/pprof/', '/api/../debug/pprof/heap', '/api/%2e%2e/debug/pprof/']) {
        const res = await rawRequest(`${h.url}${path}`, { headers: { 'X-API-Key': admin.secret } });
        expect(res.status, path).toBe(404);
      }
      expect(h.fake.requests).toHaveLength(0);
    });

    it('answers a non-string api_key in the body with 400 and forwards nothing', async () => {
      const res = await rawRequest(`${h.url}/api/chat`, { method: 'POST', body: '{"model":"x","api_key":42}' });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error).toMatch(/api_key/);
      expect(h.fake.requests).toHaveLength(0);
    });
  });

  describe('sessions (POST /auth)', () => {
    it('trusts the caller IP after /auth like the seed, until the session is revoked', async () => {
      const carol = h.addKey('carol');
      expect((await rawRequest(`${h.url}/auth`, { method: 'POST', body: '{}' })).status).toBe(401);
      expect((await rawRequest(`${h.url}/auth`, { method: 'POST', body: '{"api_key":"og_wrong"}' })).status).toBe(403);
      const auth = await rawRequest(`${h.url}/auth`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ api_key: carol.secret }),
      });
      expect(auth.status).toBe(200);
      expect(JSON.parse(auth.body)).toEqual({ status: 'success', message: expect.any(String), user: 'carol', expires_in: 3600 });

      const keyless = await rawRequest(`${h.url}/api/tags`);
      expect(keyless.status).toBe(200);
      const entry = await h.waitForLog((e) => e.id === keyless.headers['x-request-id']);
      expect(entry).toMatchObject({ user: 'carol', keySource: 'session' });
      expect(h.gate.sessions.list()).toEqual([expect.objectContaining({ ip: '127.0.0.1', user: 'carol' })]);

      expect(h.gate.sessions.revoke('127.0.0.1')).toBe(true);
      expect((await rawRequest(`${h.url}/api/tags`)).status).toBe(401);
    });

    it('ends the sessions of a key at once when the key is disabled', async () => {
      const dave = h.addKey('dave');
      expect((await rawRequest(`${h.url}/auth`, { method: 'POST', headers: { 'X-API-Key': dave.secret } })).status).toBe(200);
      expect((await rawRequest(`${h.url}/api/tags`)).status).toBe(200);
      h.gate.keys.setEnabled(dave.id, false);
      expect((await rawRequest(`${h.url}/api/tags`)).status).toBe(401);
      expect(h.gate.sessions.list()).toHaveLength(0);
    });

    it('never grants anything by User-Agent', async () => {
      for (const ua of ['langchain', 'LangChain/0.3 python', 'ollama-python/0.6', 'python-httpx/0.27']) {
        expect((await rawRequest(`${h.url}/api/tags`, { headers: { 'User-Agent': ua } })).status).toBe(401);
      }
    });
  });

  describe('forwarding', () => {
    it('rewrites Host for a loopback Ollama and drops Origin, cookies and hop-by-hop headers', async () => {
      const res = await rawRequest(`${h.url}/api/tags`, {
        headers: {
          Host: 'gate.example.lan:8000',
          Origin: 'http://evil.example',
          Cookie: 'ollama_gate_admin=secret',
          'X-API-Key': alice.secret,
          Connection: 'keep-alive, X-Private',
          'X-Private': 'secret',
          'X-Custom': 'kept',
        },
      });
      expect(res.status).toBe(200);
      // A foreign site is not in the default CORS list: its page may not read the answer.
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      const seen = await h.fake.waitForRequest((r) => r.path === '/api/tags');
      expect(seen.headers.host).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(seen.headers.origin).toBeUndefined();
      expect(seen.headers.cookie).toBeUndefined();
      expect(seen.headers['x-private']).toBeUndefined();
      expect(seen.headers['x-custom']).toBe('kept');
    });

    it('streams NDJSON line by line: the first line arrives long before the last', async () => {
      Object.assign(h.fake.behaviour, { chunks: 5, chunkDelayMs: 120 });
      const started = performance.now();
      const response = await fetch(`${h.url}/api/chat`, {
        method: 'POST',
        headers: { 'X-API-Key': alice.secret },
        body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(response.headers.get('content-type')).toBe('application/x-ndjson');
      const arrivals: number[] = [];
      const decoder = new TextDecoder();
      let lines = 0;
      for await (const chunk of response.body!) {
        const newLines = decoder.decode(chunk).split('\n').length - 1;
        for (let i = 0; i < newLines; i++) arrivals.push(performance.now() - started);
        lines += newLines;
      }
      expect(lines).toBe(6);
      expect(arrivals[5]! - arrivals[0]!).toBeGreaterThan(400);
    });

    it('passes a mid-stream error line through untouched', async () => {
      Object.assign(h.fake.behaviour, { chunks: 2, midStreamError: 'model runner has unexpectedly stopped' });
      const res = await rawRequest(`${h.url}/api/generate`, {
        method: 'POST',
        headers: { 'X-API-Key': alice.secret },
        body: '{"model":"llama3.2","prompt":"hi"}',
      });
      expect(res.status).toBe(200);
      const last = res.body.trim().split('\n').at(-1)!;
      expect(JSON.parse(last)).toEqual({ error: 'model runner has unexpectedly stopped' });
    });

    it('aborts the upstream request within 250 ms when the client leaves mid-stream', async () => {
      Object.assign(h.fake.behaviour, { chunks: 50, chunkDelayMs: 100 });
      const controller = new AbortController();
      const response = await fetch(`${h.url}/api/chat`, {
        method: 'POST',
        headers: { 'X-API-Key': alice.secret },
        body: chatBody({ stream: true }),
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      await reader.read();
      const seen = await h.fake.waitForRequest((r) => r.path === '/api/chat');
      controller.abort();
      const elapsed = await h.fake.waitForClientAbort(seen, 250);
      expect(elapsed).toBeLessThan(250);
      const entry = await h.waitForLog((e) => e.path === '/api/chat' && e.outcome === 'client_aborted');
      expect(entry.status).toBe(200);
    });

    it('aborts the upstream request when the client leaves before the first byte', async () => {
      Object.assign(h.fake.behaviour, { firstByteDelayMs: 3_000 });
      const controller = new AbortController();
      const pending = fetch(`${h.url}/api/generate`, {
        method: 'POST',
        headers: { 'X-API-Key': alice.secret },
        body: '{"model":"llama3.2","prompt":"slow"}',
        signal: controller.signal,
      }).catch((e: Error) => e);
      const seen = await h.fake.waitForRequest((r) => r.path === '/api/generate');
      controller.abort();
      await pending;
      await h.fake.waitForClientAbort(seen, 250);
      const entry = await h.waitForLog((e) => e.path === '/api/generate' && e.outcome === 'client_aborted');
      expect(entry.ttfbMs).toBeNull();
    });

    it('forwards HEAD and DELETE with a body', async () => {
      const head = await rawRequest(`${h.url}/api/tags`, { method: 'HEAD', headers: { 'X-API-Key': alice.secret } });
      expect(head.status).toBe(200);
      const admin = h.addKey('deleter', 'full');
      const del = await rawRequest(`${h.url}/api/delete`, {
        method: 'DELETE',
        headers: { 'X-API-Key': admin.secret, 'Content-Type': 'application/json' },
        body: '{"model":"qwen2.5:7b"}',
      });
      expect(del.status).toBe(200);
      const seen = await h.fake.waitForRequest((r) => r.method === 'DELETE');
      expect(seen.json).toEqual({ model: 'qwen2.5:7b' });
    });

    it('streams a 64 MiB blob upload through intact', async () => {
      const admin = h.addKey('uploader', 'full');
      const blob = Buffer.alloc(64 * 1024 * 1024);
      for (let i = 0; i < blob.length; i += 4096) blob.writeUInt32LE((i * 2654435761) >>> 0, i);
      const digest = 'sha256:' + createHash('sha256').update(blob).digest('hex');
      const res = await rawRequest(`${h.url}/api/blobs/${digest}`, {
        method: 'POST',
        headers: { 'X-API-Key': admin.secret, 'Content-Type': 'application/json' },
        body: blob,
      });
      expect(res.status).toBe(201);
      const seen = await h.fake.waitForRequest((r) => r.path === `/api/blobs/${digest}`);
      expect('sha256:' + seen.bodySha256).toBe(digest);
      const entry = await h.waitForLog((e) => e.id === res.headers['x-request-id']);
      expect(entry.bytesIn).toBe(blob.length);
    });

    it('passes malformed JSON to Ollama untouched when the key is in a header', async () => {
      const res = await rawRequest(`${h.url}/api/chat`, { method: 'POST', headers: { 'X-API-Key': alice.secret }, body: '{"model": "llama3.2", oops' });
      expect(res.status).toBe(400);
      const seen = await h.fake.waitForRequest((r) => r.path === '/api/chat');
      expect(seen.body.toString()).toBe('{"model": "llama3.2", oops');
    });
  });

  it('never puts a full key in any log entry', async () => {
    await rawRequest(`${h.url}/api/tags?api_key=${alice.secret}`);
    await rawRequest(`${h.url}/api/tags`, { headers: { Authorization: `Bearer ${alice.secret}x` } });
    await rawRequest(`${h.url}/api/chat`, { method: 'POST', body: chatBody({ api_key: alice.secret }) });
    const serialized = JSON.stringify(h.logs);
    expect(h.logs.length).toBeGreaterThan(3);
    expect(serialized).not.toContain(alice.secret);
    expect(serialized).not.toContain(alice.secret.slice(0, 12));
  });
});

describe('body inspection limits', () => {
  it('streams a JSON body larger than the inspection limit through without reading it first', async () => {
    // An upstream that reports its first body bytes: the client holds back the rest until then,
    // so a gate that buffered the body would never get it all and the test would time out.
    let firstBytes!: () => void;
    const firstBytesSeen = new Promise<void>((resolve) => (firstBytes = resolve));
    let received = 0;
    const upstream = createServer((req, res) => {
      req.on('data', (c: Buffer) => {
        if (received === 0) firstBytes();
        received += c.length;
      });
      req.on('end', () => res.end(JSON.stringify({ received })));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const store = new MemoryKeyStore();
    const gate = createGateway({
      keys: store,
      settings: staticSettings({
        host: '127.0.0.1',
        port: 0,
        upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
        maxInspectBytes: 1024 * 1024,
      }),
    });
    const { port } = await gate.listen();
    const { secret } = gate.keys.create({ user: 'big' });
    try {
      const piece = Buffer.alloc(512 * 1024, 0x61);
      async function* body() {
        yield Buffer.from('{"model":"x","prompt":"');
        for (let i = 0; i < 4; i++) yield piece;
        await firstBytesSeen;
        for (let i = 0; i < 8; i++) yield piece;
        yield Buffer.from('"}');
      }
      const res = await fetch(`http://127.0.0.1:${port}/api/generate`, {
        method: 'POST',
        headers: { 'X-API-Key': secret },
        body: body() as unknown as BodyInit,
        duplex: 'half',
      } as RequestInit);
      expect(await res.json()).toEqual({ received: 23 + 12 * piece.length + 2 });
    } finally {
      await gate.close();
      upstream.close();
    }
  });
});

describe('upstream failures', () => {
  it('answers 502 in JSON when Ollama is not running, and /health says 503 with the reason', async () => {
    const h = await startHarness({ upstream: 'http://127.0.0.1:9' });
    try {
      const { secret } = h.addKey('eve');
      const res = await rawRequest(`${h.url}/api/tags`, { headers: { 'X-API-Key': secret } });
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body).error).toMatch(/Ollama is not running/);
      const v1 = await rawRequest(`${h.url}/v1/models`, { headers: { 'X-API-Key': secret } });
      expect(JSON.parse(v1.body).error).toMatchObject({ type: 'api_error', code: 'upstream_unreachable' });
      const health = await rawRequest(`${h.url}/health`);
      expect(health.status).toBe(503);
      expect(JSON.parse(health.body).ollama).toMatchObject({ reachable: false, error: expect.stringMatching(/refused|not running/) });
    } finally {
      await h.close();
    }
  });

  it('answers 504 when a configured header timeout runs out, and by default sets none', async () => {
    expect(DEFAULT_SETTINGS.upstreamHeadersTimeoutMs).toBe(0);
    expect(DEFAULT_SETTINGS.upstreamBodyTimeoutMs).toBe(0);
    const h = await startHarness({ settings: { upstreamHeadersTimeoutMs: 200 } });
    try {
      h.fake.behaviour.firstByteDelayMs = 1_500;
      const { secret } = h.addKey('slow');
      const res = await rawRequest(`${h.url}/api/generate`, { method: 'POST', headers: { 'X-API-Key': secret }, body: '{"model":"llama3.2","prompt":"x"}' });
      expect(res.status).toBe(504);
      expect(JSON.parse(res.body).error).toMatch(/did not answer in time/);
    } finally {
      await h.close();
    }
  });

  it('answers 504 when connecting to Ollama takes longer than the connect timeout', async () => {
    // A listener whose process never accepts, with a one-place backlog that fillers take: the
    // kernel then drops the gate's SYN and its connect hangs, as with an unreachable host.
    const stuck = spawn(process.execPath, [
      '-e',
      "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { process.stdout.write(this.address().port + '\\n'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30000); })",
    ]);
    const fillers: Socket[] = [];
    try {
      const port = await new Promise<number>((resolve) => stuck.stdout.once('data', (data) => resolve(Number(String(data)))));
      for (let i = 0; i < 3; i++) fillers.push(connect(port, '127.0.0.1').on('error', () => {}));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const h = await startHarness({ upstream: `http://127.0.0.1:${port}`, settings: { upstreamConnectTimeoutMs: 300 } });
      try {
        const { secret } = h.addKey('far');
        const started = performance.now();
        const res = await rawRequest(`${h.url}/api/tags`, { headers: { 'X-API-Key': secret } });
        expect(res.status).toBe(504);
        expect(JSON.parse(res.body).error).toMatch(/timed out connecting to Ollama/);
        expect(performance.now() - started).toBeLessThan(2_000);
      } finally {
        await h.close();
      }
    } finally {
      for (const socket of fillers) socket.destroy();
      stuck.kill();
    }
  });

  it('breaks the stream when a configured body timeout passes with no line from Ollama', async () => {
    const h = await startHarness({ settings: { upstreamBodyTimeoutMs: 300 } });
    try {
      const { secret } = h.addKey('stalled');
      // A line every 100 ms keeps the stream alive under a 300 ms idle limit…
      Object.assign(h.fake.behaviour, { chunks: 6, chunkDelayMs: 100 });
      const steady = await rawRequest(`${h.url}/api/chat`, { method: 'POST', headers: { 'X-API-Key': secret }, body: chatBody({ stream: true }) });
      expect(steady.body.trim().split('\n')).toHaveLength(7);
      // …a 1.5 s silence after the first line does not.
      Object.assign(h.fake.behaviour, { chunks: 3, chunkDelayMs: 1_500 });
      const stalled = await rawRequest(`${h.url}/api/chat`, { method: 'POST', headers: { 'X-API-Key': secret }, body: chatBody({ stream: true }) }).catch(
        (e: Error) => e,
      );
      expect(stalled).toBeInstanceOf(Error);
      const entry = await h.waitForLog((e) => e.path === '/api/chat' && e.outcome === 'upstream_error');
      expect(entry.status).toBe(200);
      expect(entry.error).toMatch(/stopped sending in time/);
    } finally {
      await h.close();
    }
  });

  it('finishes a stream on the old upstream when the upstream setting changes, and sends new requests to the new one', async () => {
    const first = await startFakeOllama();
    const second = await startFakeOllama();
    const settings = { ...DEFAULT_SETTINGS, host: '127.0.0.1', port: 0, upstream: first.url };
    const store = new MemoryKeyStore();
    const gate = createGateway({ keys: store, settings: { current: () => settings }, exposureAddresses: () => [] });
    try {
      const { port } = await gate.listen();
      const { secret } = gate.keys.create({ user: 'mover', scope: 'inference' });
      Object.assign(first.behaviour, { chunks: 8, chunkDelayMs: 60 });
      const streaming = rawRequest(`http://127.0.0.1:${port}/api/chat`, { method: 'POST', headers: { 'X-API-Key': secret }, body: chatBody({ stream: true }) });
      await first.waitForRequest((r) => r.path === '/api/chat');
      settings.upstream = second.url;
      const tags = await rawRequest(`http://127.0.0.1:${port}/api/tags`, { headers: { 'X-API-Key': secret } });
      expect(tags.status).toBe(200);
      await second.waitForRequest((r) => r.path === '/api/tags');
      const streamed = await streaming;
      const lines = streamed.body.trim().split('\n');
      expect(lines).toHaveLength(9);
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ done: true });
    } finally {
      await gate.close();
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('ends the client stream promptly when Ollama dies mid-stream, and logs an upstream error', async () => {
    const h = await startHarness();
    try {
      Object.assign(h.fake.behaviour, { chunks: 20, chunkDelayMs: 20, destroyAfterChunks: 3 });
      const { secret } = h.addKey('frank');
      const result = await rawRequest(`${h.url}/api/chat`, { method: 'POST', headers: { 'X-API-Key': secret }, body: chatBody({ stream: true }) }).catch(
        (e: Error) => e,
      );
      expect(result).toBeInstanceOf(Error);
      const entry = await h.waitForLog((e) => e.path === '/api/chat');
      expect(entry.outcome).toBe('upstream_error');
    } finally {
      await h.close();
    }
  });

  it('reports a port already in use clearly', async () => {
    const h = await startHarness();
    try {
      const port = Number(new URL(h.url).port);
      const second = createGateway({ keys: new MemoryKeyStore(), settings: staticSettings({ host: '127.0.0.1', port }) });
      await expect(second.listen()).rejects.toThrow(`port ${port} is already in use`);
      expect(second.status()).toMatchObject({ state: 'error', error: expect.stringContaining('already in use') });
    } finally {
      await h.close();
    }
  });
});

describe('backpressure', () => {
  it('stops reading from Ollama while the client is not reading, and delivers everything once it does', async () => {
    const total = 64 * 1024 * 1024;
    const piece = Buffer.alloc(64 * 1024, 0x7a);
    let written = 0;
    // An upstream that writes as fast as its socket lets it: how far it gets measures what the gate buffers.
    const upstream = createServer(async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      while (written < total) {
        written += piece.length;
        if (!res.write(piece)) await new Promise((r) => res.once('drain', r));
      }
      res.end();
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const gate = createGateway({
      keys: new MemoryKeyStore(),
      settings: staticSettings({ host: '127.0.0.1', port: 0, upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` }),
    });
    const { port } = await gate.listen();
    const { secret } = gate.keys.create({ user: 'slow-reader' });
    try {
      const received = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`http://127.0.0.1:${port}/api/tags`, { headers: { 'X-API-Key': secret } }, (res) => {
          res.pause();
          setTimeout(() => {
            // Kernel socket buffers on both sides hold a few MiB at most; a buffering gate would have taken it all.
            expect(written).toBeLessThan(24 * 1024 * 1024);
            let count = 0;
            res.on('data', (c: Buffer) => (count += c.length));
            res.on('end', () => resolve(count));
            res.resume();
          }, 500);
        });
        req.on('error', reject);
        req.end();
      });
      expect(received).toBe(total);
    } finally {
      await gate.close();
      upstream.close();
    }
  });
});

describe('restart with new settings', () => {
  async function startMutable() {
    const settings = { ...DEFAULT_SETTINGS, host: '127.0.0.1', port: 0, upstream: 'http://127.0.0.1:9' };
    const gate = createGateway({ keys: new MemoryKeyStore(), settings: { current: () => settings } });
    const { port } = await gate.listen();
    return { gate, settings, port };
  }
  const answers = (port: number) =>
    fetch(`http://127.0.0.1:${port}/`).then(
      (r) => r.status,
      () => 'refused',
    );

  it('applies changed client limits to the running listener, without moving it', async () => {
    const { gate, settings, port } = await startMutable();
    try {
      // Each on a new connection: Node reads the limit when it sets a connection up.
      const bigHeader = { 'X-Padding': 'x'.repeat(8 * 1024), Connection: 'close' };
      expect((await rawRequest(`http://127.0.0.1:${port}/`, { headers: bigHeader })).status).toBe(200);
      settings.maxHeaderBytes = 4 * 1024;
      await gate.restart();
      expect((await rawRequest(`http://127.0.0.1:${port}/`, { headers: bigHeader })).status).toBe(431);
    } finally {
      await gate.close();
    }
  });

  it('moves to a new port: the new one answers, the old one stops', async () => {
    const { gate, settings, port } = await startMutable();
    try {
      const blocker = createServer();
      await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
      const freePort = (blocker.address() as AddressInfo).port;
      await new Promise<void>((r) => blocker.close(() => r()));
      settings.port = freePort;
      const status = await gate.restart();
      expect(status).toMatchObject({ state: 'listening', port: freePort, error: null });
      expect(await answers(freePort)).toBe(200);
      expect(await answers(port)).toBe('refused');
    } finally {
      await gate.close();
    }
  });

  it('keeps the old listener serving and reports the error when the new port is taken', async () => {
    const { gate, settings, port } = await startMutable();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    try {
      settings.port = (blocker.address() as AddressInfo).port;
      await expect(gate.restart()).rejects.toThrow('already in use');
      expect(gate.status()).toMatchObject({ state: 'listening', port, error: expect.stringContaining('already in use') });
      expect(await answers(port)).toBe(200);
    } finally {
      blocker.close();
      await gate.close();
    }
  });

  it('changes the bind address on the same port', async () => {
    const { gate, settings, port } = await startMutable();
    try {
      settings.port = port;
      settings.host = '0.0.0.0';
      const status = await gate.restart();
      expect(status).toMatchObject({ state: 'listening', host: '0.0.0.0', port });
      expect(status.urls[0]).toBe(`http://127.0.0.1:${port}`);
      expect(await answers(port)).toBe(200);
    } finally {
      await gate.close();
    }
  });
});
