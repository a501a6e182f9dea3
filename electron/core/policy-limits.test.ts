import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../../test/support/gate-harness.js';
import { MemoryKeyStore } from '../../test/support/memory-key-store.js';
import { createGateway } from './gateway.js';
import { staticSettings } from './settings.js';
import { monthFile, utcDay } from './usage.js';
import { startFakeOllama } from '../../test/support/fake-ollama.js';

const chat = (url: string, secret: string, model = 'llama3.2', content = 'hi there') =>
  fetch(`${url}/api/chat`, {
    method: 'POST',
    headers: { 'X-API-Key': secret },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }], stream: false }),
  });

/** A GET from a chosen loopback source address, to act as another machine. */
function getFrom(localAddress: string, url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { localAddress, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('model allow-lists', () => {
  it('refuses a model outside the list by name, without forwarding, and lets allowed ones through', async () => {
    h = await startHarness();
    const { id, secret } = h.addKey('alice');
    h.gate.keys.update(id, { models: ['llama3*'] });
    expect((await chat(h.url, secret, 'llama3.2')).status).toBe(200);
    const refused = await chat(h.url, secret, 'qwen2.5:7b');
    expect(refused.status).toBe(403);
    expect((await refused.json()).error).toMatch(/model "qwen2.5:7b" is not allowed/);
    expect(h.fake.requests.filter((r) => r.path === '/api/chat')).toHaveLength(1);
  });

  it('reads the model as Ollama does: a second key in other case or a later null cannot sneak another model past the list', async () => {
    h = await startHarness();
    const { id, secret } = h.addKey('erin');
    h.gate.keys.update(id, { models: ['llama3*'] });
    const send = (body: string) => fetch(`${h!.url}/api/chat`, { method: 'POST', headers: { 'X-API-Key': secret }, body });
    // Go's encoding/json matches "MODEL" to the model field and keeps the last one; null changes nothing.
    expect((await send('{"model":"llama3.2","MODEL":"qwen2.5:7b","messages":[],"stream":false}')).status).toBe(403);
    expect((await send('{"model":"qwen2.5:7b","model":null,"messages":[],"stream":false}')).status).toBe(403);
    // An allowed model in other case is forwarded (the fake, unlike Ollama, only knows "model" and says 400).
    expect((await send('{"Model":"llama3.2","messages":[],"stream":false}')).status).not.toBe(403);
    expect(h.fake.requests.filter((r) => r.path === '/api/chat')).toHaveLength(1);
  });

  it('refuses a copy or a create that would take a model outside the list, or write over one', async () => {
    h = await startHarness();
    const { id, secret } = h.addKey('frank', 'full');
    h.gate.keys.update(id, { models: ['llama3*'] });
    const post = (path: string, body: string) => fetch(`${h!.url}${path}`, { method: 'POST', headers: { 'X-API-Key': secret }, body });
    const refusals = [
      ['/api/copy', '{"source":"qwen2.5:7b","destination":"llama3-mine"}', /model "qwen2.5:7b" \("source"\) is not allowed/],
      ['/api/copy', '{"source":"llama3.2","destination":"qwen2.5:7b"}', /model "qwen2.5:7b" \("destination"\) is not allowed/],
      // Go matches "ſource" (a long s) and "SOURCE" to Source, and keeps the last.
      ['/api/copy', '{"source":"llama3.2","\u017fource":"qwen2.5:7b","destination":"llama3-mine"}', /"source"/],
      ['/api/copy', '{"source":"llama3.2","SOURCE":"qwen2.5:7b","destination":"llama3-mine"}', /"source"/],
      ['/api/copy', '{"source":5,"destination":"llama3-mine"}', /"source" must name a model this key may use/],
      ['/api/create', '{"model":"llama3-mine","from":"qwen2.5:7b"}', /model "qwen2.5:7b" \("from"\) is not allowed/],
    ] as const;
    for (const [path, body, message] of refusals) {
      const refused = await post(path, body);
      expect(refused.status, body).toBe(403);
      expect((await refused.json()).error).toMatch(message);
    }
    // The same written in raw UTF-8 rather than escaped.
    expect((await post('/api/copy', '{"source":"llama3.2","ſource":"qwen2.5:7b","destination":"llama3-mine"}')).status).toBe(403);
    expect(h.fake.requests.filter((r) => r.path === '/api/copy' || r.path === '/api/create')).toHaveLength(0);

    expect((await post('/api/copy', '{"source":"llama3.2","destination":"llama3-mine"}')).status).not.toBe(403);
    expect((await post('/api/create', '{"model":"llama3-mine","from":"llama3.2","stream":false}')).status).not.toBe(403);
    expect(h.fake.requests.filter((r) => r.path === '/api/copy' || r.path === '/api/create')).toHaveLength(2);
  });

  it('shows ollama-js and the OpenAI SDK only the allowed models', async () => {
    h = await startHarness();
    const { id, secret } = h.addKey('bob');
    h.gate.keys.update(id, { models: ['qwen2.5:7b', 'all-minilm'] });
    const ollama = new Ollama({ host: h.url, headers: { Authorization: `Bearer ${secret}` } });
    expect((await ollama.list()).models.map((m) => m.name).sort()).toEqual(['all-minilm:latest', 'qwen2.5:7b']);
    const openai = new OpenAI({ apiKey: secret, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids.sort()).toEqual(['all-minilm:latest', 'qwen2.5:7b']);
    await expect(openai.models.retrieve('llama3.2:latest')).rejects.toMatchObject({ status: 403 });
    // A key without a list sees everything.
    const open = h.addKey('carol');
    const everything = new Ollama({ host: h.url, headers: { 'X-API-Key': open.secret } });
    expect((await everything.list()).models).toHaveLength(3);
  });
});

describe('per-key limits', () => {
  it('answers 429 with Retry-After and says which limit when requests per minute run out', async () => {
    h = await startHarness();
    const { id, secret } = h.addKey('dave');
    h.gate.keys.update(id, { rpm: 3 });
    for (let i = 0; i < 3; i++) expect((await chat(h.url, secret)).status).toBe(200);
    const limited = await chat(h.url, secret);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await limited.json()).error).toMatch(/3 requests per minute/);
    const openai = new OpenAI({ apiKey: secret, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const error = await openai.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as Error).message).toMatch(/^429 rate limit of 3 requests per minute/);
  });

  it('never lets more requests run at once than the concurrency limit, however they race', async () => {
    h = await startHarness();
    const { id, secret } = h.addKey('erin');
    h.gate.keys.update(id, { concurrency: 2 });
    h.fake.behaviour.firstByteDelayMs = 300;
    const statuses = await Promise.all(Array.from({ length: 8 }, () => chat(h!.url, secret).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 429)).toHaveLength(6);
    expect(h.fake.requests.filter((r) => r.path === '/api/chat')).toHaveLength(2);
    // The slots come back when the requests end.
    h.fake.behaviour.firstByteDelayMs = 0;
    expect((await chat(h.url, secret)).status).toBe(200);
  });

  it('frees a slot only for a request that took one: a POST /auth or a refusal in between gives none back', async () => {
    h = await startHarness();
    const { id, secret } = h.addKey('erin');
    h.gate.keys.update(id, { concurrency: 1 });
    h.fake.behaviour.firstByteDelayMs = 400;
    const running = chat(h.url, secret);
    await h.fake.waitForRequest((r) => r.path === '/api/chat');
    expect((await fetch(`${h.url}/auth`, { method: 'POST', body: JSON.stringify({ api_key: secret }) })).status).toBe(200);
    expect((await fetch(`${h.url}/api/pull`, { method: 'POST', headers: { 'X-API-Key': secret }, body: '{"model":"x"}' })).status).toBe(403);
    expect((await chat(h.url, secret)).status).toBe(429);
    expect((await running).status).toBe(200);
    expect(h.fake.requests.filter((r) => r.path === '/api/chat')).toHaveLength(1);
  });

  it('stops a key at its daily token budget, counting what the fake reported', async () => {
    h = await startHarness();
    const { id, secret } = h.addKey('frank');
    h.gate.keys.update(id, { dailyTokens: 30 });
    expect((await chat(h.url, secret)).status).toBe(200);
    const second = await chat(h.url, secret);
    expect(second.status).toBe(200);
    await h.waitForLog((e) => e.id === second.headers.get('x-request-id'));
    const reported = h.fake.requests.map((r) => h!.fake.usageFor(r)!).reduce((sum, u) => sum + u.promptTokens + u.completionTokens, 0);
    expect(reported).toBeGreaterThanOrEqual(30);
    expect(h.gate.usage.tokensToday(id)).toBe(reported);
    const over = await chat(h.url, secret);
    expect(over.status).toBe(429);
    expect((await over.json()).error).toMatch(/daily token budget of 30 used up/);
  });
});

describe('the daily token budget against streams that carry no counts', () => {
  it('counts an OpenAI stream without include_usage at one token per streamed chunk, and stops the key at its budget', async () => {
    h = await startHarness();
    const { id, secret } = h.addKey('hal');
    h.gate.keys.update(id, { dailyTokens: 12 });
    h.fake.behaviour.chunks = 5;
    const openai = new OpenAI({ apiKey: secret, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const streamOnce = async () => {
      let contentChunks = 0;
      const stream = await openai.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true });
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) contentChunks++;
      return contentChunks;
    };
    const got = await streamOnce();
    expect(got).toBe(5);
    await h.waitForLog((e) => e.path === '/v1/chat/completions');
    // Ollama sent no usage: what the client got is what counts (before: nothing, and no budget ever ran out).
    const first = h.gate.usage.tokensToday(id);
    expect(first).toBeGreaterThanOrEqual(got);
    expect(first).toBeLessThanOrEqual(got + 2);
    await streamOnce();
    await h.waitForLog((e) => e.path === '/v1/chat/completions' && h!.logs.filter((l) => l.path === e.path).length === 2);
    expect(h.gate.usage.tokensToday(id)).toBeGreaterThanOrEqual(12);
    await expect(streamOnce()).rejects.toMatchObject({ status: 429 });
  });

  it('counts the chunks a client read of a native stream it left before the last line', async () => {
    h = await startHarness();
    const { id, secret } = h.addKey('ida');
    h.fake.behaviour.chunks = 50;
    h.fake.behaviour.chunkDelayMs = 20;
    const ollama = new Ollama({ host: h.url, headers: { Authorization: `Bearer ${secret}` } });
    const stream = await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let read = 0;
    await expect(
      (async () => {
        for await (const _ of stream) if (++read === 4) stream.abort();
      })(),
    ).rejects.toThrow(/abort/i);
    const entry = await h.waitForLog((e) => e.path === '/api/chat');
    expect(entry.outcome).toBe('client_aborted');
    expect(entry.promptTokens).toBeNull();
    // At least what the client read; at most what had been sent when it left.
    expect(entry.completionTokens).toBeGreaterThanOrEqual(4);
    expect(entry.completionTokens).toBeLessThan(50);
    expect(h.gate.usage.tokensToday(id)).toBe(entry.completionTokens);
  });

  it('does not take a cut stream\u2019s last zero usage for its count: /v1/completions with include_usage, left early', async () => {
    h = await startHarness();
    const { id, secret } = h.addKey('max');
    h.fake.behaviour.chunks = 50;
    h.fake.behaviour.chunkDelayMs = 20;
    const openai = new OpenAI({ apiKey: secret, baseURL: `${h.url}/v1`, maxRetries: 0 });
    // Every chunk carries "usage":{"prompt_tokens":0,"completion_tokens":0,...} (Ollama's own shape).
    const stream = await openai.completions.create({ model: 'llama3.2', prompt: 'hi', stream: true, stream_options: { include_usage: true } });
    let read = 0;
    for await (const chunk of stream) {
      expect(chunk.usage).toMatchObject({ completion_tokens: 0 });
      if (++read === 5) stream.controller.abort();
    }
    const entry = await h.waitForLog((e) => e.path === '/v1/completions');
    expect(entry.outcome).toBe('client_aborted');
    expect(entry.completionTokens).toBeGreaterThanOrEqual(5);
    expect(h.gate.usage.tokensToday(id)).toBeGreaterThanOrEqual(5);
  });

  it('refuses a budgeted key the /v1 routes whose tokens it cannot count, before Ollama sees them; a key without a budget passes', async () => {
    h = await startHarness();
    const budgeted = h.addKey('kim');
    h.gate.keys.update(budgeted.id, { dailyTokens: 1_000 });
    const free = h.addKey('lee');
    const body = JSON.stringify({ model: 'llama3.2', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    for (const path of ['/v1/messages', '/v1/responses', '/v1/some-future-route', '/v1/Chat/Completions', '/v1/chat/completions/']) {
      const refused = await fetch(`${h.url}${path}`, { method: 'POST', headers: { 'X-API-Key': budgeted.secret }, body });
      expect(refused.status, path).toBe(403);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('cannot count the tokens');
      // (Ollama redirects a trailing slash away: not followed here, so each path reaches it once)
      const passed = await fetch(`${h.url}${path}`, { method: 'POST', headers: { 'X-API-Key': free.secret }, body, redirect: 'manual' });
      expect(passed.status, path).not.toBe(403);
    }
    expect(h.fake.requests.filter((r) => r.url.startsWith('/v1/')).map((r) => r.url)).toEqual([
      '/v1/messages',
      '/v1/responses',
      '/v1/some-future-route',
      '/v1/Chat/Completions',
      '/v1/chat/completions/',
    ]);
    // What it can count stays open to it.
    const counted = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'X-API-Key': budgeted.secret }, body });
    expect(counted.status).toBe(200);
    expect((await fetch(`${h.url}/v1/models`, { headers: { 'X-API-Key': budgeted.secret } })).status).toBe(200);
  });

  it('does not count lines of answers that generate nothing (the progress of a pull)', async () => {
    h = await startHarness();
    const { id, secret } = h.addKey('jon', 'full');
    const pull = await fetch(`${h.url}/api/pull`, { method: 'POST', headers: { 'X-API-Key': secret }, body: JSON.stringify({ model: 'llama3.2' }) });
    expect(pull.status).toBe(200);
    expect((await pull.text()).split('\n').filter(Boolean).length).toBeGreaterThan(1);
    const entry = await h.waitForLog((e) => e.path === '/api/pull');
    expect(entry.completionTokens).toBeNull();
    expect(h.gate.usage.tokensToday(id)).toBe(0);
  });
});

