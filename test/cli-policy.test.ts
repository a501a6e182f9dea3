/**
 * The built CLI's key policy, usage and HTTPS commands, run as a user would: `node dist/cli/ollama-gate.js`
 * against a temp data dir, and `serve` as its own process in front of the fake Ollama.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CliRun, ServeProcess, requireBuiltCli, runCli, runCliOk } from './support/cli.js';
import { startFakeOllama } from './support/fake-ollama.js';
import type { UsageRow } from '../electron/shared/contract.js';

const DAY = 86_400_000;

let dataDir: string;

const cli = (...args: string[]): CliRun => runCli(dataDir, args);
const ok = (...args: string[]): string => runCliOk(dataDir, args);

/** The JSON a `--json` command printed (its last line). */
function json<T = Record<string, unknown>>(...args: string[]): T {
  return JSON.parse(
    ok(...args)
      .trim()
      .split('\n')
      .at(-1)!,
  ) as T;
}

interface KeyJson {
  id: string;
  user: string;
  name: string | null;
  scope: string;
  prefix: string;
  models: string[];
  rpm: number | null;
  concurrency: number | null;
  dailyTokens: number | null;
  enabled: boolean;
  createdAt: string;
  expiresAt: string | null;
  key?: string;
}

/** What `ollama-gate usage --json` prints per row. */
type UsageJson = UsageRow;

/** `ollama-gate serve` in its own process, stopped after the test. */
async function startServe(upstream: string, ...args: string[]): Promise<{ serve: ServeProcess; url: string }> {
  const started = await ServeProcess.start(dataDir, upstream, { args });
  running.push(started.serve);
  return started;
}

const running: ServeProcess[] = [];

