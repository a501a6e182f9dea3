/**
 * Each test here is an attempt to get around the gate, written for a hole that was fixed. They run
 * against a real gate in front of the fake Ollama, and check first of all what "Ollama" received:
 * a refusal that still forwarded the request would be no refusal.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../test/support/fake-ollama.js';
import { type Harness, startHarness } from '../../test/support/gate-harness.js';
import { chunk, exchangeOne } from '../../test/support/raw-exchange.js';
import { request as httpRequest } from 'node:http';
import { type RawAnswer, rawRequest } from '../../test/support/raw-request.js';
import { startRecordingUpstream } from '../../test/support/recording-upstream.js';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Everything the fake recorded of a request, as one string to search for a secret. */
const seenByOllama = (r: RecordedRequest) => [r.url, ...r.rawHeaders, r.body.toString('latin1')].join('\n');

const errorOf = (answer: RawAnswer): string => JSON.parse(answer.body).error;

/** POST (or another method) with a JSON-ish body, the key in X-API-Key unless headers say otherwise. */
function send(h: Harness, path: string, body: string | undefined, headers: Record<string, string>, method = 'POST'): Promise<RawAnswer> {
  return rawRequest(`${h.url}${path}`, { method, headers, body });
}

/** A key limited to `llama3*`, the allow-list every attack here tries to get around. */
function limitedKey(h: Harness, user: string, scope: 'inference' | 'full' = 'inference'): { id: string; secret: string } {
  const key = h.addKey(user, scope);
  h.gate.keys.update(key.id, { models: ['llama3*'] });
  return key;
}

/** Exact bytes on a fresh connection (nothing a client library would refuse or fix up); the one answer. */
async function sendBytes(url: string, bytes: string): Promise<{ status: number; body: string }> {
  const answer = await exchangeOne(Number(new URL(url).port), bytes);
  return { status: answer.status, body: answer.body.toString('utf8') };
}

// ---------------------------------------------------------------------------------------------
// 1. Keys by encoded query name
// ---------------------------------------------------------------------------------------------

