/**
 * The gate's invariant, tested from both ends: every request Ollama parses is exactly one request
 * the gate checked and logged as forwarded, with the method, path and model the gate checked and
 * allowed for that key; no request Ollama parses carries a key; no answer reaches the wrong client.
 *
 * Generated requests (keys of every scope, with and without an allow-list, wrong keys and none;
 * every framing, obfuscated ones included; Connection tokens; bodies that hold whole HTTP requests;
 * pipelining; encoded paths and query names; any Content-Type) go through a real gate over raw
 * sockets to a recording upstream that parses the bytes it receives the way Go's net/http does.
 * Each request carries a probe in its query, which the gate both logs and forwards: that links what
 * the gate logged to what the upstream parsed. A bystander with a good key sends a request beside
 * each run, so an answer that lands on the wrong connection shows.
 *
 * `npm test` runs a few hundred cases; `npm run differential -- 20000` as many as asked.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestLogEntry } from '../electron/core/events.js';
import { type Harness, startHarness } from './support/gate-harness.js';
import { exchangeRaw, parseAnswers } from './support/raw-exchange.js';
import { type ParsedRequest, type RecordingUpstream, type UpstreamResponse, goField, startRecordingUpstream } from './support/recording-upstream.js';

const RUNS = Number(process.env.DIFFERENTIAL_RUNS ?? 300);

type KeyName = 'inference' | 'inferenceLimited' | 'full' | 'fullLimited';
interface TestKey {
  secret: string;
  scope: 'inference' | 'full';
  limited: boolean;
}

/** The allow-list of the limited keys, and what it means, written out independently of policy.ts. */
const ALLOWED = 'llama3*';
function modelAllowedByTest(model: string): boolean {
  let name = model.trim().toLowerCase();
  if (name.startsWith('registry.ollama.ai/')) name = name.slice('registry.ollama.ai/'.length);
  if (name.startsWith('library/') && name.split('/').length === 2) name = name.slice('library/'.length);
  return /^llama3[^/@]*$/.test(name);
}

/** What an inference key may reach, written out independently of policy.ts. */
const INFERENCE_PATHS = new Set(['/api/chat', '/api/generate', '/api/embed', '/api/embeddings', '/api/tags', '/api/show', '/api/ps', '/api/version']);
function scopeAllows(scope: 'inference' | 'full', path: string): boolean {
  if (path === '/debug' || path.startsWith('/debug/')) return false;
  return scope === 'full' || INFERENCE_PATHS.has(path) || path === '/v1' || path.startsWith('/v1/');
}

/** Body members through which Ollama names a model or a base. */
const MODEL_MEMBERS = ['model', 'name', 'source', 'destination', 'from'];

// ---------------------------------------------------------------------------------------------
// Generated requests
// ---------------------------------------------------------------------------------------------

const PATHS = [
  '/api/chat',
  '/api/generate',
  '/api/embed',
  '/api/tags',
  '/api/ps',
  '/api/version',
  '/api/show',
  '/api/pull',
  '/api/push',
  '/api/create',
  '/api/copy',
  '/api/delete',
  `/api/blobs/sha256:${'ab'.repeat(32)}`,
  '/v1/chat/completions',
  '/v1/models',
  '/v1/models/llama3.2',
  '/v1/models/qwen2.5%3A7b',
  '/debug/pprof/',
  '/api/unknown',
  '/api%2Fdelete',
  '/api/c%6Fpy',
  '//api/pull',
  '/api/../api/create',
  '/v1/../api/delete',
  '/api/%2e%2e/debug/pprof/',
  '/API/CHAT',
  '/api/chat/',
  '/',
];

const MODELS = ['llama3.2', 'qwen2.5:7b', 'LLAMA3.2', 'llama3.evil.com/x/y', 'registry.ollama.ai/library/qwen2.5:7b', 'library/llama3.2', 'llama3@sha256:aa'];

