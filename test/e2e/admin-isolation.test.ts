/**
 * The admin surface (GateApi, its events and the built UI) lives on its own loopback listener and
 * is never reachable through the proxy's, whatever path, verb or credential is tried there.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../support/fake-ollama.js';
import { type RawAnswer, type RawRequestOptions, rawRequest } from '../support/raw-request.js';
import { CLI, ROOT, type Serve, startServe } from './support.js';

/** A raw request (the path goes out as written); an event stream is judged by what arrives in a second. */
const send = (base: string, path: string, options?: RawRequestOptions): Promise<RawAnswer> =>
  rawRequest(new URL(base).origin + path, { cutAfterMs: 1_000, ...options });

describe('the proxy port never serves the admin', () => {
  let fake: FakeOllama;
  let serve: Serve;
  let apiKey: string;
  let asset: string;

  beforeAll(async () => {
    fake = await startFakeOllama();
    serve = await startServe(fake.url);
    const created = await send(serve.adminUrl, '/gate/keys.create', {
      method: 'POST',
      headers: { authorization: `Bearer ${serve.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'isolation-canary', scope: 'full' }),
    });
    apiKey = (JSON.parse(created.body) as { value: { secret: string } }).value.secret;
    asset = /src="\.?(\/assets\/[^"]+\.js)"/.exec(readFileSync(join(ROOT, 'dist', 'renderer', 'index.html'), 'utf8'))![1]!;
  });

  afterAll(async () => {
    await serve?.stop();
    await fake?.close();
  });

  const paths = () => [
    '/gate/keys.list',
    '/gate/keys.create',
    '/gate/events',
    '/gate/app.info',
    '/index.html',
    '/',
    asset,
    `/?token=${serve.token}`,
    `/index.html?token=${serve.token}`,
    '/../index.html',
    '/%2e%2e/renderer/index.html',
    '/api/../index.html',
    '/api/%2e%2e/gate/keys.list',
    '/gate/../gate/keys.list',
    '//gate/keys.list',
    '/renderer/index.html',
    `/..${asset}`,
  ];
  const credentials = (): Array<Record<string, string>> => [
    {},
    { authorization: `Bearer ${serve.token}` },
    { cookie: `ollama_gate_admin=${serve.token}` },
    { authorization: `Bearer ${apiKey}` },
    { 'x-api-key': apiKey, cookie: `ollama_gate_admin=${serve.token}` },
  ];

  /** Anything that would show the admin answered: its UI, a GateResult, its events, its cookie, its data. */
  function expectNoAdmin(answer: RawAnswer, what: string) {
    expect(answer.body, what).not.toContain('<div id="root">');
    expect(answer.body, what).not.toMatch(/^\s*\{\s*"ok"\s*:/);
    expect(answer.body, what).not.toContain('isolation-canary');
    expect(answer.body, what).not.toContain('event: ');
    expect(String(answer.headers['content-type'] ?? ''), what).not.toContain('text/event-stream');
    expect(String(answer.headers['content-type'] ?? ''), what).not.toContain('javascript');
    expect(String(answer.headers['set-cookie'] ?? ''), what).not.toContain('ollama_gate_admin');
  }

  it('the same requests do reach the admin on its own port (so the checks below can see it)', async () => {
    const auth = { authorization: `Bearer ${serve.token}` };
    expect((await send(serve.adminUrl, '/index.html', { headers: auth })).body).toContain('<div id="root">');
    expect((await send(serve.adminUrl, '/gate/keys.list', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' } })).body).toContain(
      'isolation-canary',
    );
    expect((await send(serve.adminUrl, '/gate/events', { headers: auth })).headers['content-type']).toContain('text/event-stream');
    expect((await send(serve.adminUrl, `/?token=${serve.token}`)).headers['set-cookie']).toBeDefined();
  });

  it('every path, verb and credential on the proxy port gets none of it', async () => {
    let tried = 0;
    for (const path of paths()) {
      for (const headers of credentials()) {
        for (const method of ['GET', 'POST', 'HEAD']) {
          const body = method === 'POST' ? '{}' : undefined;
          const answer = await send(serve.proxyUrl, path, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body });
          expectNoAdmin(answer, `${method} ${path} ${JSON.stringify(headers)} -> ${answer.status}`);
          tried++;
        }
      }
    }
    expect(tried).toBe(paths().length * credentials().length * 3);
  });

  it('the admin listens on loopback only and says so', () => {
    expect(serve.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(serve.output.join('\n')).toMatch(/Web admin on http:\/\/127\.0\.0\.1:\d+\/ \(this machine only\)/);
  });
});

describe('choosing the admin port', () => {
  it('takes it from --admin-port or OLLAMA_GATE_ADMIN_PORT, and turns the admin off with --no-admin', async () => {
    const fake = await startFakeOllama();
    const fromFlag = await freePort();
    const fromEnv = await freePort();
    const flagged = await startServe(fake.url, ['--admin-port', String(fromFlag)]);
    const environment = await startServe(fake.url, [], { OLLAMA_GATE_ADMIN_PORT: String(fromEnv) });
    const off = await startServe(fake.url, ['--no-admin']);
    try {
      expect(flagged.adminUrl).toBe(`http://127.0.0.1:${fromFlag}/`);
      expect(environment.adminUrl).toBe(`http://127.0.0.1:${fromEnv}/`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(off.output.join('\n')).not.toMatch(/token=|Web admin/);
    } finally {
      await Promise.all([flagged.stop(), environment.stop(), off.stop()]);
      await fake.close();
    }
  });

  it('refuses a port that is not one, and --admin-port together with --no-admin', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, 'serve', '--data-dir', tmpdir(), ...args], {
        encoding: 'utf8',
        timeout: 10_000,
        env: { ...process.env, OLLAMA_GATE_LAN_CHECK: '0' },
      });
    const bad = run('--admin-port', 'eighty');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--admin-port must be a number from 0 to 65535, not "eighty"');
    const both = run('--admin-port', '8001', '--no-admin');
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('--admin-port and --no-admin contradict each other');
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