describe('a key in the query, whatever its name is spelled as', () => {
  let h: Harness;
  let secret: string;
  beforeAll(async () => {
    h = await startHarness({ settings: { lockoutMaxFailures: 0 } });
    secret = h.addKey('quinn').secret;
  });
  afterAll(() => h.close());
  afterEach(() => h.fake.reset());

  it('authenticates by the decoded name, and neither Ollama nor the log ever sees the secret', async () => {
    // Go decodes query names: a member the gate reads by its raw name would reach Ollama, key and all.
    for (const name of ['api_key', 'api%5Fkey', '%61pi_key', 'API_KEY', 'Api%5FKey']) {
      h.fake.reset();
      const res = await rawRequest(`${h.url}/api/tags?keep=1&${name}=${secret}&also=2`);
      expect(res.status, name).toBe(200);
      expect(h.fake.requests, name).toHaveLength(1);
      const seen = h.fake.requests[0]!;
      // No key member at all, every other member exactly as sent.
      expect(seen.url, name).toBe('/api/tags?keep=1&also=2');
      expect(seenByOllama(seen), name).not.toContain(secret);

      const entry = await h.waitForLog((e) => e.id === res.headers['x-request-id']);
      expect(entry.path, name).toBe(`/api/tags?keep=1&${name}=***&also=2`);
      expect(entry.keySource).toBe('query');
      expect(JSON.stringify(entry), name).not.toContain(secret);
    }
  });

  it('a key the client also put in a header of its own (User-Agent, a trace header) reaches neither Ollama nor the log', async () => {
    const short = 'api-0123456789abcdef';
    h.gate.keys.importSecret(short, 'seed-user');
    for (const [key, source] of [
      [secret, 'Authorization'],
      [short, 'X-API-Key'],
    ] as const) {
      h.fake.reset();
      const headers = { [source]: source === 'Authorization' ? `Bearer ${key}` : key, 'User-Agent': `tool/1 (${key})`, 'X-Trace': `k=${key};k2=${key}` };
      const res = await rawRequest(`${h.url}/api/tags`, { headers });
      expect(res.status, source).toBe(200);
      const seen = h.fake.requests[0]!;
      expect(seenByOllama(seen), source).not.toContain(key);
      expect(seen.headers['user-agent'], source).toBe('tool/1 ([redacted])');
      expect(seen.headers['x-trace'], source).toBe('k=[redacted];k2=[redacted]');
      const entry = await h.waitForLog((e) => e.id === res.headers['x-request-id']);
      expect(JSON.stringify(entry), source).not.toContain(key);
    }
  });

  it('forwards no query at all when the key was its only member', async () => {
    const res = await rawRequest(`${h.url}/api/tags?%61pi_key=${secret}`);
    expect(res.status).toBe(200);
    expect(h.fake.requests.map((r) => r.url)).toEqual(['/api/tags']);
  });

  it('refuses two different api_key values in one query, forwarding nothing', async () => {
    // Which one would count? The gate will not pick one and hand Ollama the other.
    const other = h.addKey('other').secret;
    for (const query of [`api_key=${secret}&api_key=${other}`, `API_KEY=${other}&api%5Fkey=${secret}`, `api_key=${secret}&%61pi_key=nonsense`]) {
      const res = await rawRequest(`${h.url}/api/tags?${query}`);
      expect(res.status, query).toBe(400);
      expect(errorOf(res), query).toBe('the query holds two different api_key values');
    }
    expect(h.fake.requests).toHaveLength(0);
  });

  it('takes the same key twice as one key, and strips both', async () => {
    const res = await rawRequest(`${h.url}/api/tags?api_key=${secret}&API%5FKEY=${secret}`);
    expect(res.status).toBe(200);
    expect(h.fake.requests.map((r) => r.url)).toEqual(['/api/tags']);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Allow-lists whatever the Content-Type
// ---------------------------------------------------------------------------------------------

describe('a model allow-list, whatever the body claims to be', () => {
  let h: Harness;
  let limited: string;
  let limitedFull: string;
  let open: string;
  beforeAll(async () => {
    h = await startHarness({ settings: { lockoutMaxFailures: 0 } });
    limited = limitedKey(h, 'limited').secret;
    limitedFull = limitedKey(h, 'limited-admin', 'full').secret;
    open = h.addKey('open').secret;
  });
  afterAll(() => h.close());
  afterEach(() => h.fake.reset());

  // Ollama decodes JSON whatever the Content-Type says; a check that only reads "application/json" is no check.
  const CONTENT_TYPES: Array<string | undefined> = [
    'application/octet-stream',
    'image/png',
    'audio/wav',
    'video/mp4',
    'multipart/form-data; boundary=x',
    'text/plain',
    'application/x-www-form-urlencoded',
    undefined,
  ];
  const typed = (secret: string, type: string | undefined): Record<string, string> => ({ 'X-API-Key': secret, ...(type ? { 'Content-Type': type } : {}) });

  it('refuses a model outside the list under every Content-Type, forwarding nothing', async () => {
    const body = '{"model":"qwen2.5:7b","input":"x"}';
    for (const type of CONTENT_TYPES) {
      const res = await send(h, '/api/embed', body, typed(limited, type));
      expect(res.status, type).toBe(403);
      expect(errorOf(res), type).toMatch(/^model "qwen2\.5:7b" is not allowed for this key \(allowed: llama3\*\)$/);
    }
    expect(h.fake.requests).toHaveLength(0);
  });

  it('forwards an allowed model under every Content-Type, byte for byte', async () => {
    const body = '{"model":"llama3.2","input":"x"}';
    for (const type of CONTENT_TYPES) {
      h.fake.reset();
      const res = await send(h, '/api/embed', body, typed(limited, type));
      expect(res.status, type).toBe(200);
      expect(h.fake.requests, type).toHaveLength(1);
      expect(h.fake.requests[0]!.body.toString(), type).toBe(body);
      expect(h.fake.requests[0]!.headers['content-type'], type).toBe(type);
    }
  });

  it('refuses a delete of a model outside the list sent as octet-stream', async () => {
    const res = await send(h, '/api/delete', '{"model":"qwen2.5:7b"}', typed(limitedFull, 'application/octet-stream'), 'DELETE');
    expect(res.status).toBe(403);
    expect(errorOf(res)).toMatch(/^model "qwen2\.5:7b" is not allowed/);
    expect(h.fake.requests).toHaveLength(0);
    // Still installed: the tags a key without a list sees.
    const tags = await send(h, '/api/tags', undefined, { 'X-API-Key': open }, 'GET');
    expect(JSON.parse(tags.body).models.map((m: { name: string }) => m.name)).toContain('qwen2.5:7b');
  });

  it('refuses a chunked body whose model is split across chunks', async () => {
    // Exact bytes: no Content-Length, a form Content-Type, the model name arriving in the second chunk.
    const answer = await sendBytes(
      h.url,
      `POST /api/embed HTTP/1.1\r\nHost: x\r\nX-API-Key: ${limited}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
        chunk('{"model":"qw') +
        chunk('en2.5:7b","input":"x"}') +
        '0\r\n\r\n',
    );
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body).error).toMatch(/^model "qwen2\.5:7b" is not allowed/);
    expect(h.fake.requests).toHaveLength(0);
  });

  it('refuses, from a key with a list, a body that is not one JSON object', async () => {
    // The gate cannot read a model from these, so it does not guess that Ollama cannot either.
    const bodies = ['model=qwen2.5:7b&input=x', '["qwen2.5:7b"]', '"qwen2.5:7b"', 'null', '{"model":"qwen2.5:7b","input":"x"', '\uFEFF{"model":"qwen2.5:7b"}'];
    for (const body of bodies) {
      const res = await send(h, '/api/embed', body, typed(limited, 'text/plain'));
      expect(res.status, body).toBe(403);
      expect(errorOf(res), body).toBe('this key may use only some models, and the request body is not a JSON object the gate can read a model from');
    }
    expect(h.fake.requests).toHaveLength(0);
  });

  it('still forwards malformed JSON untouched from a key without a list: Ollama answers it', async () => {
    const body = '{"model": "qwen2.5:7b", oops}';
    const res = await send(h, '/api/embed', body, typed(open, 'application/json'));
    expect(h.fake.requests).toHaveLength(1);
    expect(h.fake.requests[0]!.body.toString()).toBe(body);
    // Ollama's own error (Go's decoder), not the gate's.
    expect(res.status).toBe(400);
    expect(errorOf(res)).toMatch(/^invalid character/);
  });

  it('never passes a model list it cannot read to a key with a list: 502, while a key without one gets it as Ollama sent it', async () => {
    const garbled = await startRecordingUpstream({
      respond: (r) => (r.path === '/api/tags' ? { headers: { 'Content-Type': 'text/plain' }, body: 'llama3.2 qwen2.5:7b' } : undefined),
    });
    const gate = await startHarness({ upstream: garbled.url });
    try {
      const { secret } = limitedKey(gate, 'limited');
      const refused = await send(gate, '/api/tags', undefined, { 'X-API-Key': secret }, 'GET');
      expect(refused.status).toBe(502);
      expect(errorOf(refused)).toMatch(/model list could not be read/);
      expect(refused.body).not.toContain('qwen');
      const unlimited = await send(gate, '/api/tags', undefined, { 'X-API-Key': gate.addKey('open').secret }, 'GET');
      expect(unlimited.body).toBe('llama3.2 qwen2.5:7b');
    } finally {
      await gate.close();
      await garbled.close();
    }
  });

  it('refuses a body too large to read for its model', async () => {
    const small = await startHarness({ settings: { maxInspectBytes: 1024 } });
    try {
      const { secret } = limitedKey(small, 'padder');
      // The model comes after the padding, past what the gate reads.
      const body = JSON.stringify({ input: 'x'.repeat(4096), model: 'qwen2.5:7b' });
      const res = await send(small, '/api/embed', body, typed(secret, 'application/json'));
      expect(res.status).toBe(403);
      expect(errorOf(res)).toBe("the request body is too large to check its model against this key's allowed models");
      expect(small.fake.requests).toHaveLength(0);
    } finally {
      await small.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Bytes after the JSON
// ---------------------------------------------------------------------------------------------

describe('a body that goes on after its JSON value', () => {
  let h: Harness;
  let limited: string;
  let open: string;
  let bystander: string;
  beforeAll(async () => {
    h = await startHarness({ settings: { lockoutMaxFailures: 0 } });
    limited = limitedKey(h, 'limited').secret;
    open = h.addKey('open').secret;
    bystander = h.addKey('bystander').secret;
  });
  afterAll(() => h.close());
  afterEach(() => h.fake.reset());

  // Ollama reads the first value and ignores the rest; the gate must not decide on one part and forward another.
  const trailing = () => [
    '{"model":"qwen2.5:7b","prompt":"x"}x',
    '{"model":"llama3.2"}{"model":"qwen2.5:7b"}',
    '{"model":"llama3.2","prompt":"x"}\n{"model":"qwen2.5:7b"}',
    // A second object carrying a key: never stripped, it would reach Ollama.
    `{"model":"llama3.2"} {"api_key":"${bystander}"}`,
  ];

  it('refuses it with 400 from keys with and without a list, forwarding nothing', async () => {
    for (const secret of [limited, open]) {
      for (const body of trailing()) {
        const res = await send(h, '/api/generate', body, { 'X-API-Key': secret, 'Content-Type': 'application/json' });
        expect(res.status, body).toBe(400);
        expect(errorOf(res), body).toBe('the request body goes on after its JSON value: send one JSON object');
      }
    }
    expect(h.fake.requests).toHaveLength(0);
  });

  it('refuses it when the second value arrives in its own chunk', async () => {
    const answer = await sendBytes(
      h.url,
      `POST /api/generate HTTP/1.1\r\nHost: x\r\nX-API-Key: ${limited}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
        chunk('{"model":"llama3.2","prompt":"x"}') +
        chunk('{"model":"qwen2.5:7b"}') +
        '0\r\n\r\n',
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error).toMatch(/goes on after its JSON value/);
    expect(h.fake.requests).toHaveLength(0);
  });

  it('does not take a key hidden after the JSON value as a key', async () => {
    const res = await send(h, '/api/generate', `{"model":"llama3.2","prompt":"x"}{"api_key":"${open}"}`, { 'Content-Type': 'application/json' });
    expect(res.status).toBe(401);
    expect(h.fake.requests).toHaveLength(0);
  });

  it('accepts whitespace and newlines after one object, forwarding the body as sent', async () => {
    const body = '{"model":"llama3.2","prompt":"x","stream":false}\r\n \t\n';
    for (const secret of [limited, open]) {
      h.fake.reset();
      const res = await send(h, '/api/generate', body, { 'X-API-Key': secret });
      expect(res.status).toBe(200);
      expect(h.fake.requests.map((r) => r.body.toString())).toEqual([body]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Globs and the other members that name a model
// ---------------------------------------------------------------------------------------------

describe('an allow-list glob, and every member that names a model', () => {
  let h: Harness;
  let admin: { id: string; secret: string };
  let other: { id: string; secret: string };
  beforeAll(async () => {
    h = await startHarness({ settings: { lockoutMaxFailures: 0 } });
    admin = limitedKey(h, 'limited-admin', 'full');
    other = limitedKey(h, 'other-admin', 'full');
  });
  afterAll(() => h.close());
  afterEach(() => h.fake.reset());

  const post = (path: string, body: string, secret = admin.secret) => send(h, path, body, { 'X-API-Key': secret, 'Content-Type': 'application/json' });
  const received = (path: string) => h.fake.requests.filter((r) => r.path === path);

  it('does not let * cross into another registry or a pinned digest', async () => {
    const names = ['llama3.evil.com/x/y', 'llama3.evil.com/library/llama3', `llama3@sha256:${'a'.repeat(64)}`, 'llama3.2@sha256:' + 'b'.repeat(64)];
    for (const model of names) {
      const res = await post('/api/pull', JSON.stringify({ model, stream: false }));
      expect(res.status, model).toBe(403);
      expect(errorOf(res), model).toBe(`model "${model}" is not allowed for this key (allowed: llama3*)`);
    }
    expect(h.fake.requests).toHaveLength(0);
  });

  it('lets * match a tag, and the default registry and namespace spelled out', async () => {
    for (const model of ['llama3.2:1b', 'registry.ollama.ai/library/llama3.2', 'library/llama3.2', 'LLAMA3.2']) {
      h.fake.reset();
      const res = await post('/api/pull', JSON.stringify({ model, stream: false }));
      expect(res.status, model).toBe(200);
      expect(
        received('/api/pull').map((r) => r.json),
        model,
      ).toEqual([{ model, stream: false }]);
    }
  });

  it('refuses a create whose files or adapters name a blob this key did not upload', async () => {
    const digest = `sha256:${sha256('weights of a model this key may not use')}`;
    for (const member of ['files', 'adapters']) {
      const res = await post('/api/create', JSON.stringify({ model: 'llama3-mine', from: 'llama3.2', [member]: { 'model.gguf': digest } }));
      expect(res.status, member).toBe(403);
      expect(errorOf(res), member).toBe(
        `"${member}" may only name files this key has uploaded itself (POST /api/blobs with the file's bytes); "${digest}" is not one`,
      );
    }
    expect(h.fake.requests).toHaveLength(0);
  });

  it('refuses a create whose Modelfile builds on a model outside the list, or names an adapter or a path', async () => {
    const refusals: Array<[Record<string, unknown>, string]> = [
      [{ model: 'llama3-mine', modelfile: 'FROM qwen2.5:7b\nSYSTEM hi' }, 'model "qwen2.5:7b" ("FROM") is not allowed for this key (allowed: llama3*)'],
      [
        { model: 'llama3-mine', modelfile: 'FROM llama3.2\r\n  from   qwen2.5:7b' },
        'model "qwen2.5:7b" ("FROM") is not allowed for this key (allowed: llama3*)',
      ],
      [
        { model: 'llama3-mine', modelfile: 'FROM llama3.2\nADAPTER ./lora.gguf' },
        'a Modelfile ADAPTER names a file the gate cannot check for a key limited to some models',
      ],
      [
        { model: 'llama3-mine', path: '/home/someone/Modelfile' },
        '"path" points at a Modelfile on Ollama\'s machine, which a key limited to some models may not use',
      ],
    ];
    for (const [body, message] of refusals) {
      const res = await post('/api/create', JSON.stringify(body));
      expect(res.status, JSON.stringify(body)).toBe(403);
      expect(errorOf(res)).toBe(message);
    }
    expect(h.fake.requests).toHaveLength(0);
  });

  it('reads a Modelfile line split by a lone CR as Ollama does', async () => {
    // Ollama's Modelfile parser ends a line at \r as well as \n (parser.isNewline), so here it reads a
    // second FROM that a split on \n alone does not see.
    const res = await post('/api/create', JSON.stringify({ model: 'llama3-mine', modelfile: 'FROM llama3.2\rFROM qwen2.5:7b' }));
    expect(res.status).toBe(403);
    expect(errorOf(res)).toBe('model "qwen2.5:7b" ("FROM") is not allowed for this key (allowed: llama3*)');
    expect(h.fake.requests).toHaveLength(0);
  });

  it('forwards a create from an allowed model under an allowed name', async () => {
    const res = await post('/api/create', '{"model":"llama3-mine","from":"llama3.2","stream":false}');
    expect(res.status).toBe(200);
    expect(received('/api/create').map((r) => r.json)).toEqual([{ model: 'llama3-mine', from: 'llama3.2', stream: false }]);
  });

  it('lets a key build from a blob only once it uploaded the bytes itself', async () => {
    const bytes = 'GGUF: weights this key brings itself';
    const digest = `sha256:${sha256(bytes)}`;
    const auth = { 'X-API-Key': admin.secret };

    // Before the upload, the gate itself says "not found", so the client uploads; Ollama is not asked.
    const before = await send(h, `/api/blobs/${digest}`, undefined, auth, 'HEAD');
    expect(before.status).toBe(404);
    expect(h.fake.requests).toHaveLength(0);
    const early = await post('/api/create', JSON.stringify({ model: 'llama3-mine', files: { 'm.gguf': digest } }));
    expect(early.status).toBe(403);
    expect(h.fake.requests).toHaveLength(0);

    const upload = await send(h, `/api/blobs/${digest}`, bytes, { ...auth, 'Content-Type': 'application/json' });
    expect(upload.status).toBe(201);
    expect(received(`/api/blobs/${digest}`).map((r) => r.bodySha256)).toEqual([digest.slice('sha256:'.length)]);
    await h.waitForLog((e) => e.id === upload.headers['x-request-id']);

    // Now the check reaches Ollama, and the create is forwarded.
    const after = await send(h, `/api/blobs/${digest}`, undefined, auth, 'HEAD');
    expect(after.status).toBe(200);
    expect(received(`/api/blobs/${digest}`).map((r) => r.method)).toEqual(['POST', 'HEAD']);
    const create = await post('/api/create', JSON.stringify({ model: 'llama3-mine', files: { 'm.gguf': digest }, stream: false }));
    expect(create.status).toBe(200);
    expect(received('/api/create').map((r) => r.json)).toEqual([{ model: 'llama3-mine', files: { 'm.gguf': digest }, stream: false }]);
  });

  it("does not count another key's upload", async () => {
    const bytes = 'GGUF: weights only the other key uploaded';
    const digest = `sha256:${sha256(bytes)}`;
    const upload = await send(h, `/api/blobs/${digest}`, bytes, { 'X-API-Key': other.secret });
    expect(upload.status).toBe(201);
    await h.waitForLog((e) => e.id === upload.headers['x-request-id']);
    h.fake.requests.length = 0; // the blob stays in "Ollama"

    const head = await send(h, `/api/blobs/${digest}`, undefined, { 'X-API-Key': admin.secret }, 'HEAD');
    expect(head.status).toBe(404);
    const create = await post('/api/create', JSON.stringify({ model: 'llama3-mine', files: { 'm.gguf': digest } }));
    expect(create.status).toBe(403);
    expect(errorOf(create)).toMatch(/^"files" may only name files this key has uploaded/);
    expect(h.fake.requests).toHaveLength(0);
  });

  it('does not count an "upload" of a blob Ollama already had, made without its bytes', async () => {
    // Ollama answers 200 to POST /api/blobs/<digest> for a blob it already has, without reading
    // the body. Any installed model's layers are such blobs, and their digests
    // are public: a key limited to llama3* must not get to build a model from them this way.
    for (const [shape, claimBody] of [
      ['no body', undefined],
      ['other bytes', 'not the bytes'],
    ] as const) {
      const bytes = `GGUF: weights of a model this key may not use (${shape})`;
      const digest = `sha256:${sha256(bytes)}`;
      const planted = await send(h, `/api/blobs/${digest}`, bytes, { 'X-API-Key': other.secret });
      expect(planted.status, shape).toBe(201);

      const claim = await send(h, `/api/blobs/${digest}`, claimBody, { 'X-API-Key': admin.secret });
      await h.waitForLog((e) => e.id === claim.headers['x-request-id']);
      const create = await post('/api/create', JSON.stringify({ model: 'llama3-stolen', files: { 'm.gguf': digest }, stream: false }));
      expect(create.status, shape).toBe(403);
      expect(received('/api/create'), shape).toHaveLength(0);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Trust used by a web page
// ---------------------------------------------------------------------------------------------

describe("an IP's trust, used by a web page", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ settings: { lockoutMaxFailures: 0 } });
    // The test's own address (127.0.0.1) is trusted through a full key with no allow-list.
    const { secret } = h.addKey('trusting-admin', 'full');
    const auth = await send(h, '/auth', JSON.stringify({ api_key: secret }), { 'Content-Type': 'application/json' });
    expect(auth.status).toBe(200);
  });
  afterAll(() => h.close());
  afterEach(() => h.fake.reset());

  /** The trust is live: a program's keyless request is served (so a 401 below is the Origin's doing). */
  async function expectTrusted(): Promise<void> {
    expect((await send(h, '/api/tags', undefined, {}, 'GET')).status).toBe(200);
    h.fake.requests.length = 0;
  }

  it('refuses every request from a foreign Origin, forwarding nothing', async () => {
    await expectTrusted();
    const cases: Array<[string, string, string | undefined, Record<string, string>]> = [
      ['GET', '/api/tags', undefined, {}],
      ['POST', '/api/chat', '{"model":"llama3.2","messages":[],"stream":false}', { 'Content-Type': 'text/plain' }],
      // A "simple" request: a page can send it without a preflight, and would not need to read the answer.
      ['POST', '/api/pull', '{"model":"evil/model","stream":false}', { 'Content-Type': 'text/plain' }],
      ['DELETE', '/api/delete', '{"model":"llama3.2"}', { 'Content-Type': 'application/json' }],
    ];
    for (const origin of ['https://evil.example', 'null', 'http://localhost.evil.example', 'http://127.0.0.1.nip.io']) {
      for (const [method, path, body, headers] of cases) {
        const res = await send(h, path, body, { ...headers, Origin: origin }, method);
        expect(res.status, `${origin} ${method} ${path}`).toBe(401);
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
      }
    }
    expect(h.fake.requests).toHaveLength(0);
  });

  it('gives a foreign preflight no CORS headers', async () => {
    const res = await rawRequest(`${h.url}/api/delete`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'DELETE', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers['access-control-allow-methods']).toBeUndefined();
    expect(h.fake.requests).toHaveLength(0);
  });

  it('refuses a request a browser marks as from another site, with no Origin (an <img>, a form)', async () => {
    await expectTrusted();
    for (const site of ['cross-site', 'same-site']) {
      const get = await send(h, '/api/tags', undefined, { 'Sec-Fetch-Site': site }, 'GET');
      expect(get.status, site).toBe(401);
      const form = await send(h, '/api/pull', 'model=evil', { 'Sec-Fetch-Site': site, 'Content-Type': 'application/x-www-form-urlencoded' });
      expect(form.status, site).toBe(401);
    }
    expect(h.fake.requests).toHaveLength(0);
  });

  it('refuses a page whose name was rebound to the gate (DNS rebinding): the browser calls its GET same-origin', async () => {
    await expectTrusted();
    const get = await send(h, '/api/tags', undefined, { 'Sec-Fetch-Site': 'same-origin', Host: 'rebind.evil.example:8000' }, 'GET');
    expect(get.status).toBe(401);
    expect(h.fake.requests).toHaveLength(0);
  });

  it('still serves a page on this machine (an Origin in the default list) and a program (no Origin)', async () => {
    const page = await send(h, '/api/tags', undefined, { Origin: 'http://localhost:5173', 'Sec-Fetch-Site': 'cross-site' }, 'GET');
    expect(page.status).toBe(200);
    expect(page.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    const program = await send(h, '/api/tags', undefined, {}, 'GET');
    expect(program.status).toBe(200);
    const typed = await send(h, '/api/tags', undefined, { 'Sec-Fetch-Site': 'none' }, 'GET'); // typed into the address bar
    expect(typed.status).toBe(200);
    expect(h.fake.requests.map((r) => r.path)).toEqual(['/api/tags', '/api/tags', '/api/tags']);
    // Ollama never sees an Origin (it would refuse a foreign one itself).
    expect(h.fake.requests[0]!.headers.origin).toBeUndefined();
  });

  it('gives no IP trust to a foreign Origin even when every origin may use CORS', async () => {
    const star = await startHarness({ settings: { corsOrigins: ['*'], lockoutMaxFailures: 0 } });
    try {
      const { secret } = star.addKey('star', 'full');
      expect((await send(star, '/auth', JSON.stringify({ api_key: secret }), {})).status).toBe(200);
      const keyless = await send(star, '/api/tags', undefined, { Origin: 'https://evil.example' }, 'GET');
      expect(keyless.status).toBe(401);
      expect(star.fake.requests).toHaveLength(0);
      // With its key, the same page is served, CORS and all.
      const keyed = await send(star, '/api/tags', undefined, { Origin: 'https://evil.example', 'X-API-Key': secret }, 'GET');
      expect(keyed.status).toBe(200);
      expect(keyed.headers['access-control-allow-origin']).toBe('*');
      expect(star.fake.requests).toHaveLength(1);
    } finally {
      await star.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 6. Rotation ends trust
// ---------------------------------------------------------------------------------------------

describe('a rotated key', () => {
  it('ends the trust its old secret opened, and the new secret works', async () => {
    const h = await startHarness({ settings: { lockoutMaxFailures: 0 } });
    try {
      const { id, secret } = h.addKey('rotating');
      expect((await send(h, '/auth', JSON.stringify({ api_key: secret }), {})).status).toBe(200);
      expect((await send(h, '/api/tags', undefined, {}, 'GET')).status).toBe(200);

      const rotated = h.gate.keys.rotate(id);
      const keyless = await send(h, '/api/tags', undefined, {}, 'GET');
      expect(keyless.status).toBe(401);
      expect((await send(h, '/api/tags', undefined, { 'X-API-Key': secret }, 'GET')).status).toBe(403);
      expect((await send(h, '/api/tags', undefined, { 'X-API-Key': rotated.secret }, 'GET')).status).toBe(200);
      expect(h.fake.requests).toHaveLength(2);
    } finally {
      await h.close();
    }
  });

  /** A DELETE of llama3.2 whose body arrives in two parts, `meanwhile` running between them. */
  function deleteSlowly(h: Harness, headers: Record<string, string>, meanwhile: () => void): Promise<RawAnswer> {
    const body = '{"model":"llama3.2"}';
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${h.url}/api/delete`, { method: 'DELETE', headers: { ...headers, 'Content-Length': String(body.length) } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 5));
      setTimeout(() => {
        meanwhile();
        req.end(body.slice(5));
      }, 100);
    });
  }

  it('does not carry a request whose key was disabled, rotated or narrowed while its body was still coming', async () => {
    const h = await startHarness({ settings: { lockoutMaxFailures: 0 } });
    try {
      const changes: Array<[string, (id: string) => void, RegExp]> = [
        ['disabled', (id) => h.gate.keys.setEnabled(id, false), /disabled, rotated or removed/],
        ['rotated', (id) => void h.gate.keys.rotate(id), /disabled, rotated or removed/],
        ['removed', (id) => h.gate.keys.remove(id), /disabled, rotated or removed/],
        ['narrowed', (id) => h.gate.keys.update(id, { models: ['qwen*'] }), /model "llama3.2" is not allowed/],
      ];
      for (const [what, change, refusal] of changes) {
        const { id, secret } = h.addKey(`slow-${what}`, 'full');
        const res = await deleteSlowly(h, { 'X-API-Key': secret }, () => change(id));
        expect(res.status, what).toBe(403);
        expect(errorOf(res), what).toMatch(refusal);
      }
      expect(h.fake.requests).toHaveLength(0);
    } finally {
      await h.close();
    }
  });

  it('does not carry a keyless request whose IP session was revoked while its body was still coming', async () => {
    const h = await startHarness({ settings: { lockoutMaxFailures: 0 } });
    try {
      const { secret } = h.addKey('trusted', 'full');
      expect((await send(h, '/auth', JSON.stringify({ api_key: secret }), {})).status).toBe(200);
      const res = await deleteSlowly(h, {}, () => h.gate.sessions.revoke('127.0.0.1'));
      expect(res.status).toBe(403);
      expect(errorOf(res)).toMatch(/its IP session ended/);
      expect(h.fake.requests).toHaveLength(0);
    } finally {
      await h.close();
    }
  });

  it('ends a session held with the old secret even if nothing pruned the cache', async () => {
    // As when another process rotated the key: the session is still in the cache, opened with the old secret.
    const h = await startHarness({ settings: { lockoutMaxFailures: 0 } });
    try {
      const { id } = h.addKey('rotating');
      const before = h.gate.keys.get(id)!;
      h.gate.keys.rotate(id);
      h.gate.sessions.create('127.0.0.1', before);
      const res = await send(h, '/api/tags', undefined, {}, 'GET');
      expect(res.status).toBe(401);
      expect(h.fake.requests).toHaveLength(0);
      // The same session opened with the current secret is honoured: the IP and the path were right.
      h.gate.sessions.create('127.0.0.1', h.gate.keys.get(id)!);
      expect((await send(h, '/api/tags', undefined, {}, 'GET')).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 7. Unbounded trust
// ---------------------------------------------------------------------------------------------

describe('how many IPs one key may trust', () => {
  it('holds over the wire: past three IPs, authenticating another ends the oldest', async () => {
    const h = await startHarness({ settings: { maxSessionsPerKey: 3, lockoutMaxFailures: 0 } });
    try {
      const { secret } = h.addKey('spreading');
      const ips = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];
      for (const ip of ips) {
        expect((await rawRequest(`${h.url}/auth`, { method: 'POST', body: JSON.stringify({ api_key: secret }), localAddress: ip })).status, ip).toBe(200);
      }
      const statuses = [];
      for (const ip of ips) statuses.push((await rawRequest(`${h.url}/api/tags`, { localAddress: ip })).status);
      expect(statuses).toEqual([401, 401, 200, 200, 200]);
      expect(h.fake.requests).toHaveLength(3);
    } finally {
      await h.close();
    }
  });
});