/** A whole request, as text, for bodies that try to smuggle one. */
const SMUGGLED = [
  'DELETE /api/delete?probe=smuggled HTTP/1.1\r\nHost: x\r\nContent-Length: 22\r\n\r\n{"model":"qwen2.5:7b"}',
  'POST /api/pull?probe=smuggled HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n17\r\n{"model":"evil.com/x/y"}\r\n0\r\n\r\n',
  'GET /api/tags?probe=smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
];

const body = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({
    kind: fc.constant('json' as const),
    members: fc.array(
      fc.tuple(
        fc.constantFrom('model', 'MODEL', 'Model', 'name', 'mod\\u0065l', 'ſource', 'source', 'destination', 'from', 'files', 'prompt'),
        fc.oneof(fc.constantFrom(...MODELS), fc.constant(null), fc.constant(5)),
      ),
      { minLength: 0, maxLength: 3 },
    ),
    trailing: fc.constantFrom('', '', '\n', 'x', '{"model":"qwen2.5:7b"}', ' {"api_key":"KEY"}'),
  }),
  fc.record({ kind: fc.constant('smuggle' as const), text: fc.constantFrom(...SMUGGLED), asJsonString: fc.boolean() }),
  fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
);

const request = fc.record({
  method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'POST', 'HEAD', 'DELETE', 'DELETE', 'OPTIONS', 'PUT', 'PATCH', 'TRACE'),
  path: fc.constantFrom(...PATHS),
  key: fc.constantFrom<KeyName | 'wrong' | 'none'>('inference', 'inferenceLimited', 'full', 'fullLimited', 'wrong', 'none'),
  keyAt: fc.constantFrom('x-api-key', 'bearer', 'bare', 'basic', 'api_key', 'api%5Fkey', '%61pi_key', 'API_KEY', 'body'),
  body,
  framing: fc.constantFrom('length', 'length', 'chunked', 'chunked', 'both', 'xchunked', 'chunked, identity', 'double-te', 'unframed', 'length+connection'),
  contentType: fc.constantFrom(undefined, 'application/json', 'text/plain', 'application/octet-stream', 'image/png', 'multipart/form-data; boundary=x'),
  connection: fc.constantFrom(
    undefined,
    undefined,
    'keep-alive, content-length',
    'keep-alive, transfer-encoding, host',
    'keep-alive, x-probe',
    'upgrade',
    'close',
  ),
  origin: fc.constantFrom(undefined, undefined, 'https://evil.example', 'http://localhost:5173'),
  /** X-Gate-Backend: the second Ollama, the default, either in another case, or a name not in use */
  backend: fc.constantFrom(undefined, undefined, undefined, 'second', 'SECOND', 'default', 'nope'),
});
type GeneratedRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

/** A run: one to three requests written on one connection at once. */
const run = fc.array(request, { minLength: 1, maxLength: 3 });

function bodyBytes(r: GeneratedRequest, secret: string | undefined): Buffer {
  const b = r.body;
  const withKey = r.keyAt === 'body' && secret !== undefined;
  switch (b.kind) {
    case 'none':
      return withKey ? Buffer.from(JSON.stringify({ api_key: secret })) : Buffer.alloc(0);
    case 'json': {
      const members = b.members.map(([name, value]) => `"${name}":${JSON.stringify(value)}`);
      if (withKey) members.push(`"api_key":${JSON.stringify(secret)}`);
      return Buffer.from(`{${members.join(',')}}${b.trailing.replace('KEY', secret ?? 'og_none')}`);
    }
    case 'smuggle':
      return Buffer.from(b.asJsonString ? JSON.stringify({ model: 'llama3.2', prompt: b.text, ...(withKey ? { api_key: secret } : {}) }) : b.text);
    case 'bytes':
      return Buffer.from(b.bytes);
  }
}

