/**
 * Several Ollamas behind one gate: each a faithful fake on its own port with its own models,
 * loaded models and failures; the real npm clients unchanged; what each fake *received* checked.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChatOllama } from '@langchain/ollama';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BackendSetting } from '../electron/shared/contract.js';
import { type FakeOllama, type FakeModel, startFakeOllama } from './support/fake-ollama.js';
import { type Harness, startHarness } from './support/gate-harness.js';

const model = (name: string): FakeModel => ({ name, size: 1_000_000, family: 'llama', parameterSize: '1B', quantization: 'Q4_K_M' });

/** default: llama3.2 and qwen2.5:7b; big: llama3.2 and qwen2.5:72b; small: phi3 */
const DEFAULT_MODELS = [model('llama3.2:latest'), model('qwen2.5:7b')];
const BIG_MODELS = [model('llama3.2:latest'), model('qwen2.5:72b')];
const SMALL_MODELS = [model('phi3:latest')];

describe('several Ollamas behind one gate', () => {
  let h: Harness;
  let big: FakeOllama;
  let small: FakeOllama;
  let full: string;
  let inference: string;
  let limited: string;
  const fakes = () => ({ default: h.fake, big, small });

  const backends = (): BackendSetting[] => [
    { name: 'big', url: big.url, enabled: true, weight: 1 },
    { name: 'small', url: small.url, enabled: true, weight: 1 },
  ];

  /** Probes every backend now, as the health monitors do every few seconds. */
  const probeAll = () => Promise.all(h.gate.backends.all().map((b) => b.monitor.check()));

  /** Which fakes got a request for `path` (health probes are GETs of version, tags and ps: never these paths). */
  const receivers = (path: string) =>
    Object.entries(fakes())
      .filter(([, fake]) => fake.requests.some((r) => r.path === path))
      .map(([name]) => name);

  const post = (path: string, body: unknown, secret: string, headers: Record<string, string> = {}) =>
    fetch(`${h.url}${path}`, { method: 'POST', headers: { 'x-api-key': secret, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  beforeAll(async () => {
    big = await startFakeOllama({ models: BIG_MODELS });
    small = await startFakeOllama({ models: SMALL_MODELS });
    h = await startHarness({ fake: { models: DEFAULT_MODELS }, settings: { backends: [] } });
    full = h.gate.keys.create({ user: 'ops', scope: 'full' }).secret;
    inference = h.addKey('alice').secret;
    limited = h.gate.keys.create({ user: 'bob', scope: 'inference', models: ['qwen2.5:*'] }).secret;
  });
  afterAll(async () => {
    await h.close();
    await big.close();
    await small.close();
  });
  afterEach(() => {
    for (const fake of Object.values(fakes())) fake.reset();
  });

  /** A gate with the three backends, probed; `settings` replaced for the test. */
  async function withBackends(list = backends()): Promise<void> {
    h.settings.backends = list;
    await probeAll();
  }

  it('sends each model to the backend that has it, and a request naming none to the default', async () => {
    await withBackends();
    const chats = await Promise.all(
      ['qwen2.5:72b', 'phi3', 'qwen2.5:7b'].map(async (name) => {
        const res = await post('/api/chat', { model: name, messages: [{ role: 'user', content: 'hi' }], stream: false }, inference);
        return [name, res.status, (await h.waitForLog((e) => e.id === res.headers.get('x-request-id'))).backend];
      }),
    );
    expect(chats).toEqual([
      ['qwen2.5:72b', 200, 'big'],
      ['phi3', 200, 'small'],
      ['qwen2.5:7b', 200, 'default'],
    ]);
    expect(big.requests.filter((r) => r.path === '/api/chat').map((r) => (r.json as { model: string }).model)).toEqual(['qwen2.5:72b']);
    expect(small.requests.filter((r) => r.path === '/api/chat').map((r) => (r.json as { model: string }).model)).toEqual(['phi3']);

    const version = await fetch(`${h.url}/api/version`, { headers: { 'x-api-key': inference } });
    expect(version.status).toBe(200);
    expect((await h.waitForLog((e) => e.path === '/api/version')).backend).toBe('default');
    // The OpenAI model route names its model in the path.
    const one = await fetch(`${h.url}/v1/models/phi3`, { headers: { authorization: `Bearer ${inference}` } });
    expect(one.status).toBe(200);
    expect(receivers('/v1/models/phi3')).toEqual(['small']);
  });

  it('prefers the backend that has the model loaded, then the one with fewer requests in flight', async () => {
    await withBackends();
    // llama3.2 is on the default and on big; big has it loaded after one use there.
    const pinned = await post('/api/generate', { model: 'llama3.2', prompt: 'warm up', stream: false }, inference, { 'X-Gate-Backend': 'big' });
    expect(pinned.status).toBe(200);
    await probeAll();
    expect(h.gate.backends.byName('big')!.hasLoaded('llama3.2')).toBe(true);
    big.reset();
    const res = await post('/api/generate', { model: 'llama3.2', prompt: 'hi', stream: false }, inference);
    expect(res.status).toBe(200);
    expect(receivers('/api/generate')).toEqual(['big']);

    // Both loaded now: while big is busy with a slow answer, the next goes to the default.
    await post('/api/generate', { model: 'llama3.2', prompt: 'load it here too', stream: false }, inference, { 'X-Gate-Backend': 'default' });
    await probeAll();
    for (const fake of Object.values(fakes())) fake.reset();
    big.behaviour.firstByteDelayMs = 400;
    const slow = post('/api/generate', { model: 'llama3.2', prompt: 'slow', stream: false }, inference, { 'X-Gate-Backend': 'big' });
    await big.waitForRequest((r) => r.path === '/api/generate');
    const quick = await post('/api/generate', { model: 'llama3.2', prompt: 'quick', stream: false }, inference);
    expect(quick.status).toBe(200);
    expect(h.fake.requests.filter((r) => r.path === '/api/generate')).toHaveLength(1);
    expect((await slow).status).toBe(200);
  });

  it('answers a model no backend has with Ollama\u2019s own 404 from the default', async () => {
    await withBackends();
    const res = await post('/api/chat', { model: 'nobody-has-this', messages: [], stream: false }, inference);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "model 'nobody-has-this' not found" });
    expect(receivers('/api/chat')).toEqual(['default']);
    const entry = await h.waitForLog((e) => e.id === res.headers.get('x-request-id'));
    expect([entry.backend, entry.answeredBy]).toEqual(['default', 'ollama']);
  });

  it('merges /api/tags, /api/ps and /v1/models from every backend, each model once, cut to the key\u2019s allow-list', async () => {
    await withBackends();
    const tags = (await (await fetch(`${h.url}/api/tags`, { headers: { 'x-api-key': inference } })).json()) as { models: Array<{ name: string }> };
    expect(tags.models.map((m) => m.name)).toEqual(['llama3.2:latest', 'qwen2.5:7b', 'qwen2.5:72b', 'phi3:latest']);
    const mine = (await (await fetch(`${h.url}/api/tags`, { headers: { 'x-api-key': limited } })).json()) as { models: Array<{ name: string }> };
    expect(mine.models.map((m) => m.name)).toEqual(['qwen2.5:7b', 'qwen2.5:72b']);
    const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: limited });
    expect((await openai.models.list()).data.map((m) => m.id)).toEqual(['qwen2.5:7b', 'qwen2.5:72b']);
    await post('/api/generate', { model: 'phi3', prompt: 'load', stream: false }, inference);
    const ps = (await (await fetch(`${h.url}/api/ps`, { headers: { 'x-api-key': inference } })).json()) as { models: Array<{ name: string }> };
    expect(ps.models.map((m) => m.name)).toEqual(['phi3:latest']);
    const entry = await h.waitForLog((e) => e.path === '/api/ps');
    expect([entry.backend, entry.status, entry.answeredBy]).toEqual(['all', 200, 'ollama']);
    for (const fake of Object.values(fakes())) expect(fake.requests.filter((r) => r.path === '/api/tags').length).toBeGreaterThanOrEqual(1);
  });

  it('knows and merges a backend with thousands of models (a model list of megabytes)', async () => {
    const models = Array.from({ length: 6_000 }, (_, i) => ({ name: `hf.co/some-org/a-model-with-a-long-name-${i}:Q4_K_M`, size: 1_000 + i }));
    const shelf = await startFakeOllama({ models });
    try {
      await withBackends([{ name: 'shelf', url: shelf.url, enabled: true, weight: 1 }]);
      const last = 'hf.co/some-org/a-model-with-a-long-name-5999:Q4_K_M';
      expect((await post('/api/generate', { model: last, prompt: 'hi', stream: false }, inference)).status).toBe(200);
      expect(shelf.requests.filter((r) => r.path === '/api/generate')).toHaveLength(1);
      const tags = (await (await fetch(`${h.url}/api/tags`, { headers: { 'x-api-key': inference } })).json()) as { models: Array<{ name: string }> };
      expect(tags.models).toHaveLength(6_000 + DEFAULT_MODELS.length);
      expect(tags.models.some((m) => m.name === last)).toBe(true);
    } finally {
      await shelf.close();
    }
  });

  it('X-Gate-Backend sends a pull to that backend (never forwarding the header), whose models the gate then knows; an unknown name gets 400', async () => {
    await withBackends();
    const pull = await post('/api/pull', { model: 'mistral', stream: false }, full, { 'X-Gate-Backend': 'small' });
    expect(pull.status).toBe(200);
    expect(receivers('/api/pull')).toEqual(['small']);
    for (const request of small.requests) expect(request.headers['x-gate-backend']).toBeUndefined();
    // The pull's success makes the gate look at small's models again: mistral now routes there.
    await expect.poll(() => h.gate.backends.byName('small')!.has('mistral'), { timeout: 2_000 }).toBe(true);
    const chat = await post('/api/chat', { model: 'mistral', messages: [{ role: 'user', content: 'hi' }], stream: false }, inference);
    expect(chat.status).toBe(200);
    expect(receivers('/api/chat')).toEqual(['small']);

    // Without the header, changing models happens on the default, even for a model only another has.
    const deleted = await fetch(`${h.url}/api/delete`, { method: 'DELETE', headers: { 'x-api-key': full }, body: JSON.stringify({ model: 'phi3' }) });
    expect(deleted.status).toBe(404);
    expect(receivers('/api/delete')).toEqual(['default']);
    const removed = await fetch(`${h.url}/api/delete`, {
      method: 'DELETE',
      headers: { 'x-api-key': full, 'x-gate-backend': 'small' },
      body: JSON.stringify({ model: 'phi3' }),
    });
    expect(removed.status).toBe(200);
    expect(receivers('/api/delete')).toEqual(['default', 'small']);

    const unknown = await post('/api/pull', { model: 'mistral', stream: false }, full, { 'X-Gate-Backend': 'nope' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toBe('X-Gate-Backend names no backend in use: "nope" (in use: default, big, small)');
    // Policy is decided before a backend is chosen: an inference key cannot pull anywhere.
    const refused = await post('/api/pull', { model: 'mistral' }, inference, { 'X-Gate-Backend': 'big' });
    expect(refused.status).toBe(403);
    expect(receivers('/api/pull')).toEqual(['small']);
  });

  it('retries once elsewhere when a backend refuses the connection before answering, and skips it until a probe finds it again', async () => {
    const spare = await startFakeOllama({ models: [model('phi3:latest')] });
    try {
      await withBackends([...backends(), { name: 'spare', url: spare.url, enabled: true, weight: 50 }]);
      const sparePort = spare.port;
      // spare (the heavier) is chosen for phi3, but has died since its last probe.
      await spare.close();
      const res = await post('/api/chat', { model: 'phi3', messages: [{ role: 'user', content: 'hi' }], stream: false }, inference);
      expect(res.status).toBe(200);
      expect(receivers('/api/chat')).toEqual(['small']);
      const entry = await h.waitForLog((e) => e.id === res.headers.get('x-request-id'));
      expect(entry.backend).toBe('small');
      expect(h.gate.backends.byName('spare')!.skipped).toBe(true);
      // Back where it was: the next good probe lets it take requests again.
      const back = await startFakeOllama({ models: [model('phi3:latest')], port: sparePort });
      try {
        await probeAll();
        expect(h.gate.backends.byName('spare')!.skipped).toBe(false);
        // Loaded there too (small has phi3 loaded from the retry), the heavier takes it again.
        await post('/api/generate', { model: 'phi3', prompt: 'load', stream: false }, inference, { 'X-Gate-Backend': 'spare' });
        await probeAll();
        small.reset();
        expect((await post('/api/chat', { model: 'phi3', messages: [], stream: false }, inference)).status).toBe(200);
        expect(back.requests.filter((r) => r.path === '/api/chat')).toHaveLength(1);
        expect(small.requests.filter((r) => r.path === '/api/chat')).toHaveLength(0);
      } finally {
        await back.close();
      }
    } finally {
      await spare.close().catch(() => undefined);
    }
  });

  it('never repeats output: a backend dying mid-stream ends the stream as with one Ollama, and nothing is retried', async () => {
    await withBackends();
    Object.assign(small.behaviour, { chunks: 10, chunkDelayMs: 20, destroyAfterChunks: 2 });
    const res = await post('/api/chat', { model: 'phi3', messages: [{ role: 'user', content: 'hi' }], stream: true }, inference);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    const entry = await h.waitForLog((e) => e.id === res.headers.get('x-request-id'));
    expect([entry.backend, entry.outcome]).toEqual(['small', 'upstream_error']);
    expect(receivers('/api/chat')).toEqual(['small']);
  });

  it('lists every backend in /health, and keeps policy whichever backend would answer', async () => {
    await withBackends();
    const health = (await (await fetch(`${h.url}/health`)).json()) as {
      status: string;
      backends: Array<Record<string, unknown>>;
    };
    expect(health.status).toBe('ok');
    expect(health.backends.map((b) => [b.name, b.default, b.reachable, b.models, b.version])).toEqual([
      ['default', true, true, 2, '0.12.6'],
      ['big', false, true, 2, '0.12.6'],
      ['small', false, true, 1, '0.12.6'],
    ]);
    // /health answers anyone: no backend's address in it.
    for (const fake of [h.fake, big, small]) expect(JSON.stringify(health.backends)).not.toContain(String(fake.port));
    // bob may use qwen2.5:* only: phi3 on small is refused before any backend is asked.
    const refused = await post('/api/chat', { model: 'phi3', messages: [] }, limited);
    expect(refused.status).toBe(403);
    expect(receivers('/api/chat')).toEqual([]);
    await small.close();
    try {
      const degraded = await fetch(`${h.url}/health`);
      // Within the second /health caches its probes for, small may still look up; past it, it is down.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const after = (await (await fetch(`${h.url}/health`)).json()) as { status: string; backends: Array<{ name: string; reachable: boolean }> };
      expect(degraded.status).toBe(200);
      expect(after.status).toBe('degraded');
      expect(after.backends.find((b) => b.name === 'small')?.reachable).toBe(false);
    } finally {
      small = await startFakeOllama({ models: SMALL_MODELS, port: small.port });
    }
  });

  it('serves the real clients unchanged: ollama-js, openai and LangChain reach the backend that has their model', async () => {
    await withBackends();
    const ollama = new Ollama({ host: h.url, headers: { Authorization: `Bearer ${inference}` } });
    const parts: string[] = [];
    for await (const part of await ollama.chat({ model: 'phi3', messages: [{ role: 'user', content: 'hi' }], stream: true })) parts.push(part.message.content);
    expect(parts.length).toBeGreaterThan(1);
    expect((await ollama.list()).models.map((m) => m.name)).toEqual(['llama3.2:latest', 'qwen2.5:7b', 'qwen2.5:72b', 'phi3:latest']);

    const openai = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: inference });
    const completion = await openai.chat.completions.create({ model: 'qwen2.5:72b', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]?.message.content).toBeTruthy();

    const chat = new ChatOllama({ baseUrl: h.url, model: 'phi3', headers: { 'X-API-Key': inference } });
    const answer = await chat.invoke('hi');
    expect(String(answer.content).length).toBeGreaterThan(0);

    expect(receivers('/api/chat')).toEqual(['small']);
    expect(receivers('/v1/chat/completions')).toEqual(['big']);
    for (const fake of Object.values(fakes())) for (const request of fake.requests) expect(JSON.stringify(request.headers)).not.toContain(inference);
    const usage = h.gate.usage.query({}).find((row) => row.user === 'alice');
    expect(usage?.backends).toMatchObject({ small: expect.any(Number), big: expect.any(Number) });
  });
});