beforeAll(requireBuiltCli);
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'gate-cli-policy-'));
});
afterEach(async () => {
  for (const serve of running.splice(0)) await serve.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('keys add and keys update with policy flags', () => {
  it('keys add sets models, limits, expiry and name, and shows them', () => {
    const before = Date.now();
    const added = json<KeyJson>(
      'keys',
      'add',
      'alice',
      '--models',
      'llama3*,qwen2.5:72b',
      '--rpm',
      '60',
      '--concurrency',
      '2',
      '--daily-tokens',
      '1000',
      '--expires',
      '30d',
      '--name',
      'laptop',
      '--json',
    );
    expect(added).toMatchObject({
      user: 'alice',
      name: 'laptop',
      scope: 'inference',
      models: ['llama3*', 'qwen2.5:72b'],
      rpm: 60,
      concurrency: 2,
      dailyTokens: 1000,
      enabled: true,
    });
    expect(added.key).toMatch(/^og_/);
    const expires = Date.parse(added.expiresAt!);
    expect(expires).toBeGreaterThanOrEqual(before + 30 * DAY);
    expect(expires).toBeLessThanOrEqual(Date.now() + 30 * DAY);

    const [listed] = json<KeyJson[]>('keys', 'list', '--json');
    const { key: _secret, ...shown } = added;
    expect(listed).toEqual({ ...shown, lastUsedAt: null, lastUsedIp: null });
    expect(JSON.stringify(listed)).not.toContain(added.key!);

    const table = ok('keys', 'list');
    expect(table).toContain('alice (laptop)');
    expect(table).toContain('llama3*,qwen2.5:72b');
    expect(table).toMatch(/60\/min 2 at once 1000 tok\/day/);
  });

  it('keys update changes settings, and none / never / "" clear them', () => {
    const added = json<KeyJson>(
      'keys',
      'add',
      'bob',
      '--models',
      'llama3*',
      '--rpm',
      '60',
      '--concurrency',
      '2',
      '--daily-tokens',
      '1000',
      '--expires',
      '30d',
      '--name',
      'laptop',
      '--json',
    );
    const changed = json<KeyJson>(
      'keys',
      'update',
      'bob',
      '--rpm',
      '120',
      '--models',
      'qwen2.5:7b, all-minilm',
      '--expires',
      '2099-12-31',
      '--scope',
      'full',
      '--json',
    );
    expect(changed).toMatchObject({
      id: added.id,
      user: 'bob',
      rpm: 120,
      concurrency: 2,
      dailyTokens: 1000,
      name: 'laptop',
      scope: 'full',
      models: ['qwen2.5:7b', 'all-minilm'],
      expiresAt: '2099-12-31T23:59:59.999Z',
    });
    expect(changed.key).toBeUndefined(); // update never shows a secret

    const cleared = json<KeyJson>(
      'keys',
      'update',
      added.id,
      '--rpm',
      'none',
      '--concurrency',
      'none',
      '--daily-tokens',
      'none',
      '--expires',
      'never',
      '--models',
      '',
      '--name',
      '',
      '--json',
    );
    expect(cleared).toMatchObject({ id: added.id, rpm: null, concurrency: null, dailyTokens: null, expiresAt: null, models: [], name: null, scope: 'full' });

    const renamed = ok('keys', 'update', 'bob', '--user', 'robert', '--rpm', '5');
    expect(renamed).toMatch(new RegExp(`Updated key ${added.id} \\(robert\\): .*all models.*5/min`));
    expect(json<KeyJson[]>('keys', 'list', '--json')[0]).toMatchObject({ user: 'robert', rpm: 5 });
    // The secret is the same after an update.
    expect(json<KeyJson[]>('keys', 'list', '--json')[0]!.prefix).toBe(added.prefix);
  });

  it.each([
    [['keys', 'add', 'carol', '--rpm=-1'], /--rpm takes a whole number above 0, or none/],
    [['keys', 'add', 'carol', '--rpm', 'abc'], /--rpm takes a whole number above 0, or none/],
    [['keys', 'add', 'carol', '--concurrency', '1.5'], /--concurrency takes a whole number above 0, or none/],
    [['keys', 'add', 'carol', '--daily-tokens', 'lots'], /--daily-tokens takes a whole number above 0, or none/],
    [['keys', 'add', 'carol', '--expires', 'someday'], /--expires takes a duration \(30d, 12h, 2w\), a date \(2026-12-31\) or never, not "someday"/],
    [['keys', 'add', 'carol', '--expires', '2020-01-01'], /--expires 2020-01-01 is already in the past/],
    [['keys', 'add', 'carol', '--scope', 'admin'], /--scope must be one of: inference, full/],
    [['keys', 'add', 'carol', '--rpm'], /--rpm/],
  ])('keys add %j exits 2 with a clear message and adds nothing', (args, message) => {
    const run = cli(...args);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/^ollama-gate: /);
    expect(run.stdout).toBe('');
    expect(json<KeyJson[]>('keys', 'list', '--json')).toEqual([]);
  });

  it('keys update refuses bad values, unknown keys and an empty change with exit 2, and changes nothing', () => {
    const added = json<KeyJson>('keys', 'add', 'dave', '--rpm', '10', '--json');
    for (const [args, message] of [
      [['keys', 'update', 'dave', '--rpm', '0.5'], /--rpm takes a whole number above 0/],
      [['keys', 'update', 'dave', '--expires', 'yesterday'], /--expires takes/],
      [['keys', 'update', 'nobody', '--rpm', '5'], /no key with id or user "nobody"/],
      [['keys', 'update', 'dave'], /say what to change/],
      [['keys', 'update'], /^ollama-gate: keys update needs ID_OR_USER\nSee: ollama-gate keys update --help\n$/],
      [['keys', 'rotate'], /^ollama-gate: keys rotate needs ID_OR_USER\nSee: ollama-gate keys rotate --help\n$/],
      [['keys', 'rotate', 'nobody'], /no key with id or user "nobody"/],
    ] as const) {
      const run = cli(...args);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    expect(json<KeyJson[]>('keys', 'list', '--json')[0]).toMatchObject({ id: added.id, rpm: 10, prefix: added.prefix });
  });
});

describe('keys rotate', () => {
  it('prints a new secret once; a running serve refuses the old one and takes the new one within a second', async () => {
    const fake = await startFakeOllama();
    try {
      const added = json<KeyJson>('keys', 'add', 'alice', '--rpm', '100', '--json');
      const { url } = await startServe(fake.url);
      const tags = (secret: string) => fetch(`${url}/api/tags`, { headers: { Authorization: `Bearer ${secret}` } }).then((r) => r.status);
      expect(await tags(added.key!)).toBe(200);

      const rotated = json<KeyJson>('keys', 'rotate', 'alice', '--json');
      const rotatedAt = Date.now();
      expect(rotated).toMatchObject({ id: added.id, user: 'alice', rpm: 100 });
      expect(rotated.key).toMatch(/^og_/);
      expect(rotated.key).not.toBe(added.key);
      expect(rotated.prefix).not.toBe(added.prefix);

      let oldStatus = 0;
      let newStatus = 0;
      while (Date.now() - rotatedAt < 1_000) {
        [oldStatus, newStatus] = await Promise.all([tags(added.key!), tags(rotated.key!)]);
        if (oldStatus === 403 && newStatus === 200) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect({ oldStatus, newStatus, ms: Date.now() - rotatedAt < 1_500 }).toEqual({ oldStatus: 403, newStatus: 200, ms: true });

      // Shown once: the list holds only the new prefix, never a secret.
      const listed = ok('keys', 'list', '--json');
      expect(listed).not.toContain(rotated.key!);
      expect(JSON.parse(listed)[0].prefix).toBe(rotated.prefix);
      const text = ok('keys', 'rotate', added.id);
      expect(text).toMatch(/New secret for key .* the old one no longer works/);
      expect(text).toMatch(/og_\S+/);
    } finally {
      await fake.close();
    }
  });

  it('a rotation from the command line also ends the IP trust the old secret opened in a running serve', async () => {
    const fake = await startFakeOllama();
    try {
      const added = json<KeyJson>('keys', 'add', 'alice', '--json');
      const { url } = await startServe(fake.url);
      const opened = await fetch(`${url}/auth`, { method: 'POST', body: JSON.stringify({ api_key: added.key }) });
      expect(opened.status).toBe(200);
      const keyless = () => fetch(`${url}/api/tags`).then((r) => r.status);
      expect(await keyless()).toBe(200);

      const rotated = json<KeyJson>('keys', 'rotate', 'alice', '--json');
      const rotatedAt = Date.now();
      let status = 0;
      while (Date.now() - rotatedAt < 1_500 && (status = await keyless()) !== 401) await new Promise((r) => setTimeout(r, 50));
      expect(status).toBe(401);
      // The new secret opens trust again.
      expect((await fetch(`${url}/auth`, { method: 'POST', body: JSON.stringify({ api_key: rotated.key }) })).status).toBe(200);
      expect(await keyless()).toBe(200);
    } finally {
      await fake.close();
    }
  });
});

describe('usage', () => {
  it('shows the requests and tokens that went through serve, as the fake reported them, after SIGTERM', async () => {
    const fake = await startFakeOllama();
    try {
      const alice = json<KeyJson>('keys', 'add', 'alice', '--json');
      const bob = json<KeyJson>('keys', 'add', 'bob', '--json');
      const { serve, url } = await startServe(fake.url);
      const post = (secret: string, path: string, body: unknown) =>
        fetch(`${url}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${secret}` }, body: JSON.stringify(body) }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        });
      expect(await post(alice.key!, '/api/chat', { model: 'llama3.2', messages: [{ role: 'user', content: 'one two three' }] })).toBe(200);
      expect(await post(alice.key!, '/api/generate', { model: 'llama3.2', prompt: 'why is the sky blue', stream: false })).toBe(200);
      expect(
        await post(alice.key!, '/v1/chat/completions', {
          model: 'llama3.2',
          messages: [{ role: 'user', content: 'hi' }],
          stream: true,
          stream_options: { include_usage: true },
        }),
      ).toBe(200);
      expect(await post(alice.key!, '/api/chat', { model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] })).toBe(404);
      expect(await post(bob.key!, '/api/embed', { model: 'all-minilm', input: 'four five six seven' })).toBe(200);
      expect(await post('og_not_a_key_at_all_000000000000000', '/api/chat', { model: 'llama3.2', messages: [] })).toBe(403);

      // Every request has been logged (and so counted) before the process is told to stop.
      await serve.waitForLine(/bob .*POST \/api\/embed -> 200/);
      expect(await serve.stop('SIGTERM')).toBe(0);

      // The fake never sees keys (the gate strips them): tell the requests apart by model.
      const reported = (owner: 'alice' | 'bob') =>
        fake.requests
          .filter((r) => ((r.json as { model?: string } | undefined)?.model === 'all-minilm' ? 'bob' : 'alice') === owner)
          .map((r) => fake.usageFor(r))
          .filter((u) => u !== undefined)
          .reduce((s, u) => ({ prompt: s.prompt + u.promptTokens, completion: s.completion + u.completionTokens }), { prompt: 0, completion: 0 });

      const today = new Date().toISOString().slice(0, 10);
      const rows = json<UsageJson[]>('usage', '--json');
      expect(rows.map((r) => r.user).sort()).toEqual(['alice', 'bob']);
      const a = rows.find((r) => r.user === 'alice')!;
      const b = rows.find((r) => r.user === 'bob')!;
      const expectedA = reported('alice');
      const expectedB = reported('bob');
      expect(expectedA.prompt).toBeGreaterThan(0);
      expect(expectedA.completion).toBeGreaterThan(0);
      expect(a).toMatchObject({ day: today, keyId: alice.id, requests: 4, errors: 1, promptTokens: expectedA.prompt, completionTokens: expectedA.completion });
      expect(b).toMatchObject({ day: today, keyId: bob.id, requests: 1, errors: 0, promptTokens: expectedB.prompt, completionTokens: 0 });
      expect(a.bytesOut).toBeGreaterThan(0);
      expect(a.bytesIn).toBeGreaterThan(0);

      const table = ok('usage');
      expect(table).toMatch(/DAY\s+USER\s+KEY\s+REQUESTS/);
      expect(table).toMatch(new RegExp(`${today}\\s+alice\\s+${alice.id}\\s+4\\s+1\\s+${expectedA.prompt}\\s+${expectedA.completion}`));
    } finally {
      await fake.close();
    }
  });

  it('--since filters by first day; a bad date exits 2', () => {
    const usageFile = join(dataDir, 'usage.json');
    const row = (day: string, requests: number) => ({
      day,
      keyId: 'k1',
      user: 'alice',
      requests,
      errors: 0,
      promptTokens: 1,
      completionTokens: 2,
      bytesIn: 3,
      bytesOut: 4,
      durationMs: 5,
    });
    writeFileSync(usageFile, JSON.stringify({ version: 1, rows: [row('2026-01-01', 1), row('2026-02-01', 2), row('2026-03-01', 3)] }));
    expect(json<UsageJson[]>('usage', '--json').map((r) => r.day)).toEqual(['2026-03-01', '2026-02-01', '2026-01-01']);
    expect(json<UsageJson[]>('usage', '--json', '--since', '2026-02-01').map((r) => r.requests)).toEqual([3, 2]);
    expect(json<UsageJson[]>('usage', '--json', '--since', '2026-02-02').map((r) => r.requests)).toEqual([3]);
    expect(json<UsageJson[]>('usage', '--json', '--since', '2099-01-01')).toEqual([]);
    expect(ok('usage', '--since', '2099-01-01').trim()).toBe('No usage since 2099-01-01.');

    for (const bad of ['yesterday', '2026/02/01', '1.2.2026']) {
      const run = cli('usage', '--since', bad);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`--since takes a date such as 2026-11-01, not "${bad}"`);
    }
  });

  it('says so when nothing was recorded yet', () => {
    expect(ok('usage').trim()).toBe('No usage recorded yet.');
    expect(json<UsageJson[]>('usage', '--json')).toEqual([]);
  });

  it('a corrupt usage file: exit 1 naming it, and it is left untouched', () => {
    const usageFile = join(dataDir, 'usage.json');
    writeFileSync(usageFile, '{"rows": [ oops');
    const run = cli('usage', '--json');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(usageFile);
    expect(readFileSync(usageFile, 'utf8')).toBe('{"rows": [ oops');
  });
});