/** The bytes of one generated request; `probe` goes in its query, where the gate logs and forwards it. */
function requestBytes(r: GeneratedRequest, probe: string, keys: Record<KeyName, TestKey>): Buffer {
  const secret = r.key === 'none' ? undefined : r.key === 'wrong' ? 'og_wrongwrongwrongwrongwrongwrongwrong' : keys[r.key].secret;
  const query = [`probe=${probe}`];
  if (secret && ['api_key', 'api%5Fkey', '%61pi_key', 'API_KEY'].includes(r.keyAt)) query.push(`${r.keyAt}=${encodeURIComponent(secret)}`);
  const lines = [`${r.method} ${r.path}${r.path.includes('?') ? '&' : '?'}${query.join('&')} HTTP/1.1`, 'Host: gate.test', `X-Probe: ${probe}`];
  if (secret && r.keyAt === 'x-api-key') lines.push(`X-API-Key: ${secret}`);
  if (secret && r.keyAt === 'bearer') lines.push(`Authorization: Bearer ${secret}`);
  if (secret && r.keyAt === 'bare') lines.push(`Authorization: ${secret}`);
  if (secret && r.keyAt === 'basic') lines.push(`Authorization: Basic ${Buffer.from(`me:${secret}`).toString('base64')}`);
  if (r.contentType) lines.push(`Content-Type: ${r.contentType}`);
  if (r.origin) lines.push(`Origin: ${r.origin}`);
  if (r.backend) lines.push(`X-Gate-Backend: ${r.backend}`);
  if (r.connection === 'upgrade') lines.push('Connection: Upgrade', 'Upgrade: h2c');
  else if (r.connection) lines.push(`Connection: ${r.connection}`);
  const payload = bodyBytes(r, secret);
  const chunked = Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n0\r\n\r\n')]);
  let framed = payload;
  switch (r.framing) {
    case 'length':
      if (payload.length) lines.push(`Content-Length: ${payload.length}`);
      break;
    case 'length+connection':
      lines.push(`Content-Length: ${payload.length}`);
      if (!r.connection) lines.push('Connection: keep-alive, content-length');
      break;
    case 'chunked':
      lines.push('Transfer-Encoding: chunked');
      framed = chunked;
      break;
    case 'both':
      lines.push(`Content-Length: ${payload.length}`, 'Transfer-Encoding: chunked');
      framed = chunked;
      break;
    case 'xchunked':
    case 'chunked, identity':
      lines.push(`Transfer-Encoding: ${r.framing}`);
      framed = chunked;
      break;
    case 'double-te':
      lines.push('Transfer-Encoding: chunked', 'Transfer-Encoding: identity');
      framed = chunked;
      break;
    case 'unframed':
      break; // the body's bytes follow the head as whatever they are: the next request, or junk
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), framed]);
}

// ---------------------------------------------------------------------------------------------
// The invariant
// ---------------------------------------------------------------------------------------------

function probeOf(query: string): string | undefined {
  return /(?:^|&)probe=([^&]*)/.exec(query)?.[1];
}

/** What the gate's health monitor asks a backend. */
const HEALTH_PROBES = new Set(['/api/version', '/api/tags', '/api/ps']);

