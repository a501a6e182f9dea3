import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../test/support/fake-ollama.js';
import { MemoryDocument } from '../../test/support/memory-document.js';
import type { GateResult, LockoutView, LogEntry } from '../shared/contract.js';
import { GateStore } from './gate-store.js';
import { type Gateway, createGateway } from './gateway.js';
import { formatLogLine } from './log-line.js';
import { type GateService, createGateService } from './service.js';

function ok<T>(result: GateResult<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** A GET from a chosen loopback address (127.0.0.2 is another client to the gate); resolves with the status. */
function getFrom(localAddress: string, url: string, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { localAddress, headers: { 'X-API-Key': key } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Lockouts through the service as the window uses them, over a real gate on real sockets: wrong
 * keys lock an address out, the log says why, the window is told, and an unlock lets the next
 * request with a good key through at once.
 */
describe('lockouts through the gate service', () => {
  let fake: FakeOllama;
  let service: GateService;
  let base: string;
  let secret: string;
  const logs: LogEntry[] = [];
  const lockoutEvents: LockoutView[][] = [];

  /** Resolves with the first lockouts event from now on that matches (call it before what causes the event). */
  function nextLockouts(predicate: (list: LockoutView[]) => boolean, timeoutMs = 3_000): Promise<LockoutView[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching lockouts event in time')), timeoutMs);
      const stop = service.on('lockouts', (list) => {
        if (!predicate(list)) return;
        clearTimeout(timer);
        stop();
        resolve(list);
      });
    });
  }

  async function logFor(id: string | null): Promise<LogEntry> {
    for (let i = 0; i < 100; i++) {
      const entry = logs.find((e) => e.id === id);
      if (entry) return entry;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no log entry for ${id}`);
  }

  let gateway: Gateway;

  beforeAll(async () => {
    fake = await startFakeOllama();
    const store = new GateStore(new MemoryDocument(), { host: '127.0.0.1', port: 0, upstream: fake.url });
    gateway = createGateway({ keys: store, settings: store, exposureAddresses: () => [] });
    service = createGateService({
      gateway,
      store,
      logIntervalMs: 10,
      app: { name: 'Ollama Gate', version: '0.1.0', host: 'headless', platform: 'linux', versions: {}, dataDir: '', logsDir: '' },
    });
    service.on('logs', (batch) => logs.push(...batch));
    service.on('lockouts', (list) => lockoutEvents.push(list));
    base = ok(await service.call('proxy.start')).urls[0]!;
    secret = ok(await service.call('keys.create', { user: 'alice' })).secret;
  });

  afterAll(async () => {
    await service.close();
    await fake.close();
  });

  it('lists nobody at first, and refuses an unlock that is not an address', async () => {
    expect(ok(await service.call('lockouts.list'))).toEqual([]);
    for (const ip of ['', 'not-an-ip', '10.0.0.256', '127.0.0.1; rm -rf /']) {
      const refused = await service.call('lockouts.unlock', { ip });
      expect(refused).toMatchObject({ ok: false, error: { code: 'invalid_input', issues: [{ path: 'ip' }] } });
    }
    expect(await service.call('lockouts.unlock', { ip: '10.0.0.1', extra: 1 })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await service.call('lockouts.unlock', { ip: '10.0.0.1' })).toEqual({
      ok: false,
      error: { code: 'not_found', message: '10.0.0.1 is not locked out and has no wrong keys counted' },
    });
  });

  it('shows an address counting wrong keys, then locked out, and logs the refusals as locked out', async () => {
    const counted = nextLockouts((list) => list.some((e) => e.ip === '127.0.0.2'));
    expect(await getFrom('127.0.0.2', `${base}/api/tags`, 'og_wrong_other')).toBe(403);
    const counting = await counted;
    expect(counting.find((e) => e.ip === '127.0.0.2')).toMatchObject({ failures: 1, lockedUntil: null });

    const locked = nextLockouts((list) => list.some((e) => e.ip === '127.0.0.1' && e.lockedUntil !== null));
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await fetch(`${base}/api/tags`, { headers: { 'X-API-Key': `og_wrong_${i}` } })).status);
    expect(statuses).toEqual(Array(10).fill(403));
    const before = Date.now();
    const entry = (await locked).find((e) => e.ip === '127.0.0.1')!;
    expect(entry.failures).toBe(10);
    expect(entry.lockedUntil! - before).toBeGreaterThan(290_000); // the 300 s default cooldown
    expect(entry.lockedUntil! - before).toBeLessThanOrEqual(300_000);
    const listed = ok(await service.call('lockouts.list'));
    expect(listed.map((e) => [e.ip, e.lockedUntil === null])).toEqual([
      ['127.0.0.1', false],
      ['127.0.0.2', true],
    ]);

    // Even the right key is refused now; the log says why in words and as a code.
    const refused = await fetch(`${base}/api/tags`, { headers: { 'X-API-Key': secret } });
    expect(refused.status).toBe(429);
    const logged = await logFor(refused.headers.get('x-request-id'));
    expect(logged.error).toMatch(/^127\.0\.0\.1 is locked out after too many failed API keys; try again in \d+ s$/);
    expect(logged.reason).toMatchObject({ code: 'locked_out', params: { ip: '127.0.0.1' } });
    expect(logged.reason!.params!.seconds).toBeGreaterThan(290);
    // The log file's line says it plainly too, not just 429.
    expect(formatLogLine(logged)).toMatch(/-> 429 .*denied: 127\.0\.0\.1 is locked out after too many failed API keys/);
    // The wrong key that started the lockout says so too.
    const tenth = logs.filter((e) => e.reason?.code === 'invalid_key_locking');
    expect(tenth).toHaveLength(1);
    expect(tenth[0]!.error).toBe('invalid API key; too many failed keys: 127.0.0.1 is locked out for 300 s');
  });

  it("explains the window's test request with the logged reason", async () => {
    const test = ok(await service.call('proxy.test', { key: secret }));
    expect(test.status).toBe(429);
    expect(test.detail).toMatch(/is locked out/);
    expect(test.reason).toMatchObject({ code: 'locked_out', params: { ip: '127.0.0.1' } });
  });

  it('unlocks at once: the next request with a good key passes, and the window is told', async () => {
    const told = nextLockouts((list) => !list.some((e) => e.ip === '127.0.0.1'));
    expect(ok(await service.call('lockouts.unlock', { ip: '127.0.0.1' }))).toBeNull();
    expect((await told).map((e) => e.ip)).toEqual(['127.0.0.2']);
    expect((await fetch(`${base}/api/tags`, { headers: { 'X-API-Key': secret } })).status).toBe(200);
    expect(await service.call('lockouts.unlock', { ip: '127.0.0.1' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    // An IPv4-mapped IPv6 address names the same client.
    expect(ok(await service.call('lockouts.unlock', { ip: '::ffff:127.0.0.2' }))).toBeNull();
    expect(ok(await service.call('lockouts.list'))).toEqual([]);
    // An IPv6 address typed in full or in capitals names the client recorded as fe80::1.
    gateway.lockout.recordFailure('fe80::1');
    expect(ok(await service.call('lockouts.unlock', { ip: 'FE80:0:0:0:0:0:0:1' }))).toBeNull();
    expect(ok(await service.call('lockouts.list'))).toEqual([]);
  });

  it('explains a test with a wrong key, and one that works', async () => {
    const wrong = ok(await service.call('proxy.test', { key: 'og_not-a-key' }));
    expect(wrong).toMatchObject({ status: 403, detail: 'invalid API key', reason: { code: 'invalid_key' } });
    const works = ok(await service.call('proxy.test', { key: secret }));
    expect(works.status).toBe(200);
    expect(works.reason).toMatchObject({ code: expect.stringMatching(/^test_key_works/) });
  });

  it('sends lockouts events only while someone listens, batched under a burst of wrong keys', async () => {
    const count = lockoutEvents.length;
    await Promise.all(Array.from({ length: 8 }, (_, i) => getFrom('127.0.0.3', `${base}/api/tags`, `og_burst_${i}`)));
    await new Promise((resolve) => setTimeout(resolve, 600));
    const burst = lockoutEvents.slice(count);
    // Eight wrong keys within a fraction of a second: far fewer events than keys, the last one complete.
    expect(burst.length).toBeGreaterThanOrEqual(1);
    expect(burst.length).toBeLessThan(8);
    expect(burst.at(-1)!.find((e) => e.ip === '127.0.0.3')).toMatchObject({ failures: 8, lockedUntil: null });
  });
});
