/**
 * HTTPS turned on, moved and off from the window, as `ollama-gate serve` runs it: the real store file
 * watched for changes (whose echo of the window's own write restarts the listeners a second time),
 * the real gateway, real sockets. The status must say what listens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../test/support/fake-ollama.js';
import { openStore } from '../cli/open-store.js';
import type { GateResult, ProxyStatus } from '../shared/contract.js';
import type { GateStore } from './gate-store.js';
import { createGateway } from './gateway.js';
import { type GateService, createGateService } from './service.js';

function ok<T>(result: GateResult<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function occupy(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

async function freePort(): Promise<number> {
  const { port, server } = await occupy();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** GET over HTTPS trusting any certificate, reporting the one served (what a client pins). */
function httpsGet(url: string): Promise<{ status: number; fingerprint256: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { rejectUnauthorized: false, agent: false }, (res) => {
      const fingerprint256 = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint256 }));
    });
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('HTTPS applied from the window', () => {
  let dir: string;
  let fake: FakeOllama;
  let store: GateStore;
  let service: GateService;
  const statuses: ProxyStatus[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gate-service-tls-'));
    fake = await startFakeOllama();
    store = openStore(dir);
    store.updateSettings({ host: '127.0.0.1', port: 0, upstream: fake.url });
    // As serve does: the window's own write comes back from the file a moment later.
    store.watch();
    const gateway = createGateway({ keys: store, settings: store, dataDir: dir, exposureAddresses: () => [] });
    service = createGateService({
      gateway,
      store,
      app: { name: 'Ollama Gate', version: '0', host: 'headless', platform: process.platform, versions: {}, dataDir: dir, logsDir: dir },
    });
    statuses.length = 0;
    service.on('status', (status) => statuses.push(status));
    ok(await service.call('proxy.start'));
  });

  afterEach(async () => {
    await service.close();
    store.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('turned on, on a free port of a fresh data folder: applied, listening, and the status says so then and after', async () => {
    const port = await freePort();
    ok(await service.call('settings.update', { proxy: { tlsEnabled: true, tlsPort: port } }));
    const expected = {
      port,
      urls: [`https://127.0.0.1:${port}`],
      error: null,
      reason: null,
      fingerprint256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
    };
    expect(ok(await service.call('proxy.status')).tls).toMatchObject(expected);
    // The store file's echo of the write arrives (it polls every 250 ms) and changes nothing.
    await sleep(700);
    const { tls } = ok(await service.call('proxy.status'));
    expect(tls).toMatchObject(expected);
    expect(statuses.filter((status) => status.tls?.error)).toEqual([]);
    const answer = await httpsGet(`https://127.0.0.1:${port}/health`);
    expect(answer).toEqual({ status: 200, fingerprint256: tls!.fingerprint256 });
  });

  it('moves to another HTTPS port, refuses a taken one (HTTPS serving on where it was), and turns off', async () => {
    const first = await freePort();
    ok(await service.call('settings.update', { proxy: { tlsEnabled: true, tlsPort: first } }));
    const second = await freePort();
    const moved = ok(await service.call('settings.update', { proxy: { tlsPort: second } }));
    expect(moved.proxy.tlsPort).toBe(second);
    expect(ok(await service.call('proxy.status')).tls).toMatchObject({ port: second, urls: [`https://127.0.0.1:${second}`], error: null });
    expect((await httpsGet(`https://127.0.0.1:${second}/`)).status).toBe(200);
    await expect(httpsGet(`https://127.0.0.1:${first}/`)).rejects.toThrow();

    const taken = await occupy();
    try {
      const refused = await service.call('settings.update', { proxy: { tlsPort: taken.port } });
      expect(refused).toMatchObject({
        ok: false,
        error: { code: 'listen_failed', message: `HTTPS: port ${taken.port} is already in use on 127.0.0.1: stop the other program or choose another port` },
      });
      // Put back: the settings and the status say where HTTPS still serves, with nothing wrong there.
      expect(store.current().tlsPort).toBe(second);
      await sleep(400);
      expect(ok(await service.call('proxy.status')).tls).toMatchObject({ port: second, urls: [`https://127.0.0.1:${second}`], error: null });
      expect((await httpsGet(`https://127.0.0.1:${second}/`)).status).toBe(200);
    } finally {
      taken.server.close();
    }

    ok(await service.call('settings.update', { proxy: { tlsEnabled: false } }));
    const off = ok(await service.call('proxy.status'));
    expect(off).toMatchObject({ state: 'listening', error: null, tls: null });
    await expect(httpsGet(`https://127.0.0.1:${second}/`)).rejects.toThrow();
    expect((await fetch(`${off.urls[0]}/`)).status).toBe(200);
  });

  it('refuses HTTPS with a certificate it cannot read, and leaves it off', async () => {
    const refused = await service.call('settings.update', {
      proxy: { tlsEnabled: true, tlsPort: await freePort(), tlsCertFile: join(dir, 'nope.crt'), tlsKeyFile: join(dir, 'nope.key') },
    });
    expect(refused).toMatchObject({ ok: false, error: { code: 'listen_failed', message: expect.stringContaining(join(dir, 'nope.crt')) } });
    expect(store.current()).toMatchObject({ tlsEnabled: false, tlsCertFile: null });
    expect(ok(await service.call('proxy.status')).tls).toBeNull();
  });
});
