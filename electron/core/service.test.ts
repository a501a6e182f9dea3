import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../test/support/fake-ollama.js';
import { openStore } from '../cli/open-store.js';
import type { DesktopSettings, EventName, GateEvents, GateResult, LogEntry } from '../shared/contract.js';
import type { GateStore } from './gate-store.js';
import { createGateway } from './gateway.js';
import { type GateService, createGateService } from './service.js';

/** The value of a result that must have succeeded. */
function ok<T>(result: GateResult<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Occupies a port on 127.0.0.1 until closed. */
async function occupy(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

const APP = {
  name: 'Ollama Gate',
  version: '0.1.0',
  host: 'headless' as const,
  platform: process.platform,
  versions: { node: process.versions.node },
  dataDir: '',
  logsDir: '',
};

describe('the gate service over the real core and a fake Ollama', () => {
  let dir: string;
  let fake: FakeOllama;
  let store: GateStore;
  let service: GateService;
  const events: { [E in EventName]: Array<GateEvents[E]> } = {
    logs: [],
    health: [],
    backends: [],
    status: [],
    keys: [],
    lockouts: [],
    settings: [],
    navigate: [],
  };
  let desktop: DesktopSettings;

  /** Resolves once an event matching the predicate has arrived (or had already). */
  function waitFor<E extends EventName>(event: E, predicate: (payload: GateEvents[E]) => boolean, timeoutMs = 3_000): Promise<GateEvents[E]> {
    const seen = (events[event] as Array<GateEvents[E]>).find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching ${event} event in time`)), timeoutMs);
      const stop = service.on(event, (payload) => {
        if (!predicate(payload)) return;
        clearTimeout(timer);
        stop();
        resolve(payload);
      });
    });
  }

  /** The proxy's loopback URL, from the last status the window was sent. */
  const gateUrl = (): string => {
    const url = events.status.at(-1)?.urls[0];
    if (!url) throw new Error('the proxy is not listening');
    return url;
  };
  const logsFor = (predicate: (e: LogEntry) => boolean) => events.logs.flat().filter(predicate);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gate-service-'));
    fake = await startFakeOllama();
    store = openStore(dir);
    store.updateSettings({ host: '127.0.0.1', port: 0, upstream: fake.url });
    store.watch(50);
    const gateway = createGateway({ keys: store, settings: store, usageFile: join(dir, 'usage.json'), dataDir: dir, exposureAddresses: () => [] });
    desktop = { startOnLaunch: true, launchAtLogin: false, showInDock: false, language: 'system' };
    service = createGateService({
      gateway,
      store,
      app: { ...APP, dataDir: dir, logsDir: join(dir, 'logs') },
      desktop: { get: () => desktop, update: (patch) => (desktop = { ...desktop, ...patch }) },
    });
    for (const name of Object.keys(events) as EventName[]) service.on(name, (payload) => (events[name] as unknown[]).push(payload));
    service.start();
  });

  afterAll(async () => {
    await service.close();
    store.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the proxy and reports it listening', async () => {
    const status = ok(await service.call('proxy.start'));
    expect(status).toMatchObject({ state: 'listening', host: '127.0.0.1', error: null, tls: null });
    expect(status.urls[0]).toBe(`http://127.0.0.1:${status.port}`);
    expect(events.status.at(-1)).toEqual(status);
    expect(ok(await service.call('proxy.status'))).toEqual(status);
  });

  it('reports Ollama health, polled in the background', async () => {
    const health = await waitFor('health', (h) => h.reachable);
    expect(health).toMatchObject({ upstream: fake.url, version: '0.12.6', error: null, exposedOn: [] });
    expect(health.models.map((m) => m.name)).toContain('llama3.2:latest');
    expect(ok(await service.call('health.get')).reachable).toBe(true);
  });

  it('creates a key whose secret works at once, and whose request reaches the window as a batched log event', async () => {
    const created = ok(await service.call('keys.create', { user: ' alice ', name: 'laptop', models: ['llama3*'] }));
    expect(created.secret).toMatch(/^og_/);
    expect(created.key).toMatchObject({
      user: 'alice',
      name: 'laptop',
      scope: 'inference',
      models: ['llama3*'],
      enabled: true,
      expired: false,
      prefix: created.secret.slice(0, 8),
    });
    expect(created.key).not.toHaveProperty('hash');
    const keysEvent = await waitFor('keys', (keys) => keys.some((k) => k.id === created.key.id));
    expect(JSON.stringify(keysEvent)).not.toContain(created.secret);

    const response = await fetch(`${gateUrl()}/api/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.secret}` },
      body: JSON.stringify({ model: 'llama3.2', prompt: 'hi', stream: false }),
    });
    expect(response.status).toBe(200);
    await response.text();
    const batch = await waitFor('logs', (entries) => entries.some((e) => e.user === 'alice' && e.path === '/api/generate'));
    const entry = batch.find((e) => e.user === 'alice')!;
    expect(entry).toMatchObject({ method: 'POST', status: 200, keyId: created.key.id, keyPrefix: created.key.prefix, outcome: 'ok', model: 'llama3.2' });
    expect(entry.seq).toBeGreaterThan(0);
    expect(JSON.stringify(events.logs)).not.toContain(created.secret);

    // The request loaded llama3.2: the health view follows without waiting for the next poll.
    await waitFor('health', (h) => h.loaded.some((m) => m.name === 'llama3.2:latest'));

    const listed = ok(await service.call('keys.list')).find((k) => k.id === created.key.id)!;
    expect(listed.today.requests).toBe(1);
    expect(listed.lastUsedAt === null || listed.lastUsedAt > 0).toBe(true);
  });

  it('keeps log traffic to a few batched messages under a burst, and serves the recent history', async () => {
    const { key, secret } = ok(await service.call('keys.create', { user: 'burst' }));
    const before = events.logs.length;
    await Promise.all(Array.from({ length: 200 }, () => fetch(`${gateUrl()}/api/tags`, { headers: { 'x-api-key': secret } }).then((r) => r.text())));
    await waitFor('logs', () => logsFor((e) => e.keyId === key.id).length === 200);
    const messages = events.logs.length - before;
    expect(messages).toBeGreaterThanOrEqual(1);
    // 200 requests finishing within a few hundred ms: a handful of messages, not 200.
    expect(messages).toBeLessThan(20);

    const recent = ok(await service.call('logs.recent'));
    expect(recent.filter((e) => e.keyId === key.id)).toHaveLength(200);
    expect(recent.every((e, i) => i === 0 || e.seq > recent[i - 1]!.seq)).toBe(true);
    const last = recent.at(-1)!;
    expect(ok(await service.call('logs.recent', { after: last.seq - 3 })).map((e) => e.seq)).toEqual([last.seq - 2, last.seq - 1, last.seq]);
    expect(ok(await service.call('logs.recent', { limit: 1 }))).toEqual([last]);
  });

  it('disables a key through the service: the next request gets 403', async () => {
    const { key, secret } = ok(await service.call('keys.create', { user: 'bob' }));
    const call = () => fetch(`${gateUrl()}/api/tags`, { headers: { authorization: `Bearer ${secret}` } });
    expect((await call()).status).toBe(200);
    const disabled = ok(await service.call('keys.setEnabled', { id: key.id, enabled: false }));
    expect(disabled.enabled).toBe(false);
    expect((await call()).status).toBe(403);
    ok(await service.call('keys.setEnabled', { id: key.id, enabled: true }));
    expect((await call()).status).toBe(200);
  });

  it('updates a key and rotates its secret: the old one stops working, its sessions end', async () => {
    const { key, secret } = ok(await service.call('keys.create', { user: 'carol' }));
    const updated = ok(await service.call('keys.update', { id: key.id, name: 'phone', rpm: 60, dailyTokens: 10_000, scope: 'full' }));
    expect(updated).toMatchObject({ user: 'carol', name: 'phone', rpm: 60, dailyTokens: 10_000, scope: 'full', concurrency: null });

    const auth = await fetch(`${gateUrl()}/auth`, { method: 'POST', body: JSON.stringify({ api_key: secret }) });
    expect(auth.status).toBe(200);
    expect(ok(await service.call('sessions.list')).map((s) => s.keyId)).toContain(key.id);

    const rotated = ok(await service.call('keys.rotate', { id: key.id }));
    expect(rotated.secret).not.toBe(secret);
    expect(rotated.key.id).toBe(key.id);
    expect(ok(await service.call('sessions.list')).map((s) => s.keyId)).not.toContain(key.id);
    expect((await fetch(`${gateUrl()}/api/tags`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(403);
    expect((await fetch(`${gateUrl()}/api/tags`, { headers: { authorization: `Bearer ${rotated.secret}` } })).status).toBe(200);

    ok(await service.call('keys.remove', { id: key.id }));
    expect(ok(await service.call('keys.list')).map((k) => k.id)).not.toContain(key.id);
    expect((await fetch(`${gateUrl()}/api/tags`, { headers: { authorization: `Bearer ${rotated.secret}` } })).status).toBe(403);
  });

  it('lists and revokes IP sessions', async () => {
    const { key, secret } = ok(await service.call('keys.create', { user: 'dave' }));
    await fetch(`${gateUrl()}/auth`, { method: 'POST', body: JSON.stringify({ api_key: secret }) });
    const session = ok(await service.call('sessions.list')).find((s) => s.keyId === key.id)!;
    expect(session).toMatchObject({ ip: '127.0.0.1', user: 'dave' });
    expect((await fetch(`${gateUrl()}/api/tags`)).status).toBe(200);
    ok(await service.call('sessions.revoke', { ip: session.ip }));
    expect((await fetch(`${gateUrl()}/api/tags`)).status).toBe(401);
    expect(await service.call('sessions.revoke', { ip: session.ip })).toEqual({ ok: false, error: { code: 'not_found', message: 'no session for 127.0.0.1' } });
  });

  it('answers usage per key and day', async () => {
    const rows = ok(await service.call('usage.query'));
    const alice = rows.find((r) => r.user === 'alice')!;
    expect(alice).toMatchObject({ day: new Date().toISOString().slice(0, 10), requests: 1, errors: 0 });
    expect(ok(await service.call('usage.query', { keyId: alice.keyId }))).toEqual([alice]);
    expect(ok(await service.call('usage.query', { since: '2999-01-01' }))).toEqual([]);
  });

  it('sends a real test request through the gate, with and without a key', async () => {
    const open = ok(await service.call('proxy.test'));
    expect(open).toMatchObject({
      url: `${gateUrl()}/api/tags`,
      status: 401,
      reason: { code: 'missing_key' },
      health: { url: `${gateUrl()}/health`, status: 200 },
    });
    const { secret } = ok(await service.call('keys.create', { user: 'tester' }));
    const keyed = ok(await service.call('proxy.test', { key: secret }));
    expect(keyed).toMatchObject({ url: `${gateUrl()}/api/tags`, status: 200, detail: 'the key works: 3 models visible through the gate' });
    const wrong = ok(await service.call('proxy.test', { key: 'og_not-a-key' }));
    expect(wrong.status).toBe(403);
  });

  it('validates every input and answers failures as typed errors', async () => {
    const empty = await service.call('keys.create', { user: '   ' });
    expect(empty).toMatchObject({ ok: false, error: { code: 'invalid_input', issues: [{ path: 'user', message: 'a key needs a user name' }] } });
    expect(await service.call('keys.create', { user: 'x', colour: 'red' })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await service.call('keys.create', { user: 'x', rpm: 0 })).toMatchObject({ ok: false, error: { code: 'invalid_input', issues: [{ path: 'rpm' }] } });
    expect(await service.call('keys.create', { user: 'x', expiresAt: 1 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', issues: [{ path: 'expiresAt' }] },
    });
    expect(await service.call('keys.create')).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await service.call('keys.list', { surprise: true })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await service.call('keys.remove', { id: 'nope' })).toEqual({ ok: false, error: { code: 'not_found', message: 'no key with id "nope"' } });
    expect(await service.call('keys.setEnabled', { id: 'nope', enabled: true })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await service.call('settings.update', { proxy: { port: 70_000 } })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', issues: [{ path: 'proxy.port' }] },
    });
    expect(await service.call('settings.update', { proxy: { upstream: 'ftp://x' } })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await service.call('no.such')).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    expect(await service.call('__proto__')).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    // Methods without input take nothing, null or {} alike (what IPC and HTTP clients send).
    for (const input of [undefined, null, {}]) expect((await service.call('keys.list', input)).ok).toBe(true);
  });

  it('gets and updates settings, proxy and desktop, and tells the window', async () => {
    const view = ok(await service.call('settings.get'));
    expect(view).toMatchObject({ proxy: { host: '127.0.0.1', upstream: fake.url, sessionTtlSeconds: 3600 }, desktop, pinned: [], storePath: store.path });
    const updated = ok(
      await service.call('settings.update', { proxy: { sessionTtlSeconds: 600, corsOrigins: ['http://localhost:3000'] }, desktop: { language: 'zh-CN' } }),
    );
    expect(updated.proxy).toMatchObject({ sessionTtlSeconds: 600, corsOrigins: ['http://localhost:3000'] });
    expect(updated.desktop).toMatchObject({ language: 'zh-CN' });
    expect(store.storedSettings()).toMatchObject({ sessionTtlSeconds: 600 });
    expect(events.settings.at(-1)).toEqual(updated);
  });

  it('moves the listener to a new port live, and keeps the old one when the new port is taken', async () => {
    const oldUrl = gateUrl();
    const { secret } = ok(await service.call('keys.create', { user: 'mover' }));
    const port = await freePort();
    const moved = ok(await service.call('settings.update', { proxy: { port } }));
    expect(moved.proxy.port).toBe(port);
    const status = ok(await service.call('proxy.status'));
    expect(status).toMatchObject({ state: 'listening', port, error: null });
    expect((await fetch(`http://127.0.0.1:${port}/api/tags`, { headers: { 'x-api-key': secret } })).status).toBe(200);
    await expect(fetch(`${oldUrl}/api/tags`)).rejects.toThrow();

    const taken = await occupy();
    try {
      const refused = await service.call('settings.update', { proxy: { port: taken.port } });
      expect(refused).toMatchObject({ ok: false, error: { code: 'listen_failed' } });
      expect(!refused.ok && refused.error.message).toContain(`port ${taken.port} is already in use`);
      // Still serving where it was, and the stored settings and the status say so: the refusal said why.
      expect((await fetch(`http://127.0.0.1:${port}/api/tags`, { headers: { 'x-api-key': secret } })).status).toBe(200);
      expect(store.current().port).toBe(port);
      expect(ok(await service.call('proxy.status'))).toMatchObject({ state: 'listening', port, error: null });
    } finally {
      taken.server.close();
    }
  });

  it('follows a port and a key changed by another process (the CLI) in the store file', async () => {
    const other = openStore(dir);
    try {
      const port = await freePort();
      other.updateSettings({ port });
      const status = await waitFor('status', (s) => s.port === port && s.state === 'listening');
      expect((await fetch(`${status.urls[0]}/`)).status).toBe(200);
      const settings = await waitFor('settings', (view) => view.proxy.port === port);
      expect(settings.pinned).toEqual([]);

      const bob = ok(await service.call('keys.list')).find((k) => k.user === 'bob')!;
      other.update(bob.id, { enabled: false });
      await waitFor('keys', (keys) => keys.some((k) => k.id === bob.id && !k.enabled));
    } finally {
      other.close();
    }
  });

  it('follows a new upstream on the next request, and probes its health at once', async () => {
    const other = await startFakeOllama({ version: '0.20.0' });
    try {
      const { secret } = ok(await service.call('keys.create', { user: 'switcher' }));
      ok(await service.call('settings.update', { proxy: { upstream: other.url } }));
      await (await fetch(`${gateUrl()}/api/tags`, { headers: { 'x-api-key': secret } })).text();
      expect(other.requests.some((r) => r.path === '/api/tags')).toBe(true);
      await waitFor('health', (h) => h.upstream === other.url && h.version === '0.20.0');
    } finally {
      ok(await service.call('settings.update', { proxy: { upstream: fake.url } }));
      await other.close();
    }
  });

  it('says where the gate can be reached on the LAN, and what it is', async () => {
    const network = ok(await service.call('network.addresses'));
    expect(network.sharedOnLan).toBe(false);
    const { port } = ok(await service.call('proxy.status'));
    expect(network.lanUrls).toEqual(network.addresses.map((a) => `http://${a}:${port}`));
    expect(ok(await service.call('app.info'))).toMatchObject({ name: 'Ollama Gate', host: 'headless', dataDir: dir });
  });

  it('stops and starts the proxy', async () => {
    const url = gateUrl();
    expect(ok(await service.call('proxy.stop'))).toMatchObject({ state: 'stopped', urls: [] });
    await expect(fetch(`${url}/`)).rejects.toThrow();
    expect(ok(await service.call('proxy.test')).status).toBeNull();
    const started = ok(await service.call('proxy.start'));
    expect(started.state).toBe('listening');
    expect((await fetch(`${started.urls[0]}/`)).status).toBe(200);
  });
});

describe('the gate service in the headless host', () => {
  it('refuses desktop settings, names the settings the command line pins and refuses to change them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gate-service-'));
    const store = openStore(dir, { port: 0, host: '127.0.0.1' });
    const gateway = createGateway({
      keys: store,
      settings: store,
      exposureAddresses: () => [],
      health: { probe: async () => ({ reachable: false, version: null, latencyMs: null, error: 'down', reason: null, models: [], loaded: [] }) },
    });
    const pinned = [
      { field: 'port' as const, by: '--port' },
      { field: 'host' as const, by: 'OLLAMA_GATE_HOST' },
    ];
    const service = createGateService({
      gateway,
      store,
      app: APP,
      pinned,
    });
    try {
      expect(await service.call('settings.update', { desktop: { language: 'en' } })).toMatchObject({ ok: false, error: { code: 'unsupported' } });
      const view = ok(await service.call('settings.get'));
      expect(view.desktop).toBeNull();
      expect(view.pinned).toEqual(pinned);

      // A pinned setting is refused, naming what pins it, and nothing of the patch is written.
      const refused = await service.call('settings.update', { proxy: { port: 9123, sessionTtlSeconds: 60 } });
      expect(refused).toMatchObject({
        ok: false,
        error: { code: 'invalid_input', issues: [{ path: 'proxy.port', message: expect.stringContaining('--port') }] },
      });
      expect(!refused.ok && refused.error.message).toBe('port is set by --port for this run: start the gate without --port to change it');
      const both = await service.call('settings.update', { proxy: { port: 9123, host: '0.0.0.0' } });
      expect(!both.ok && both.error.issues?.map((issue) => issue.path)).toEqual(['proxy.port', 'proxy.host']);
      expect(store.storedSettings()).toEqual({});
      expect(store.current().port).toBe(0);
      // Its own value again (a form that sends every field) is no change: the rest applies.
      const applied = ok(await service.call('settings.update', { proxy: { port: 0, sessionTtlSeconds: 60 } }));
      expect(applied.proxy).toMatchObject({ port: 0, sessionTtlSeconds: 60 });
      expect(store.storedSettings()).toEqual({ sessionTtlSeconds: 60 });
    } finally {
      await service.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