/** Checks one run's requests end to end; throws with the evidence on the first violation. */
function checkRun(options: {
  probes: Map<string, KeyName | 'wrong' | 'none'>;
  /** the backend each probe's request named in X-Gate-Backend, if it named one */
  pinned: Map<string, string>;
  keys: Record<KeyName, TestKey>;
  /** what each backend parsed, by the backend's name */
  upstream: Array<ParsedRequest & { backend: string }>;
  logs: RequestLogEntry[];
  /** per connection: the probes its client sent, and the upstream `seq` of every answer Ollama made that it got */
  answers: Array<{ sent: Set<string>; seqs: number[] }>;
}): void {
  const { probes, pinned, keys, upstream, logs, answers } = options;
  const secrets = Object.values(keys).map((k) => k.secret);
  const forwarded = new Map<string, RequestLogEntry>();
  for (const entry of logs) {
    const probe = probeOf(entry.path.slice(entry.path.indexOf('?') + 1));
    if (probe === undefined || entry.decision !== 'allowed' || !probes.has(probe)) continue;
    expect(forwarded.has(probe), `the gate logged probe ${probe} as forwarded twice`).toBe(false);
    forwarded.set(probe, entry);
  }
  const received = new Set<string>();
  for (const seen of upstream) {
    const evidence = `${seen.backend} parsed ${seen.method} ${seen.target}\n${seen.raw.toString('latin1').slice(0, 600)}`;
    // A blob's bytes are the file the client uploads, read by no one as JSON: only its head counts.
    const carried = seen.path.startsWith('/api/blobs/') ? seen.raw.subarray(0, seen.raw.indexOf('\r\n\r\n')) : seen.raw;
    for (const secret of secrets) expect(carried.includes(secret), `a key reached Ollama: ${evidence}`).toBe(false);
    const probe = probeOf(seen.query);
    // The gate's own look at a backend's models (after a pull, create, copy or delete), which no client sent.
    if (probe === undefined && seen.method === 'GET' && seen.query === '' && seen.body.length === 0 && HEALTH_PROBES.has(seen.path)) continue;
    expect(probe !== undefined && probes.has(probe), `Ollama parsed a request the client never sent as one: ${evidence}`).toBe(true);
    // One backend parses a request once; a model list merged from every backend, once by each.
    expect(received.has(`${seen.backend} ${probe}`), `${seen.backend} parsed probe ${probe} twice: ${evidence}`).toBe(false);
    received.add(`${seen.backend} ${probe}`);
    const entry = forwarded.get(probe!);
    const logged = logs.map((l) => `${l.method} ${l.path} ${l.decision} ${l.status} ${l.outcome} ${l.backend}`).join('\n');
    expect(entry, `Ollama parsed a request the gate did not log as forwarded: ${evidence}\nthe gate logged:\n${logged}`).toBeDefined();
    if (entry!.backend !== 'all')
      expect(entry!.backend, `${seen.backend} parsed a request the gate logged as sent to ${entry!.backend}: ${evidence}`).toBe(seen.backend);
    else
      expect(seen.method === 'GET' && ['/api/tags', '/api/ps', '/v1/models'].includes(seen.path), `a merged request that is no model list: ${evidence}`).toBe(
        true,
      );
    const named = pinned.get(probe!);
    if (named) expect(seen.backend, `a request that named ${named} in X-Gate-Backend went to ${seen.backend}: ${evidence}`).toBe(named.toLowerCase());
    expect(/x-gate-backend/i.test(seen.raw.subarray(0, seen.raw.indexOf('\r\n\r\n')).toString('latin1')), `X-Gate-Backend reached Ollama: ${evidence}`).toBe(
      false,
    );
    const keyName = probes.get(probe!)!;
    expect(keyName === 'wrong' || keyName === 'none', `a request without a good key reached Ollama: ${evidence}`).toBe(false);
    const key = keys[keyName as KeyName];
    expect(seen.method, evidence).toBe(entry!.method);
    expect(seen.path, evidence).toBe(entry!.path.slice(0, entry!.path.indexOf('?')));
    expect(scopeAllows(key.scope, seen.path), `scope "${key.scope}" reached ${seen.path}: ${evidence}`).toBe(true);
    // A blob is raw bytes to Ollama, never a JSON body naming a model.
    if (seen.json.kind === 'object' && !seen.path.startsWith('/api/blobs/')) {
      const model = goField(seen.json, 'model') ?? goField(seen.json, 'name');
      if (typeof model === 'string') expect(entry!.model, `the gate logged another model than Ollama reads: ${evidence}`).toBe(model);
    }
    if (key.limited && !seen.path.startsWith('/api/blobs/')) checkModelsAllowed(seen, evidence);
  }
  for (const [probe, entry] of forwarded) {
    // A request the gate forwarded and Ollama never parsed: only when the client left first.
    if (![...received].some((seen) => seen.endsWith(` ${probe}`)))
      expect(entry.outcome, `the gate logged ${probe} as forwarded but Ollama never parsed it`).toBe('client_aborted');
  }
  // Every answer Ollama made went back on the connection of the client that asked.
  for (const { sent, seqs } of answers) {
    for (const seq of seqs) {
      const asked = upstream.find((u) => u.seq === seq);
      const probe = asked && probeOf(asked.query);
      expect(
        probe !== undefined && sent.has(probe),
        `a client got Ollama's answer to ${probe ?? 'a request it did not send'} (it sent ${[...sent].join(', ')})`,
      ).toBe(true);
    }
  }
}

