/**
 * The window's test request (`proxy.test`) through the real gateway: each answer of the gate comes
 * back with its status, its reason and, for a limit, its Retry-After, so the Test card can say
 * which it was.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../test/support/fake-ollama.js';
import { openStore } from '../cli/open-store.js';
import type { GateResult } from '../shared/contract.js';
import type { GateStore } from './gate-store.js';
import { createGateway } from './gateway.js';
import { type GateService, createGateService } from './service.js';

function ok<T>(result: GateResult<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

describe("the window's test request tells the gate's answers apart", () => {
  let dir: string;
  let fake: FakeOllama;
  let store: GateStore;
  let service: GateService;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gate-test-request-'));
    fake = await startFakeOllama();
    store = openStore(dir);
    store.updateSettings({ host: '127.0.0.1', port: 0, upstream: fake.url });
    const gateway = createGateway({ keys: store, settings: store, dataDir: dir, exposureAddresses: () => [] });
    service = createGateService({
      gateway,
      store,
      app: { name: 'Ollama Gate', version: '0', host: 'headless', platform: process.platform, versions: {}, dataDir: dir, logsDir: dir },
    });
    ok(await service.call('proxy.start'));
  });

  afterAll(async () => {
    await service.close();
    store.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without a key: what a client without one gets, then /health, which needs none', async () => {
    const { urls } = ok(await service.call('proxy.status'));
    const result = ok(await service.call('proxy.test'));
    expect(result).toMatchObject({ url: `${urls[0]}/api/tags`, status: 401, reason: { code: 'missing_key' }, retryAfterSeconds: null });
    expect(result.health).toMatchObject({ url: `${urls[0]}/health`, status: 200, reason: { code: 'test_gate_ok' } });
    // With a key, /health is not asked.
    const { secret } = ok(await service.call('keys.create', { user: 'tester' }));
    expect(ok(await service.call('proxy.test', { key: secret }))).toMatchObject({
      status: 200,
      reason: { code: 'test_key_works', params: { count: 3 } },
      health: null,
    });
  });

  it('a disabled key and an expired one, each by name', async () => {
    const { key, secret } = ok(await service.call('keys.create', { user: 'dora' }));
    ok(await service.call('keys.setEnabled', { id: key.id, enabled: false }));
    expect(ok(await service.call('proxy.test', { key: secret }))).toMatchObject({ status: 403, reason: { code: 'disabled_key' } });
    ok(await service.call('keys.setEnabled', { id: key.id, enabled: true }));
    ok(await service.call('keys.update', { id: key.id, expiresAt: Date.now() - 1_000 }));
    expect(ok(await service.call('proxy.test', { key: secret }))).toMatchObject({ status: 403, reason: { code: 'expired_key' } });
  });

  it('a rate limit, with the seconds until it lifts', async () => {
    const { secret } = ok(await service.call('keys.create', { user: 'rita', rpm: 1 }));
    expect(ok(await service.call('proxy.test', { key: secret })).status).toBe(200);
    const limited = ok(await service.call('proxy.test', { key: secret }));
    expect(limited).toMatchObject({ status: 429, reason: { code: 'rate_limit_rpm', params: { limit: 1 } } });
    expect(limited.retryAfterSeconds).toBeGreaterThan(0);
    expect(limited.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('Ollama not answering behind a working gate', async () => {
    const { secret } = ok(await service.call('keys.create', { user: 'olga' }));
    ok(await service.call('settings.update', { proxy: { upstream: 'http://127.0.0.1:9' } }));
    try {
      const result = ok(await service.call('proxy.test', { key: secret }));
      expect(result).toMatchObject({ status: 502, reason: { code: 'upstream_refused' } });
      // /health reuses its answer for a second: ask until it is Ollama's new state.
      const deadline = Date.now() + 3_000;
      let health = ok(await service.call('proxy.test')).health;
      while (health?.status !== 503 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        health = ok(await service.call('proxy.test')).health;
      }
      expect(health).toMatchObject({ status: 503 });
    } finally {
      ok(await service.call('settings.update', { proxy: { upstream: fake.url } }));
    }
  });
});