/**
 * An Ollama whose answers a test scripts: version, tags and ps for the gate's probes, and `handle`
 * for anything else. `open` holds the requests still waiting for an answer.
 */
async function scriptedOllama(models: string[], handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const open = new Set<IncomingMessage>();
  const server = createServer((req, res) => {
    open.add(req);
    res.on('close', () => open.delete(req));
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/api/version') return json({ version: '0.12.6' });
    if (req.url === '/api/ps') return json({ models: [] });
    if (req.url === '/api/tags' && !scripted.holdLists) return json({ models: models.map((name) => ({ name, model: name, size: 1 })) });
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const scripted = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    open,
    /** when set, /api/tags gets no answer at all */
    holdLists: false,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return scripted;
}

describe('several Ollamas, tried as an attacker would', () => {
  let h: Harness;
  let inference: string;
  let full: string;
  const probeAll = () => Promise.all(h.gate.backends.all().map((b) => b.monitor.check()));
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    h = await startHarness({ fake: { models: DEFAULT_MODELS }, settings: { backends: [] }, exposureAddresses: () => ['127.0.0.2'] });
    inference = h.addKey('alice').secret;
    full = h.gate.keys.create({ user: 'ops', scope: 'full', concurrency: 1 }).secret;
  });
  afterAll(() => h.close());
  afterEach(async () => {
    h.settings.backends = [];
    h.fake.reset();
    for (const close of closers.splice(0)) await close();
  });

  it('a backend that fails is named, not addressed, in what a key holder gets: its URL stays in the settings', async () => {
    const dead = await startFakeOllama({ models: [model('phi3:latest')] });
    const deadUrl = dead.url;
    await dead.close();
    h.settings.backends = [{ name: 'lab', url: deadUrl, enabled: true, weight: 1 }];
    await probeAll();
    const pinned = await fetch(`${h.url}/api/version`, { headers: { 'X-API-Key': inference, 'X-Gate-Backend': 'lab' } });
    expect(pinned.status).toBe(502);
    const { error } = (await pinned.json()) as { error: string };
    expect(error).toContain('backend "lab"');
    expect(error).not.toContain(new URL(deadUrl).host);
    const entry = await h.waitForLog((e) => e.id === pinned.headers.get('x-request-id'));
    expect(entry.error).not.toContain(new URL(deadUrl).host);
  });

  it('a client that leaves a merged model list ends the backends\u2019 requests too, and frees its slot', async () => {
    const slow = await scriptedOllama(['phi3:latest'], () => undefined);
    closers.push(slow.close);
    h.settings.backends = [{ name: 'slow', url: slow.url, enabled: true, weight: 1 }];
    await probeAll();
    slow.holdLists = true;
    for (let i = 0; i < 5; i++) {
      const leaving = new AbortController();
      const asked = fetch(`${h.url}/api/tags`, { headers: { 'x-api-key': full }, signal: leaving.signal }).catch(() => undefined);
      await expect.poll(() => slow.open.size).toBe(1);
      leaving.abort();
      await asked;
      await expect.poll(() => slow.open.size, { timeout: 250 }).toBe(0);
    }
    expect(h.gate.backends.byName('slow')!.inFlight).toBe(0);
    // The key's one slot is free again: it is served at once.
    slow.holdLists = false;
    expect((await fetch(`${h.url}/api/tags`, { headers: { 'x-api-key': full } })).status).toBe(200);
  });

  it('does not run a request twice: a backend that read it and then reset the connection gets no retry elsewhere', async () => {
    let chats = 0;
    const heavy = await scriptedOllama(['llama3.2:latest'], (req) => {
      chats++;
      req.resume();
      req.on('end', () => req.socket.destroy());
    });
    closers.push(heavy.close);
    h.settings.backends = [{ name: 'heavy', url: heavy.url, enabled: true, weight: 50 }];
    await probeAll();
    const res = await fetch(`${h.url}/api/chat`, {
      method: 'POST',
      headers: { 'x-api-key': inference },
      body: JSON.stringify({ model: 'llama3.2', messages: [], stream: false }),
    });
    expect(res.status).toBe(502);
    expect(chats).toBe(1);
    expect(h.fake.requests.filter((r) => r.path === '/api/chat')).toHaveLength(0);
  });

  it('routes by model only what runs a model: any other route that names one goes to the default', async () => {
    const other = await startFakeOllama({ models: SMALL_MODELS });
    closers.push(() => other.close());
    h.settings.backends = [{ name: 'other', url: other.url, enabled: true, weight: 1 }];
    await probeAll();
    const res = await fetch(`${h.url}/api/signout`, { method: 'POST', headers: { 'x-api-key': full }, body: JSON.stringify({ model: 'phi3' }) });
    expect((await h.waitForLog((e) => e.id === res.headers.get('x-request-id'))).backend).toBe('default');
    expect(other.requests.filter((r) => r.path === '/api/signout')).toHaveLength(0);
    expect(h.fake.requests.filter((r) => r.path === '/api/signout')).toHaveLength(1);
  });

  it('/health warns for each backend that also answers on one of this machine\u2019s addresses, without naming its URL', async () => {
    const exposed = await startFakeOllama({ host: '0.0.0.0', models: SMALL_MODELS });
    closers.push(() => exposed.close());
    h.settings.backends = [{ name: 'exposed', url: `http://127.0.0.1:${exposed.port}`, enabled: true, weight: 1 }];
    await probeAll();
    const health = (await (await fetch(`${h.url}/health`)).json()) as { warnings: string[]; backends: Array<Record<string, unknown>> };
    expect(health.warnings).toEqual([
      `Ollama "exposed" also answers on 127.0.0.2:${exposed.port}, so clients there can bypass the gate: start it with OLLAMA_HOST=127.0.0.1`,
    ]);
    expect(Object.keys(health.backends[1]!).sort()).toEqual(['default', 'enabled', 'error', 'models', 'name', 'reachable', 'version']);
  });
});