/** For a key limited to some models: what Ollama reads in the body names only allowed models. */
function checkModelsAllowed(seen: ParsedRequest, evidence: string): void {
  if (seen.body.length === 0) return;
  expect(seen.json.kind, `a body the gate could not read reached Ollama for a limited key: ${evidence}`).toBe('object');
  expect(seen.json.trailing, `bytes after the JSON reached Ollama for a limited key: ${evidence}`).toBe(0);
  for (const member of MODEL_MEMBERS) {
    const value = goField(seen.json, member);
    if (value !== undefined)
      expect(
        typeof value === 'string' && modelAllowedByTest(value),
        `"${member}": ${JSON.stringify(value)} reached Ollama for a key limited to ${ALLOWED}: ${evidence}`,
      ).toBe(true);
  }
  for (const member of ['files', 'adapters', 'modelfile', 'path'])
    expect(goField(seen.json, member), `"${member}" reached Ollama for a limited key: ${evidence}`).toBeUndefined();
}

// ---------------------------------------------------------------------------------------------

describe('differential: what Ollama parses is what the gate checked', () => {
  let h: Harness;
  let upstream: RecordingUpstream;
  /** a second Ollama beside the default: merged model lists and X-Gate-Backend reach it */
  let second: RecordingUpstream;
  let keys: Record<KeyName, TestKey>;
  let port: number;
  let runNumber = 0;

  beforeAll(async () => {
    upstream = await startRecordingUpstream({ respond: modelList });
    second = await startRecordingUpstream({ respond: modelList, firstSeq: 1_000_000 });
    // No lockout (wrong keys are generated on purpose) and no sessions (each request stands on its own key).
    h = await startHarness({
      upstream: upstream.url,
      settings: { lockoutMaxFailures: 0, sessionTtlSeconds: 0, backends: [{ name: 'second', url: second.url, enabled: true, weight: 1 }] },
    });
    const make = (user: string, scope: 'inference' | 'full', limited: boolean): TestKey => {
      const { id, secret } = h.addKey(user, scope);
      if (limited) h.gate.keys.update(id, { models: [ALLOWED] });
      return { secret, scope, limited };
    };
    keys = {
      inference: make('inference', 'inference', false),
      inferenceLimited: make('inference-limited', 'inference', true),
      full: make('full', 'full', false),
      fullLimited: make('full-limited', 'full', true),
    };
    port = Number(new URL(h.url).port);
  });
  afterAll(async () => {
    await h.close();
    await upstream.close();
    await second.close();
  });

  /** Sends a run beside a bystander's request and checks everything both ends saw. */
  async function check(requests: GeneratedRequest[]): Promise<void> {
    runNumber++;
    const upstreamBefore = upstream.requests.length;
    const secondBefore = second.requests.length;
    const errorsBefore = upstream.errors.length;
    const secondErrorsBefore = second.errors.length;
    const logsBefore = h.logs.length;
    const probes = new Map<string, KeyName | 'wrong' | 'none'>();
    const pinned = new Map<string, string>();
    const bytes = requests.map((r, i) => {
      const probe = `r${runNumber}x${i}`;
      probes.set(probe, r.key);
      if (r.backend) pinned.set(probe, r.backend);
      return requestBytes(r, probe, keys);
    });
    // A last request closes the connection, so the run ends when every answer is in.
    bytes.push(Buffer.from(`GET /?probe=r${runNumber}end HTTP/1.1\r\nHost: gate.test\r\nConnection: close\r\n\r\n`));
    const bystanderProbe = `r${runNumber}by`;
    probes.set(bystanderProbe, 'inference');
    const bystander = Buffer.from(
      `GET /api/tags?probe=${bystanderProbe} HTTP/1.1\r\nHost: gate.test\r\nX-API-Key: ${keys.inference.secret}\r\nConnection: close\r\n\r\n`,
    );
    const [runRaw, bystanderRaw] = await Promise.all([exchangeRaw(port, Buffer.concat(bytes)), exchangeRaw(port, bystander)]);
    await settled(() => h.logs.length);

    // The recording upstream answers with the number of the request it parsed.
    const upstreamSeqs = (raw: Buffer) =>
      parseAnswers(raw).flatMap((answer) => {
        try {
          const parsed = JSON.parse(answer.body.toString('utf8')) as { seq?: unknown };
          return typeof parsed.seq === 'number' ? [parsed.seq] : [];
        } catch {
          return [];
        }
      });
    // A request the upstream could not frame would mean the gate sent bytes Go reads otherwise.
    for (const [backend, before] of [
      [upstream, errorsBefore],
      [second, secondErrorsBefore],
    ] as const)
      expect(backend.errors.slice(before).map((e) => `${e.message}: ${e.bytes.toString('latin1', 0, 300)}`)).toEqual([]);
    const bystanderAnswers = parseAnswers(bystanderRaw);
    expect(bystanderAnswers[0]?.status, 'the bystander with a good key was not served').toBe(200);
    checkRun({
      probes,
      pinned,
      keys,
      upstream: [
        ...upstream.requests.slice(upstreamBefore).map((r) => ({ ...r, backend: 'default' })),
        ...second.requests.slice(secondBefore).map((r) => ({ ...r, backend: 'second' })),
      ],
      logs: h.logs.slice(logsBefore),
      answers: [
        { sent: new Set([...probes.keys()].filter((p) => p !== bystanderProbe)), seqs: upstreamSeqs(runRaw) },
        { sent: new Set([bystanderProbe]), seqs: upstreamSeqs(bystanderRaw) },
      ],
    });
  }

  it(
    `holds for ${RUNS} generated runs`,
    async () => {
      await fc.assert(fc.asyncProperty(run, check), { numRuns: RUNS, seed: Number(process.env.DIFFERENTIAL_SEED ?? 1313), endOnFailure: true });
    },
    Math.max(60_000, RUNS * 200),
  );
});

/**
 * A model list for the list paths, so that the gate can merge the two backends' (the rest get the
 * recording upstream's echo). Its `seq` stays in an answer only one backend gave.
 */
function modelList(req: ParsedRequest): UpstreamResponse | undefined {
  if (req.method !== 'GET' || !['/api/tags', '/api/ps', '/v1/models'].includes(req.path)) return undefined;
  const body = { seq: req.seq, object: 'list', models: [{ name: 'llama3.2:latest', model: 'llama3.2:latest' }], data: [{ id: 'llama3.2:latest' }] };
  return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Resolves once `count()` has stopped changing for a moment: the gate has logged what it will. */
async function settled(count: () => number): Promise<void> {
  let last = -1;
  for (let i = 0; i < 200; i++) {
    if (count() === last) return;
    last = count();
    await new Promise((r) => setTimeout(r, 15));
  }
  throw new Error('the gate kept logging for 3 s after the run ended');
}
