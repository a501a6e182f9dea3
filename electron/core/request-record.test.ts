/**
 * What a finished request's log entry says about who answered and which client asked, over real
 * sockets: the gate in front of the fake Ollama, driven by the real `ollama` client.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../../test/support/gate-harness.js';

let h: Harness;
let key: string;

beforeAll(async () => {
  h = await startHarness({ settings: { lockoutMaxFailures: 0 } });
  key = h.addKey('alice').secret;
});
afterAll(() => h.close());

const byId = (id: string | null) => h.waitForLog((entry) => entry.id === id);

describe('who answered', () => {
  it('an answer Ollama gave is Ollama’s, with the client that asked', async () => {
    const ollama = new Ollama({ host: h.url, headers: { Authorization: `Bearer ${key}` } });
    await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: false });
    const entry = await h.waitForLog((e) => e.path === '/api/chat' && e.status === 200);
    expect(entry).toMatchObject({ answeredBy: 'ollama', outcome: 'ok', decision: 'allowed', model: 'llama3.2' });
    expect(entry.client).toMatch(/^ollama-js\/\d+\.\d+/);
  });

  it('a 404 for a model Ollama does not have is Ollama’s refusal, not the gate’s', async () => {
    const ollama = new Ollama({ host: h.url, headers: { Authorization: `Bearer ${key}` } });
    await expect(ollama.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }], stream: false })).rejects.toThrow(/not found/);
    const entry = await h.waitForLog((e) => e.model === 'no-such-model');
    expect(entry).toMatchObject({ status: 404, answeredBy: 'ollama', decision: 'allowed', outcome: 'ok' });
  });

  it('a refusal the gate made itself is the gate’s: a wrong key, no key, and its own 404', async () => {
    const wrong = await fetch(`${h.url}/api/tags`, { headers: { Authorization: 'Bearer og_wrongwrongwrongwrongwrongwrong', 'User-Agent': 'curl/8.5.0' } });
    expect(wrong.status).toBe(403);
    expect(await byId(wrong.headers.get('x-request-id'))).toMatchObject({
      status: 403,
      answeredBy: 'gate',
      decision: 'denied',
      outcome: 'denied',
      client: 'curl/8.5.0',
    });

    const none = await fetch(`${h.url}/api/tags`);
    expect(await byId(none.headers.get('x-request-id'))).toMatchObject({ status: 401, answeredBy: 'gate', outcome: 'denied' });

    const hidden = await fetch(`${h.url}/debug/pprof/`, { headers: { Authorization: `Bearer ${key}` } });
    expect(hidden.status).toBe(404);
    expect(await byId(hidden.headers.get('x-request-id'))).toMatchObject({ status: 404, answeredBy: 'gate' });
  });

  it('the gate’s own routes are the gate’s', async () => {
    const health = await fetch(`${h.url}/health`);
    expect(await byId(health.headers.get('x-request-id'))).toMatchObject({ status: 200, answeredBy: 'gate', decision: 'public', outcome: 'ok' });
  });

  it('a key never reaches the log through the User-Agent', async () => {
    const res = await fetch(`${h.url}/api/tags`, { headers: { Authorization: `Bearer ${key}`, 'User-Agent': `leaky/1.0 (${key})` } });
    expect(res.status).toBe(200);
    const entry = await byId(res.headers.get('x-request-id'));
    expect(entry.client).toBe('leaky/1.0 ([redacted])');
    expect(JSON.stringify(entry)).not.toContain(key.slice(8));
  });
});

describe('what a client chooses stays bounded and keyless in the log', () => {
  it('a short imported key in the User-Agent is redacted too, not only generated ones', async () => {
    const seed = 'api-0123456789abcdef';
    h.gate.keys.importSecret(seed, 'seed-user');
    const res = await fetch(`${h.url}/api/tags`, { headers: { 'X-API-Key': seed, 'User-Agent': `script/2 apikey=${seed}` } });
    expect(res.status).toBe(200);
    const entry = await byId(res.headers.get('x-request-id'));
    expect(entry.client).toBe('script/2 apikey=[redacted]');
  });

  it('a model name of a megabyte is logged cut short, in the entry and in its reason', async () => {
    const limited = h.gate.keys.create({ user: 'bounded', models: ['llama3*'] }).secret;
    const model = `x${'a'.repeat(1_000_000)}`;
    const res = await fetch(`${h.url}/api/generate`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${limited}` },
      body: JSON.stringify({ model, prompt: 'hi' }),
    });
    expect(res.status).toBe(403);
    const entry = await byId(res.headers.get('x-request-id'));
    expect(entry.model!.length).toBeLessThanOrEqual(256);
    expect(entry.error!.length).toBeLessThanOrEqual(1_024);
    expect(JSON.stringify(entry).length).toBeLessThan(8_000);
  });
});

describe('when Ollama fails', () => {
  it('a 502 because Ollama cannot be reached is the gate’s answer, counted as an upstream error', async () => {
    const down = await startHarness({ upstream: 'http://127.0.0.1:9' });
    try {
      const secret = down.addKey('bob').secret;
      const res = await fetch(`${down.url}/api/tags`, { headers: { Authorization: `Bearer ${secret}` } });
      expect(res.status).toBe(502);
      const entry = await down.waitForLog((e) => e.id === res.headers.get('x-request-id'));
      expect(entry).toMatchObject({ answeredBy: 'gate', outcome: 'upstream_error', decision: 'allowed' });
    } finally {
      await down.close();
    }
  });

  it('a 500 Ollama sends is Ollama’s answer', async () => {
    const broken = createServer((_req, res) =>
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"llama runner process has terminated"}'),
    );
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    const upstream = await startHarness({ upstream: `http://127.0.0.1:${(broken.address() as AddressInfo).port}` });
    try {
      const secret = upstream.addKey('carol').secret;
      const res = await fetch(`${upstream.url}/api/generate`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${secret}` },
        body: '{"model":"llama3.2","prompt":"hi"}',
      });
      expect(res.status).toBe(500);
      const entry = await upstream.waitForLog((e) => e.id === res.headers.get('x-request-id'));
      expect(entry).toMatchObject({ status: 500, answeredBy: 'ollama', model: 'llama3.2' });
    } finally {
      await upstream.close();
      await new Promise((resolve) => broken.close(resolve));
    }
  });
});