describe('usage accounting', () => {
  it('counts requests, errors and tokens per key and day, from NDJSON streams and OpenAI usage alike', async () => {
    h = await startHarness();
    const { id, secret } = h.addKey('gina');
    h.fake.behaviour.chunks = 5;
    const ollama = new Ollama({ host: h.url, headers: { Authorization: `Bearer ${secret}` } });
    for await (const _ of await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'one two three' }], stream: true })) void _;
    const openai = new OpenAI({ apiKey: secret, baseURL: `${h.url}/v1` });
    const stream = await openai.chat.completions.create({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'four five' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _ of stream) void _;
    await chat(h.url, secret, 'no-such-model');
    await h.waitForLog((e) => e.model === 'no-such-model');

    const expected = h.fake.requests.map((r) => h!.fake.usageFor(r)).filter((u) => u !== undefined);
    expect(expected).toHaveLength(2);
    const [row] = h.gate.usage.query({ keyId: id });
    expect(row).toMatchObject({
      keyId: id,
      user: 'gina',
      day: new Date().toISOString().slice(0, 10),
      requests: 3,
      errors: 1,
      promptTokens: expected.reduce((s, u) => s + u!.promptTokens, 0),
      completionTokens: expected.reduce((s, u) => s + u!.completionTokens, 0),
    });
    expect(row!.bytesOut).toBeGreaterThan(0);
    const streamed = h.logs.find((e) => e.path === '/api/chat' && e.status === 200)!;
    expect(streamed.completionTokens).toBe(5);
  });

  it('keeps usage across restarts in the usage file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gate-usage-'));
    const fake = await startFakeOllama();
    const store = new MemoryKeyStore();
    const settings = staticSettings({ host: '127.0.0.1', port: 0, upstream: fake.url });
    try {
      const first = createGateway({ keys: store, settings, usageFile: join(dir, 'usage.json') });
      const { port } = await first.listen();
      const { key, secret } = first.keys.create({ user: 'henry' });
      await chat(`http://127.0.0.1:${port}`, secret);
      await chat(`http://127.0.0.1:${port}`, secret);
      await first.close();
      expect(JSON.parse(readFileSync(monthFile(join(dir, 'usage.json'), utcDay(Date.now()).slice(0, 7)), 'utf8')).rows).toHaveLength(1);

      const second = createGateway({ keys: store, settings, usageFile: join(dir, 'usage.json') });
      await second.listen();
      expect(second.usage.query({ keyId: key.id })[0]).toMatchObject({ requests: 2, user: 'henry' });
      await second.close();
    } finally {
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('failed-key lockout', () => {
  it('locks an address out after 10 wrong keys, says so, and leaves other addresses alone', async () => {
    h = await startHarness();
    const { secret } = h.addKey('ivan');
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => getFrom('127.0.0.1', `${h!.url}/api/tags`, { 'X-API-Key': `og_wrong_${i}` })));
    expect(statuses.filter((s) => s === 403).length).toBe(10);
    expect(statuses.filter((s) => s === 429).length).toBe(2);
    // Even the right key is not checked while locked out.
    const locked = await fetch(`${h.url}/api/tags`, { headers: { 'X-API-Key': secret } });
    expect(locked.status).toBe(429);
    expect((await locked.json()).error).toMatch(/too many failed API keys/);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(250);
    expect(h.logs.some((e) => e.error?.includes('locked out for 300 s'))).toBe(true);
    expect(await getFrom('127.0.0.2', `${h.url}/api/tags`, { 'X-API-Key': secret })).toBe(200);
  });
});

