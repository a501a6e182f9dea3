/**
 * What a client costs before the gate knows its key: small per-request reads, one budget for all
 * of them, timeouts for silent, stalled and idle connections, and a cap on connections. Each test
 * plays a stranger trying to make the gate hold memory or sockets, and checks that a client with a
 * key is still served.
 */
import { type Socket, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../../test/support/gate-harness.js';
import { parseAnswers } from '../../test/support/raw-exchange.js';
import { ByteBudget } from './request-body.js';
import type { GateSettings } from './settings.js';

let h: Harness | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await h?.close();
  h = undefined;
});

async function gate(settings: Partial<GateSettings>): Promise<Harness> {
  h = await startHarness({ settings: { lockoutMaxFailures: 0, ...settings } });
  return h;
}

/** A raw connection that records what comes back and when it closes. */
function open(harness: Harness): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(harness.url).port), '127.0.0.1');
    sockets.push(socket);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () => resolve({ socket, received: () => Buffer.concat(chunks), closed }));
    socket.once('error', reject);
  });
}

/** Resolves when `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean, ms = 3_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const chat = (extra = '') => `{"model":"llama3.2","messages":[],"stream":false${extra}}`;

describe('ByteBudget', () => {
  it('lends bytes up to its limit and takes them back', () => {
    const budget = new ByteBudget(() => 100);
    expect(budget.take(60)).toBe(true);
    expect(budget.take(50)).toBe(false);
    expect(budget.inUse).toBe(60);
    budget.give(60);
    expect(budget.take(100)).toBe(true);
  });
});

describe('before the key is known', () => {
  it('reads at most the unauthenticated limit of a body: more gets 401 asking for a header key, and the connection closes', async () => {
    const harness = await gate({ maxUnauthenticatedBodyBytes: 4 * 1024 });
    const body = chat(`,"padding":"${'x'.repeat(8 * 1024)}"`);
    const { socket, received, closed } = await open(harness);
    socket.write(`POST /api/chat HTTP/1.1\r\nHost: gate\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await closed;
    const [answer] = parseAnswers(received());
    expect(answer?.status).toBe(401);
    expect(JSON.parse(answer!.body.toString()).error).toMatch(/over 4096 bytes, so it was not searched for api_key/);
    expect(harness.fake.requests).toHaveLength(0);
    // The same body with the key in a header is the key holder's: read and forwarded.
    const { secret } = harness.addKey('alice');
    const keyed = await fetch(`${harness.url}/api/chat`, { method: 'POST', headers: { 'X-API-Key': secret }, body });
    expect(keyed.status).toBe(200);
  });

  it('holds strangers\' half-sent bodies within one budget: past it 503 with Retry-After, logged, while a key holder is served', async () => {
    const harness = await gate({ maxUnauthenticatedBodyBytes: 40 * 1024, unauthenticatedBodyBudgetBytes: 64 * 1024 });
    const { secret } = harness.addKey('alice');
    const stalls = [];
    for (let i = 0; i < 3; i++) {
      const stranger = await open(harness);
      // Declares 30 KiB, sends 30 KiB less one byte, and waits.
      stranger.socket.write(`POST /api/chat HTTP/1.1\r\nHost: gate\r\nContent-Length: ${30 * 1024}\r\n\r\n${'x'.repeat(30 * 1024 - 1)}`);
      stalls.push(stranger);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Two fit in 64 KiB; the third does not.
    await stalls[2]!.closed;
    const [busy] = parseAnswers(stalls[2]!.received());
    expect(busy?.status).toBe(503);
    expect(busy?.headers.get('retry-after')).toBe('5');
    expect(JSON.parse(busy!.body.toString()).error).toMatch(/holding too many request bodies of clients without a key/);
    const entry = await harness.waitForLog((e) => e.status === 503);
    expect(entry).toMatchObject({ decision: 'denied', outcome: 'denied', user: null });

    const keyed = await fetch(`${harness.url}/api/chat`, { method: 'POST', headers: { 'X-API-Key': secret }, body: chat() });
    expect(keyed.status).toBe(200);
    // Strangers that leave give their share back: another one's body is read again.
    for (const stall of stalls) stall.socket.destroy();
    await until(() => harness.logs.filter((e) => e.outcome === 'client_aborted').length === 2);
    const later = await fetch(`${harness.url}/api/chat`, { method: 'POST', body: JSON.stringify({ ...JSON.parse(chat()), api_key: secret }) });
    expect(later.status).toBe(200);
  });

  it('gives up on a body that stalls: 408 and the connection closes', async () => {
    const harness = await gate({ clientBodyTimeoutMs: 300 });
    const { socket, received, closed } = await open(harness);
    socket.write(`POST /api/chat HTTP/1.1\r\nHost: gate\r\nContent-Length: 100\r\n\r\n{"model":`);
    const started = Date.now();
    await closed;
    expect(Date.now() - started).toBeLessThan(2_000);
    const [answer] = parseAnswers(received());
    expect(answer?.status).toBe(408);
    expect(JSON.parse(answer!.body.toString()).error).toMatch(/stalled: nothing arrived for 300 ms/);
    expect(harness.fake.requests).toHaveLength(0);
  });

  it('gives up on a key holder\'s upload that stalls on its way to Ollama too, and Ollama\'s request is aborted', async () => {
    const harness = await gate({ clientBodyTimeoutMs: 300 });
    const { secret } = harness.addKey('admin', 'full');
    const { socket, received, closed } = await open(harness);
    socket.write(`POST /api/blobs/sha256:${'a'.repeat(64)} HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${secret}\r\nContent-Length: 1000000\r\n\r\n${'b'.repeat(1000)}`);
    await closed;
    const [answer] = parseAnswers(received());
    expect(answer?.status).toBe(408);
    const seen = await harness.fake.waitForRequest((r) => r.path.startsWith('/api/blobs/'));
    expect(seen.bodyLength).toBeLessThan(1_000_000);
  });

  it('does not ask a stranger for its body: "Expect: 100-continue" without a key gets 401 straight away', async () => {
    const harness = await gate({});
    for (const path of ['/api/chat', `/api/blobs/sha256:${'a'.repeat(64)}`]) {
      const { socket, received, closed } = await open(harness);
      socket.write(`POST ${path} HTTP/1.1\r\nHost: gate\r\nExpect: 100-continue\r\nContent-Length: 1000000000\r\n\r\n`);
      await closed;
      expect(received().toString('latin1'), path).not.toContain('100 Continue');
      expect(parseAnswers(received())[0]?.status, path).toBe(401);
    }
    expect(harness.fake.requests).toHaveLength(0);
  });

  it('tells a key holder to go on after "Expect: 100-continue", and forwards its body', async () => {
    const harness = await gate({});
    const { secret } = harness.addKey('alice');
    const { socket, received } = await open(harness);
    const body = chat();
    socket.write(`POST /api/chat HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${secret}\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
    await until(() => received().toString('latin1').startsWith('HTTP/1.1 100 Continue'));
    socket.write(body);
    await until(() => received().toString('latin1').includes('HTTP/1.1 200'));
    expect(harness.fake.requests.map((r) => r.path)).toEqual(['/api/chat']);
  });
});

describe('connections', () => {
  it('closes a connection that never sends a byte after the headers timeout, even if the client never closes its side', async () => {
    const harness = await gate({ clientHeadersTimeoutMs: 300 });
    const { closed, received } = await open(harness);
    const started = Date.now();
    await closed;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(parseAnswers(received())[0]?.status).toBe(408);
  });

  it('closes a kept-alive connection left idle past the idle timeout', async () => {
    const harness = await gate({ clientIdleTimeoutMs: 1_000 });
    const { socket, received, closed } = await open(harness);
    socket.write('GET / HTTP/1.1\r\nHost: gate\r\n\r\n');
    await until(() => received().length > 0);
    const answered = Date.now();
    await closed;
    expect(Date.now() - answered).toBeGreaterThanOrEqual(900);
    expect(Date.now() - answered).toBeLessThan(3_000);
  });

  it('closes connections past the cap as they arrive, and takes new ones once others have gone', async () => {
    const harness = await gate({ maxConnections: 16 });
    const held = [];
    for (let i = 0; i < 16; i++) held.push(await open(harness));
    const extra = await open(harness);
    extra.socket.write('GET / HTTP/1.1\r\nHost: gate\r\n\r\n');
    await extra.closed;
    expect(extra.received().length).toBe(0);
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await until(() => true, 0);
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(`${harness.url}/`)).status).toBe(200);
  });
});
