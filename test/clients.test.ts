import { ChatOllama, OllamaEmbeddings } from '@langchain/ollama';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/gate-harness.js';

/** The real npm clients people point at the gate, unchanged, the way their docs say to pass a key. */
describe('real clients through the gate', () => {
  let h: Harness;
  let secret: string;

  beforeAll(async () => {
    h = await startHarness();
    secret = h.addKey('alice').secret;
  });
  afterAll(() => h.close());
  afterEach(() => h.fake.reset());

  describe('ollama-js', () => {
    it('streams a chat with a Bearer key, part by part, and lists models', async () => {
      h.fake.behaviour.chunks = 4;
      const ollama = new Ollama({ host: h.url, headers: { Authorization: `Bearer ${secret}` } });
      const parts: string[] = [];
      let done = false;
      for await (const part of await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'Why is the sky blue?' }], stream: true })) {
        parts.push(part.message.content);
        done = part.done;
      }
      expect(parts.length).toBe(5);
      expect(done).toBe(true);
      const { models } = await ollama.list();
      expect(models.map((m) => m.name)).toContain('llama3.2:latest');
      for (const request of h.fake.requests) expect(request.headers.authorization).toBeUndefined();
    });

    it("shows the gate's reason for a missing or wrong key as a ResponseError", async () => {
      const anonymous = new Ollama({ host: h.url });
      await expect(anonymous.list()).rejects.toMatchObject({ name: 'ResponseError', status_code: 401, error: expect.stringContaining('API key required') });
      const wrong = new Ollama({ host: h.url, headers: { Authorization: 'Bearer og_wrong' } });
      await expect(wrong.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true })).rejects.toMatchObject({
        status_code: 403,
        error: 'invalid API key',
      });
      expect(h.fake.requests).toHaveLength(0);
    });

    it('aborts generation upstream when the client aborts its stream', async () => {
      Object.assign(h.fake.behaviour, { chunks: 100, chunkDelayMs: 50 });
      const ollama = new Ollama({ host: h.url, headers: { 'X-API-Key': secret } });
      const stream = await ollama.generate({ model: 'llama3.2', prompt: 'tell me a long story', stream: true });
      const seen = await h.fake.waitForRequest((r) => r.path === '/api/generate');
      let received = 0;
      await expect(
        (async () => {
          for await (const _ of stream) {
            if (++received === 2) stream.abort();
          }
        })(),
      ).rejects.toMatchObject({ name: 'AbortError' });
      expect(await h.fake.waitForClientAbort(seen, 250)).toBeLessThan(250);
    });
  });

  describe('OpenAI SDK against /v1', () => {
    it('completes and streams a chat with its apiKey, usage included', async () => {
      const client = new OpenAI({ apiKey: secret, baseURL: `${h.url}/v1` });
      const completion = await client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hello' }] });
      expect(completion.choices[0]?.message.content).toBeTruthy();
      const stream = await client.chat.completions.create({
        model: 'llama3.2',
        messages: [{ role: 'user', content: 'hello' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        usage = chunk.usage ?? usage;
      }
      expect(text.length).toBeGreaterThan(0);
      expect(usage?.total_tokens).toBeGreaterThan(0);
    });

    it('gets a readable, non-retried error for a wrong key', async () => {
      const client = new OpenAI({ apiKey: 'og_wrong', baseURL: `${h.url}/v1` });
      const before = h.logs.length;
      const error = await client.models.list().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect((error as Error).message).toBe('403 invalid API key');
      // 403 is not a status the SDK retries: exactly one attempt reached the gate.
      await h.waitForLog(() => h.logs.length > before);
      expect(h.logs.length - before).toBe(1);
      expect(h.fake.requests).toHaveLength(0);
    });
  });

  describe('LangChain JS (@langchain/ollama)', () => {
    it('invokes ChatOllama and embeds with the key in headers', async () => {
      const chat = new ChatOllama({ model: 'llama3.2', baseUrl: h.url, headers: { 'X-API-Key': secret } });
      const message = await chat.invoke('Say hi');
      expect(typeof message.content).toBe('string');
      expect((message.content as string).length).toBeGreaterThan(0);
      const embeddings = new OllamaEmbeddings({ model: 'all-minilm', baseUrl: h.url, headers: { 'X-API-Key': secret } });
      const vector = await embeddings.embedQuery('hello');
      expect(vector.length).toBeGreaterThan(0);
      const chatRequest = h.fake.requests.find((r) => r.path === '/api/chat')!;
      expect(chatRequest.headers['x-api-key']).toBeUndefined();
    });

    it('works without any key after POST /auth from the same IP, and stops when the session is revoked', async () => {
      const auth = await fetch(`${h.url}/auth`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ api_key: secret }) });
      expect(await auth.json()).toMatchObject({ status: 'success', user: 'alice', expires_in: 3600 });
      const chat = new ChatOllama({ model: 'llama3.2', baseUrl: h.url });
      const message = await chat.invoke('Say hi');
      expect((message.content as string).length).toBeGreaterThan(0);
      const entry = await h.waitForLog((e) => e.path === '/api/chat' && e.keySource === 'session');
      expect(entry.user).toBe('alice');

      h.gate.sessions.revoke('127.0.0.1');
      await expect(chat.invoke('again')).rejects.toThrow(/API key required/);
    });
  });
});
