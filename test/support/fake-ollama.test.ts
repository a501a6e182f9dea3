/**
 * Tests of the fake Ollama itself, over real sockets (global fetch and node:http, no mocks).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOllama } from './fake-ollama.js';
import type { FakeOllama } from './fake-ollama.js';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** ms from sending the request to the response headers */
  headersAt: number;
  /** every 'data' event, with its arrival time in ms since the request was sent */
  chunks: Array<{ at: number; text: string }>;
  /** the connection died before the body was complete */
  aborted: boolean;
}

interface RawOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** node:http instead of fetch: it can set Host and shows how the bytes arrived. */
function rawRequest(base: string, path: string, options: RawOptions = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const since = (): number => performance.now() - startedAt;
    // Node sends no body framing for DELETE unless Content-Length is set
    const length = options.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(options.body)) };
    const headers = { ...length, ...options.headers };
    const req = http.request({ hostname, port, path, method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const headersAt = since();
      const chunks: RawResponse['chunks'] = [];
      let settled = false;
      const finish = (aborted: boolean): void => {
        if (settled) return;
        settled = true;
        const body = chunks.map((c) => c.text).join('');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, headersAt, chunks, aborted });
      };
      res.setEncoding('utf8');
      res.on('data', (text: string) => chunks.push({ at: since(), text }));
      res.on('end', () => finish(false));
      res.on('error', () => finish(true));
      res.on('close', () => finish(!res.complete));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const postJson = (base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> =>
  rawRequest(base, path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

const ndjson = (text: string): Array<Record<string, unknown>> =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** The JSON payloads of an SSE body, plus the raw `[DONE]` marker. */
const sseData = (text: string): string[] =>
  text
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => {
      expect(frame.startsWith('data: ')).toBe(true);
      return frame.slice('data: '.length);
    });

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

const CHAT = { model: 'llama3.2', messages: [{ role: 'user', content: 'Why is the sky blue?' }] };

// ---------------------------------------------------------------------------------------------

let fake: FakeOllama;

beforeEach(async () => {
  fake = await startFakeOllama();
});

afterEach(async () => {
  await fake.close();
});

describe('basic endpoints', () => {
  it('answers GET and HEAD / like Ollama', async () => {
    const get = await fetch(`${fake.url}/`);
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await get.text()).toBe('Ollama is running');

    const head = await rawRequest(fake.url, '/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('17');
    expect(head.body).toBe('');
  });

  it('reports the version, configurable', async () => {
    const res = await fetch(`${fake.url}/api/version`);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.text()).toBe('{"version":"0.12.6"}');

    const other = await startFakeOllama({ version: '0.5.7' });
    try {
      expect(await (await fetch(`${other.url}/api/version`)).json()).toEqual({ version: '0.5.7' });
    } finally {
      await other.close();
    }
  });

  it('lists the default models in /api/tags with Go key order', async () => {
    const res = await fetch(`${fake.url}/api/tags`);
    const body = (await res.json()) as { models: Array<Record<string, unknown>> };
    expect(body.models.map((m) => m['name'])).toEqual(['llama3.2:latest', 'qwen2.5:7b', 'all-minilm:latest']);
    const first = body.models[0] ?? {};
    expect(Object.keys(first)).toEqual(['name', 'model', 'modified_at', 'size', 'digest', 'details']);
    expect(first['digest']).toMatch(/^[0-9a-f]{64}$/);
    expect(first['details']).toMatchObject({ format: 'gguf', family: 'llama', parameter_size: '3.2B' });

    const head = await rawRequest(fake.url, '/api/tags', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
  });

  it('answers unknown paths with 404 and wrong methods with 405, as plain text', async () => {
    const missing = await fetch(`${fake.url}/api/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('text/plain');
    expect(await missing.text()).toBe('404 page not found');

    const wrongMethod = await fetch(`${fake.url}/api/chat`);
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.text()).toBe('405 method not allowed');
  });

  it('redirects a trailing slash like gin', async () => {
    const res = await rawRequest(fake.url, '/api/tags/');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('/api/tags');
  });

  it('shows, copies and deletes models with Ollama error messages', async () => {
    expect((await postJson(fake.url, '/api/show', {})).body).toBe('{"error":"model is required"}');
    const unknown = await postJson(fake.url, '/api/show', { model: 'nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toBe(`{"error":"model 'nope:latest' not found"}`);
    const shown = JSON.parse((await postJson(fake.url, '/api/show', { model: 'llama3.2' })).body) as Record<string, unknown>;
    expect(shown['capabilities']).toEqual(['completion']);

    const copied = await postJson(fake.url, '/api/copy', { source: 'llama3.2', destination: 'mine' });
    expect(copied.status).toBe(200);
    expect(copied.body).toBe('');

    const deleted = await rawRequest(fake.url, '/api/delete', { method: 'DELETE', body: JSON.stringify({ model: 'mine' }) });
    expect(deleted.status).toBe(200);
    expect(deleted.headers['content-length']).toBe('0');
    const again = await rawRequest(fake.url, '/api/delete', { method: 'DELETE', body: JSON.stringify({ model: 'mine' }) });
    expect(again.status).toBe(404);
    expect(again.body).toBe(`{"error":"model 'mine' not found"}`);
  });

  it('streams pull progress ending with success, or answers once with stream:false', async () => {
    const streamed = await postJson(fake.url, '/api/pull', { model: 'tinyllama' });
    expect(streamed.headers['content-type']).toBe('application/x-ndjson');
    const lines = ndjson(streamed.body);
    expect(lines[0]).toEqual({ status: 'pulling manifest' });
    expect(lines.at(-1)).toEqual({ status: 'success' });

    const single = await postJson(fake.url, '/api/pull', { model: 'tinyllama', stream: false });
    expect(single.headers['content-type']).toBe('application/json');
    expect(single.body).toBe('{"status":"success"}');
  });
});

describe('/api/chat and /api/generate', () => {
  it('streams chat NDJSON lines as separate chunks, honouring the delays', async () => {
    Object.assign(fake.behaviour, { firstByteDelayMs: 150, chunkDelayMs: 60, chunks: 3 });
    const res = await postJson(fake.url, '/api/chat', CHAT);

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    // headers only leave together with the first chunk
    expect(res.headersAt).toBeGreaterThanOrEqual(130);

    expect(res.chunks).toHaveLength(4);
    for (const chunk of res.chunks) expect(chunk.text.match(/\n/g)).toHaveLength(1);
    const first = res.chunks[0]?.at ?? 0;
    const last = res.chunks.at(-1)?.at ?? 0;
    expect(last - first).toBeGreaterThanOrEqual(150);

    const lines = ndjson(res.body);
    expect(Object.keys(lines[0] ?? {})).toEqual(['model', 'created_at', 'message', 'done']);
    expect(lines[0]).toMatchObject({ model: 'llama3.2', message: { role: 'assistant', content: 'The' }, done: false });
    expect(String(lines[0]?.['created_at'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    expect(Object.keys(lines[3] ?? {})).toEqual([
      'model',
      'created_at',
      'message',
      'done',
      'done_reason',
      'total_duration',
      'load_duration',
      'prompt_eval_count',
      'prompt_eval_duration',
      'eval_count',
      'eval_duration',
    ]);
    expect(lines[3]).toMatchObject({ done: true, done_reason: 'stop', message: { content: '' } });
  });

  it('answers stream:false with one JSON object and the content concatenated', async () => {
    const res = await postJson(fake.url, '/api/chat', { ...CHAT, stream: false });
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      message: { role: 'assistant', content: 'The sky is' },
      done: true,
      done_reason: 'stop',
      eval_count: 3,
    });
  });

  it('reports deterministic token counts, and usageFor matches the done chunk', async () => {
    fake.behaviour.chunks = 5;
    const res = await postJson(fake.url, '/api/chat', {
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Why is the sky blue?' },
      ],
    });
    const done = ndjson(res.body).at(-1) ?? {};
    expect(done['prompt_eval_count']).toBe(2 + 5 + 10);
    expect(done['eval_count']).toBe(5);

    const record = await fake.waitForRequest((r) => r.path === '/api/chat');
    expect(fake.usageFor(record)).toEqual({ promptTokens: done['prompt_eval_count'], completionTokens: done['eval_count'] });
  });

  it('streams generate chunks with `response` and counts prompt words', async () => {
    const res = await postJson(fake.url, '/api/generate', { model: 'qwen2.5:7b', prompt: 'one two three' });
    const lines = ndjson(res.body);
    expect(Object.keys(lines[0] ?? {})).toEqual(['model', 'created_at', 'response', 'done']);
    expect(lines.map((l) => l['response']).join('')).toBe('The sky is');
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop', prompt_eval_count: 13, eval_count: 3 });
  });

  it('answers an empty prompt or empty messages with a load response', async () => {
    const gen = JSON.parse((await postJson(fake.url, '/api/generate', { model: 'llama3.2' })).body) as unknown;
    expect(gen).toMatchObject({ model: 'llama3.2', response: '', done: true, done_reason: 'load' });
    const chat = JSON.parse((await postJson(fake.url, '/api/chat', { model: 'llama3.2', messages: [] })).body) as unknown;
    expect(chat).toMatchObject({ message: { role: 'assistant', content: '' }, done: true, done_reason: 'load' });
  });

  it('returns Ollama errors for missing/unknown models and bad bodies', async () => {
    const missingModel = await postJson(fake.url, '/api/chat', { messages: [] });
    expect([missingModel.status, missingModel.body]).toEqual([400, '{"error":"model is required"}']);

    const unknown = await postJson(fake.url, '/api/generate', { model: 'nope', prompt: 'hi' });
    expect([unknown.status, unknown.body]).toEqual([404, `{"error":"model 'nope' not found"}`]);

    const noBody = await rawRequest(fake.url, '/api/chat', { method: 'POST' });
    expect([noBody.status, noBody.body]).toEqual([400, '{"error":"missing request body"}']);

    const badJson = await rawRequest(fake.url, '/api/chat', { method: 'POST', body: 'not json' });
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body)).toEqual({ error: expect.stringContaining('invalid character') as unknown });
  });

  it('writes a mid-stream error line with status 200', async () => {
    fake.behaviour.midStreamError = 'model runner has unexpectedly stopped';
    const res = await postJson(fake.url, '/api/chat', CHAT);
    expect(res.status).toBe(200);
    const lines = ndjson(res.body);
    expect(lines).toHaveLength(4);
    expect(lines.at(-1)).toEqual({ error: 'model runner has unexpectedly stopped' });
  });

  it('can truncate the stream or destroy the socket', async () => {
    fake.behaviour.truncate = true;
    const truncated = await postJson(fake.url, '/api/chat', CHAT);
    expect(truncated.aborted).toBe(false);
    expect(ndjson(truncated.body).every((l) => l['done'] === false)).toBe(true);

    fake.reset();
    fake.behaviour.destroyAfterChunks = 2;
    const destroyed = await postJson(fake.url, '/api/chat', CHAT);
    expect(destroyed.aborted).toBe(true);
    expect(ndjson(destroyed.body)).toHaveLength(2);
    const record = await fake.waitForRequest((r) => r.path === '/api/chat');
    expect(record.clientAborted).toBe(false);
    expect(record.finished).toBe(false);
  });

  it('can coalesce lines into one write and split lines across writes', async () => {
    Object.assign(fake.behaviour, { coalesce: true, chunkDelayMs: 40, chunks: 3 });
    const coalesced = await postJson(fake.url, '/api/chat', CHAT);
    expect(coalesced.chunks.map((c) => c.text.split('\n').length - 1)).toEqual([2, 2]);

    fake.reset();
    Object.assign(fake.behaviour, { splitLines: true, chunkDelayMs: 40, chunks: 1 });
    const split = await postJson(fake.url, '/api/chat', CHAT);
    expect(split.chunks).toHaveLength(4);
    expect(split.chunks[0]?.text.endsWith('\n')).toBe(false);
    expect(ndjson(split.body)).toHaveLength(2);
  });

  it('detects a client that aborts mid-stream and stops writing', async () => {
    Object.assign(fake.behaviour, { chunks: 50, chunkDelayMs: 30 });
    const controller = new AbortController();
    const res = await fetch(`${fake.url}/api/chat`, { method: 'POST', body: JSON.stringify(CHAT), signal: controller.signal });
    const reader = res.body?.getReader();
    await reader?.read();
    controller.abort();
    await reader?.read().catch(() => undefined);

    const record = await fake.waitForRequest((r) => r.path === '/api/chat');
    const distance = await fake.waitForClientAbort(record, 2000);
    expect(distance).toBeGreaterThanOrEqual(0);
    expect(distance).toBeLessThan(2000);
    expect(record.clientAborted).toBe(true);
    expect(record.abortedAt).toBeTypeOf('number');
    expect(record.finished).toBe(false);
    expect(fake.usageFor(record)).toBeUndefined();
  });

  it('detects a client that gives up before the first byte (model still loading)', async () => {
    fake.behaviour.firstByteDelayMs = 5000;
    const controller = new AbortController();
    const pending = fetch(`${fake.url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'llama3.2', prompt: 'hi' }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    const record = await fake.waitForRequest((r) => r.path === '/api/generate');
    setTimeout(() => controller.abort(), 50);
    expect(await fake.waitForClientAbort(record, 2000)).toBeGreaterThanOrEqual(0);
    expect(await pending).toBeInstanceOf(Error);
    expect(record.status).toBeUndefined();
  });

  it('rejects waitForClientAbort when the client stays', async () => {
    await postJson(fake.url, '/api/chat', CHAT);
    const record = await fake.waitForRequest();
    expect(record.finished).toBe(true);
    await expect(fake.waitForClientAbort(record, 100)).rejects.toThrow(/not aborted/);
  });
});

describe('Host and Origin checks', () => {
  it('rejects a non-local Host with an empty 403, accepts local ones', async () => {
    const rejected = await rawRequest(fake.url, '/api/tags', { headers: { Host: 'gate.example.com:8080' } });
    expect(rejected.status).toBe(403);
    expect(rejected.headers['content-length']).toBe('0');
    expect(rejected.body).toBe('');

    const localHosts = ['localhost:11434', '127.0.0.1:11434', '[::1]:11434', 'box.local', 'host.docker.internal', '192.168.1.20'];
    for (const host of localHosts) {
      expect((await rawRequest(fake.url, '/api/tags', { headers: { Host: host } })).status, host).toBe(200);
    }
  });

  it('skips the Host check when disabled', async () => {
    const open = await startFakeOllama({ hostCheck: false });
    try {
      expect((await rawRequest(open.url, '/api/tags', { headers: { Host: 'gate.example.com' } })).status).toBe(200);
    } finally {
      await open.close();
    }
  });

  it('rejects a foreign Origin with an empty 403 and allows the defaults', async () => {
    const rejected = await rawRequest(fake.url, '/api/tags', { headers: { Origin: 'https://evil.example' } });
    expect(rejected.status).toBe(403);
    expect(rejected.headers['content-length']).toBe('0');
    expect(rejected.body).toBe('');

    const allowed = await rawRequest(fake.url, '/api/tags', { headers: { Origin: 'http://localhost:5173' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(allowed.headers['vary']).toBe('Origin');

    const preflight = await rawRequest(fake.url, '/api/chat', {
      method: 'OPTIONS',
      headers: { Origin: 'app://ollama', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-max-age']).toBe('43200');
    expect(preflight.headers['access-control-allow-headers']).toContain('Authorization');
  });

  it('honours custom allowed origins', async () => {
    const custom = await startFakeOllama({ allowedOrigins: ['https://*.example.org'] });
    try {
      expect((await rawRequest(custom.url, '/', { headers: { Origin: 'https://app.example.org' } })).status).toBe(200);
      expect((await rawRequest(custom.url, '/', { headers: { Origin: 'http://localhost' } })).status).toBe(403);
    } finally {
      await custom.close();
    }
  });
});

describe('blobs', () => {
  const data = Buffer.from('GGUF fake model weights '.repeat(1000));
  const digest = `sha256:${sha256(data)}`;

  it('accepts an upload whose hash matches, without keeping the body', async () => {
    expect((await rawRequest(fake.url, `/api/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);

    const created = await rawRequest(fake.url, `/api/blobs/${digest}`, { method: 'POST', body: data });
    expect(created.status).toBe(201);
    expect((await rawRequest(fake.url, `/api/blobs/${digest}`, { method: 'HEAD' })).status).toBe(200);

    const record = await fake.waitForRequest((r) => r.method === 'POST' && r.path.startsWith('/api/blobs/'));
    expect(record.body.length).toBe(0);
    expect(record.bodyLength).toBe(data.length);
    expect(record.bodySha256).toBe(sha256(data));
  });

  it('rejects a digest mismatch and a malformed digest', async () => {
    const other = `sha256:${sha256('something else')}`;
    const mismatch = await rawRequest(fake.url, `/api/blobs/${other}`, { method: 'POST', body: data });
    expect(mismatch.status).toBe(400);
    expect(JSON.parse(mismatch.body)).toEqual({ error: `digest mismatch, expected "${other}", got "${digest}"` });

    const malformed = await rawRequest(fake.url, '/api/blobs/sha256:abc', { method: 'HEAD' });
    expect(malformed.status).toBe(400);
  });
});

describe('OpenAI-compatible /v1', () => {
  const request = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hello there' }], stream: true };

  it('streams SSE in the v0.32.6 format, ending with [DONE], without usage by default', async () => {
    const res = await postJson(fake.url, '/v1/chat/completions', request);
    expect(res.headers['content-type']).toBe('text/event-stream');
    const frames = sseData(res.body);
    expect(frames.at(-1)).toBe('[DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f) as { choices: Array<Record<string, unknown>>; usage?: unknown });
    expect(chunks).toHaveLength(4);
    expect(chunks[0]?.choices[0]?.['delta']).toEqual({ role: 'assistant', content: 'The' });
    expect(chunks[1]?.choices[0]?.['delta']).toEqual({ content: ' sky' });
    expect(chunks[3]?.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'stop' });
    expect(chunks.some((c) => c.usage !== undefined)).toBe(false);

    const record = await fake.waitForRequest((r) => r.path === '/v1/chat/completions');
    expect(fake.usageFor(record)).toBeUndefined();
  });

  it('adds a usage chunk only when stream_options.include_usage is set', async () => {
    const res = await postJson(fake.url, '/v1/chat/completions', { ...request, stream_options: { include_usage: true } });
    const frames = sseData(res.body);
    expect(frames.at(-1)).toBe('[DONE]');
    const usageChunk = JSON.parse(frames.at(-2) ?? '{}') as Record<string, unknown>;
    expect(usageChunk['choices']).toEqual([]);
    expect(usageChunk['usage']).toEqual({ prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 });

    const record = await fake.waitForRequest((r) => r.path === '/v1/chat/completions');
    expect(fake.usageFor(record)).toEqual({ promptTokens: 12, completionTokens: 3 });
  });

  it('answers non-stream chat completions with a trailing newline', async () => {
    const res = await postJson(fake.url, '/v1/chat/completions', { ...request, stream: false });
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body.endsWith('}\n')).toBe(true);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['id', 'object', 'created', 'model', 'system_fingerprint', 'choices', 'usage']);
    expect(body['choices']).toEqual([{ index: 0, message: { role: 'assistant', content: 'The sky is' }, finish_reason: 'stop' }]);
  });

  it('uses OpenAI-shaped errors', async () => {
    const unknown = await postJson(fake.url, '/v1/chat/completions', { ...request, model: 'nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toBe(`{"error":{"message":"model 'nope' not found","type":"not_found_error","param":null,"code":null}}\n`);
    const empty = await postJson(fake.url, '/v1/chat/completions', { model: 'llama3.2', messages: [] });
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.body)).toMatchObject({
      error: { message: "[] is too short - 'messages'", type: 'invalid_request_error' },
    });
  });

  it('lists and retrieves models', async () => {
    const list = (await (await fetch(`${fake.url}/v1/models`)).json()) as {
      object: string;
      data: Array<Record<string, unknown>>;
    };
    expect(list.object).toBe('list');
    expect(list.data[0]).toMatchObject({ id: 'llama3.2:latest', object: 'model', owned_by: 'library' });

    const one = await fetch(`${fake.url}/v1/models/qwen2.5:7b`);
    expect(await one.json()).toMatchObject({ id: 'qwen2.5:7b', object: 'model' });
    const missing = await fetch(`${fake.url}/v1/models/nope`);
    expect(missing.status).toBe(404);

    const empty = await startFakeOllama({ models: [] });
    try {
      expect(await (await fetch(`${empty.url}/v1/models`)).text()).toBe('{"object":"list","data":null}\n');
    } finally {
      await empty.close();
    }
  });

  it('computes deterministic embeddings', async () => {
    const openAi = await postJson(fake.url, '/v1/embeddings', { model: 'all-minilm', input: 'hello world' });
    const first = JSON.parse(openAi.body) as {
      data: Array<{ embedding: number[] }>;
      usage: unknown;
    };
    const second = JSON.parse((await postJson(fake.url, '/api/embed', { model: 'all-minilm', input: ['hello world'] })).body) as {
      embeddings: number[][];
    };
    expect(first.data[0]?.embedding).toHaveLength(8);
    expect(second.embeddings[0]).toEqual(first.data[0]?.embedding);
    expect(first.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
  });
});

describe('recording', () => {
  it('records method, url, headers, body and hash', async () => {
    const body = JSON.stringify({ ...CHAT, stream: false });
    await rawRequest(fake.url, '/api/chat?trace=1', {
      method: 'POST',
      headers: { 'X-Api-Key': 'secret', 'Content-Type': 'application/json' },
      body,
    });
    const record = await fake.waitForRequest();
    expect(record).toMatchObject({
      id: 1,
      method: 'POST',
      url: '/api/chat?trace=1',
      path: '/api/chat',
      finished: true,
      clientAborted: false,
      status: 200,
    });
    expect(record.query.get('trace')).toBe('1');
    expect(record.headers['x-api-key']).toBe('secret');
    expect(record.rawHeaders).toContain('X-Api-Key');
    expect(record.body.toString()).toBe(body);
    expect(record.bodyLength).toBe(Buffer.byteLength(body));
    expect(record.bodySha256).toBe(sha256(body));
    expect(record.json).toEqual(JSON.parse(body));
  });

  it('waits for future requests, tracks connections, and resets', async () => {
    const waiting = fake.waitForRequest((r) => r.path === '/api/ps');
    await fetch(`${fake.url}/api/ps`);
    expect((await waiting).method).toBe('GET');
    expect(fake.openConnections()).toBeGreaterThanOrEqual(0);

    Object.assign(fake.behaviour, { chunks: 9, coalesce: true, midStreamError: 'x' });
    fake.reset();
    expect(fake.requests).toHaveLength(0);
    expect(fake.behaviour).toEqual({
      firstByteDelayMs: 0,
      chunkDelayMs: 0,
      chunks: 3,
      coalesce: false,
      splitLines: false,
      truncate: false,
    });
    await expect(fake.waitForRequest(() => false, 50)).rejects.toThrow(/no matching request/);
  });

  it('counts open TCP connections', async () => {
    Object.assign(fake.behaviour, { firstByteDelayMs: 300 });
    const pending = postJson(fake.url, '/api/chat', CHAT);
    await fake.waitForRequest((r) => r.path === '/api/chat');
    expect(fake.openConnections()).toBe(1);
    await pending;
  });
});