describe('serve --tls', () => {
  it('prints its HTTPS URL and the SHA-256 fingerprint of the certificate it keeps in the data dir', async () => {
    const fake = await startFakeOllama();
    try {
      const { serve, url } = await startServe(fake.url, '--tls', '--tls-port', '0');
      const httpsLine = await serve.waitForLine(/HTTPS on (https:\/\/\S+)/);
      const httpsUrl = httpsLine.match(/HTTPS on (https:\/\/\S+)/)![1]!;
      expect(httpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(httpsUrl).not.toBe(url.replace('http:', 'https:'));
      const certLine = await serve.waitForLine(/SHA-256 fingerprint/);
      const printed = certLine.match(/SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/)![1];
      const certFile = join(dataDir, 'tls', 'cert.pem');
      expect(certLine).toContain(certFile);
      const cert = readFileSync(certFile, 'utf8');
      expect(printed).toBe(new X509Certificate(cert).fingerprint256);

      // A client pinning that certificate reaches the gate and sees that fingerprint.
      const presented = await new Promise<{ status: number; fingerprint: string; body: string }>((resolve, reject) => {
        const req = httpsRequest(`${httpsUrl}/`, { ca: cert, agent: false }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, fingerprint: (res.socket as TLSSocket).getPeerCertificate().fingerprint256, body }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(presented.status).toBe(200);
      expect(presented.fingerprint).toBe(printed);
      expect(JSON.parse(presented.body).https.fingerprint_sha256).toBe(printed);
      expect(await serve.stop('SIGTERM')).toBe(0);

      // The next run keeps the same certificate.
      const again = await startServe(fake.url, '--tls', '--tls-port', '0');
      const line = await again.serve.waitForLine(/SHA-256 fingerprint/);
      expect(line).toContain(printed);
    } finally {
      await fake.close();
    }
  });

  it('reports a missing certificate file and keeps serving plain HTTP', async () => {
    const fake = await startFakeOllama();
    try {
      const missing = join(dataDir, 'missing.crt');
      const { serve, url } = await startServe(fake.url, '--tls-port', '0', '--tls-cert', missing, '--tls-key', join(dataDir, 'missing.key'));
      const line = await serve.waitForLine(/HTTPS: /);
      expect(line).toContain(missing);
      expect((await fetch(`${url}/`)).status).toBe(200);
    } finally {
      await fake.close();
    }
  });

  it('refuses a bad --tls-port with exit 2', () => {
    const run = cli('serve', '--tls', '--tls-port', 'https');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--tls-port must be a number from 0 to 65535, not "https"');
  });
});
