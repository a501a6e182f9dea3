import { type Socket, connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/gate-harness.js';
import { startFakeOllama } from './support/fake-ollama.js';

/** Sends raw bytes and collects whatever comes back until the server closes (or the timeout). */
function rawExchange(port: number, send: (socket: Socket) => void, timeoutMs = 3_000): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1', () => send(socket));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got: ${Buffer.concat(chunks).toString()}`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('utf8'), closedAfterMs: performance.now() - started });
    });
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
const bodyOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error: string };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('raw sockets: broken, slow and oversized requests', () => {
  it('answers garbage with 400 in JSON and closes', async () => {
    h = await startHarness();
    const port = Number(new URL(h.url).port);
    const { text } = await rawExchange(port, (s) => s.write('BLAH / NOPE\r\n\r\n'));
    expect(statusOf(text)).toBe(400);
    expect(bodyOf(text).error).toMatch(/malformed/);
  });

  it('answers oversized headers with 431, at the configured limit', async () => {
    h = await startHarness({ settings: { maxHeaderBytes: 4096 } });
    const port = Number(new URL(h.url).port);
    const { text } = await rawExchange(port, (s) => s.write(`GET /api/tags HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`));
    expect(statusOf(text)).toBe(431);
    const fits = await fetch(`${h.url}/`, { headers: { 'X-Fits': 'a'.repeat(2000) } });
    expect(fits.status).toBe(200);
  });

  it('gives up on a client that sends its headers too slowly (408), while others are served', async () => {
    h = await startHarness({ settings: { clientHeadersTimeoutMs: 400 } });
    const port = Number(new URL(h.url).port);
    const slow = rawExchange(port, (s) => {
      s.write('GET / HTTP/1.1\r\nHost: x\r\n');
      const drip = setInterval(() => (s.writable ? s.write('X-Drip: 1\r\n') : clearInterval(drip)), 100);
      s.on('close', () => clearInterval(drip));
    });
    const started = performance.now();
    expect((await fetch(`${h.url}/`)).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(300);
    const { text, closedAfterMs } = await slow;
    expect(statusOf(text)).toBe(408);
    expect(closedAfterMs).toBeLessThan(2_500);
  });

  it('answers a body over the configured limit with 413, whether its length is declared or chunked', async () => {
    h = await startHarness({ settings: { maxBodyBytes: 1024 * 1024 } });
    const { secret } = h.addKey('big');
    const big = JSON.stringify({ model: 'llama3.2', prompt: 'x'.repeat(2 * 1024 * 1024) });
    const declared = await fetch(`${h.url}/api/generate`, { method: 'POST', headers: { 'X-API-Key': secret }, body: big });
    expect(declared.status).toBe(413);
    expect((await declared.json()).error).toMatch(/larger than this gate's limit/);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${h!.url}/api/generate`, { method: 'POST', headers: { 'X-API-Key': secret, 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 40; i++) req.write(Buffer.alloc(64 * 1024, 0x61));
      req.end();
    });
    expect(chunked).toBe(413);
    expect(h.fake.requests.filter((r) => r.path === '/api/generate' && r.finished)).toHaveLength(0);
  });
});

describe('Ollama going away and coming back', () => {
  it('answers 502 quickly while Ollama is down and recovers by itself, health flipping both ways', async () => {
    const first = await startFakeOllama();
    const port = first.port;
    h = await startHarness({ upstream: first.url });
    const { secret } = h.addKey('ops');
    expect((await fetch(`${h.url}/api/tags`, { headers: { 'X-API-Key': secret } })).status).toBe(200);
    await first.close();

    const started = performance.now();
    const down = await fetch(`${h.url}/api/tags`, { headers: { 'X-API-Key': secret } });
    expect(down.status).toBe(502);
    expect(performance.now() - started).toBeLessThan(1_000);
    await new Promise((r) => setTimeout(r, 1_100)); // past the health cache
    expect((await fetch(`${h.url}/health`)).status).toBe(503);

    const again = await startFakeOllama({ port });
    try {
      expect((await fetch(`${h.url}/api/tags`, { headers: { 'X-API-Key': secret } })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1_100));
      expect((await fetch(`${h.url}/health`)).status).toBe(200);
    } finally {
      await again.close();
    }
  });
});