describe('key rotation', () => {
  it('gives a new secret to the same key: the old one stops at once, id, user and usage stay', async () => {
    h = await startHarness();
    const { id, secret } = h.addKey('judy');
    expect((await chat(h.url, secret)).status).toBe(200);
    const rotated = h.gate.keys.rotate(id);
    expect(rotated.key).toMatchObject({ id, user: 'judy' });
    expect(rotated.secret).not.toBe(secret);
    expect((await chat(h.url, secret)).status).toBe(403);
    const after = await chat(h.url, rotated.secret);
    expect(after.status).toBe(200);
    await h.waitForLog((e) => e.id === after.headers.get('x-request-id'));
    // The refused old secret belongs to no key any more; both good requests count for the same key.
    expect(h.gate.usage.query({ keyId: id })[0]!.requests).toBe(2);
  });
});

describe('request body logging', () => {
  it('logs no body by default, and a shortened one when turned on', async () => {
    h = await startHarness();
    const { secret } = h.addKey('kim');
    const long = 'x'.repeat(30) + 'y'.repeat(100) + 'z'.repeat(20);
    await chat(h.url, secret, 'llama3.2', long);
    expect((await h.waitForLog((e) => e.path === '/api/chat')).requestBody).toBeNull();
    await h.close();

    h = await startHarness({ settings: { logRequestBodies: true } });
    const second = h.addKey('kim');
    await chat(h.url, second.secret, 'llama3.2', long);
    const logged = (await h.waitForLog((e) => e.path === '/api/chat')).requestBody!;
    expect(logged).toContain('x'.repeat(30) + 'y'.repeat(20) + '…');
    expect(logged).toContain('…' + 'z'.repeat(20));
    expect(logged).not.toContain('y'.repeat(21));
    expect(logged).not.toContain(second.secret);
  });
});