describe('clients leaving', () => {
  it('closes the upstream request within 250 ms when the client leaves during a large upload', async () => {
    h = await startHarness();
    const { secret } = h.addKey('uploader', 'full');
    const digest = 'sha256:' + 'a'.repeat(64);
    const req = httpRequest(`${h.url}/api/blobs/${digest}`, { method: 'POST', headers: { 'X-API-Key': secret, 'Content-Length': String(64 * 1024 * 1024) } });
    req.on('error', () => {});
    req.write(Buffer.alloc(4 * 1024 * 1024));
    await new Promise((r) => setTimeout(r, 200));
    req.destroy();
    const seen = await h.fake.waitForRequest((r) => r.path === `/api/blobs/${digest}`, 2_000);
    expect(seen.clientAborted).toBe(true);
    expect(await h.fake.waitForClientAbort(seen, 250)).toBeLessThan(250);
  });

  it('closes the upstream request within 250 ms when an OpenAI SSE stream is abandoned', async () => {
    h = await startHarness();
    const { secret } = h.addKey('sse');
    Object.assign(h.fake.behaviour, { chunks: 100, chunkDelayMs: 50 });
    const controller = new AbortController();
    const response = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true }),
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    await reader.read();
    const seen = await h.fake.waitForRequest((r) => r.path === '/v1/chat/completions');
    controller.abort();
    expect(await h.fake.waitForClientAbort(seen, 250)).toBeLessThan(250);
  });

  it('closes the upstream request when a plain (non-streamed) answer is abandoned before it comes', async () => {
    h = await startHarness();
    const { secret } = h.addKey('plain');
    h.fake.behaviour.firstByteDelayMs = 2_000;
    const controller = new AbortController();
    const pending = fetch(`${h.url}/api/chat`, {
      method: 'POST',
      headers: { 'X-API-Key': secret },
      body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }], stream: false }),
      signal: controller.signal,
    }).catch(() => undefined);
    const seen = await h.fake.waitForRequest((r) => r.path === '/api/chat');
    controller.abort();
    await pending;
    expect(await h.fake.waitForClientAbort(seen, 250)).toBeLessThan(250);
  });
});

describe('graceful close', () => {
  it('lets an open stream finish within the grace period, then stops', async () => {
    h = await startHarness();
    const { secret } = h.addKey('late');
    Object.assign(h.fake.behaviour, { chunks: 5, chunkDelayMs: 100 });
    const response = await fetch(`${h.url}/api/chat`, {
      method: 'POST',
      headers: { 'X-API-Key': secret },
      body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }] }),
    });
    const text = response.text();
    await h.fake.waitForRequest((r) => r.path === '/api/chat');
    const closing = h.gate.close({ graceMs: 5_000 });
    const lines = (await text).trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ done: true });
    await closing;
    await expect(fetch(`${h.url}/`)).rejects.toThrow();
  });

  it('cuts streams still open when the grace period ends', async () => {
    h = await startHarness();
    const { secret } = h.addKey('endless');
    Object.assign(h.fake.behaviour, { chunks: 1000, chunkDelayMs: 50 });
    const response = await fetch(`${h.url}/api/chat`, {
      method: 'POST',
      headers: { 'X-API-Key': secret },
      body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }] }),
    });
    const text = response.text().then(
      () => 'ended',
      () => 'cut',
    );
    const seen = await h.fake.waitForRequest((r) => r.path === '/api/chat');
    const started = performance.now();
    await h.gate.close({ graceMs: 300 });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(await text).toBe('cut');
    await h.fake.waitForClientAbort(seen, 1_000);
  });
});
