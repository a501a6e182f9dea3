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
import { rawRequest } from '../../test/support/raw-request.js';
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
function open(harness: Harness, localAddress = '127.0.0.1'): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: Number(new URL(harness.url).port), host: '127.0.0.1', localAddress });
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
  it('lends bytes up to its limit, a quarter of it to any one address, and takes them back', () => {
    const budget = new ByteBudget(() => 100);
    expect(budget.take('10.0.0.1', 25)).toBe(true);
    expect(budget.take('10.0.0.1', 1)).toBe(false);
    for (const address of ['10.0.0.2', '10.0.0.3', '10.0.0.4']) expect(budget.take(address, 25)).toBe(true);
    expect(budget.take('10.0.0.5', 1)).toBe(false);
    expect(budget.inUse).toBe(100);
    budget.give('10.0.0.1', 25);
    expect(budget.take('10.0.0.5', 25)).toBe(true);
    expect(budget.take('10.0.0.1', 1)).toBe(false);
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

  it("holds strangers' half-sent bodies within one budget: past it 503 with Retry-After, logged, while a key holder is served", async () => {
    const harness = await gate({ maxUnauthenticatedBodyBytes: 40 * 1024, unauthenticatedBodyBudgetBytes: 128 * 1024 });
    const { secret } = harness.addKey('alice');
    const stalls = [];
    for (let i = 2; i <= 6; i++) {
      // Each from its own address, declares 30 KiB, sends 30 KiB less one byte, and waits.
      const stranger = await open(harness, `127.0.0.${i}`);
      stranger.socket.write(`POST /api/chat HTTP/1.1\r\nHost: gate\r\nContent-Length: ${30 * 1024}\r\n\r\n${'x'.repeat(30 * 1024 - 1)}`);
      stalls.push(stranger);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Four fit in 128 KiB; the fifth does not.
    await stalls[4]!.closed;
    const [busy] = parseAnswers(stalls[4]!.received());
    expect(busy?.status).toBe(503);
    expect(busy?.headers.get('retry-after')).toBe('5');
    expect(JSON.parse(busy!.body.toString()).error).toMatch(/holding too many request bodies of clients without a key/);
    const entry = await harness.waitForLog((e) => e.status === 503);
    expect(entry).toMatchObject({ decision: 'denied', outcome: 'denied', user: null });

    const keyed = await fetch(`${harness.url}/api/chat`, { method: 'POST', headers: { 'X-API-Key': secret }, body: chat() });
    expect(keyed.status).toBe(200);
    // Strangers that leave give their share back: a body larger than what was left is read again.
    const padded = JSON.stringify({ ...JSON.parse(chat(`,"padding":"${'x'.repeat(30 * 1024)}"`)), api_key: secret });
    for (const stall of stalls) stall.socket.destroy();
    await until(() => harness.logs.filter((e) => e.outcome === 'client_aborted').length === 4);
    const later = await fetch(`${harness.url}/api/chat`, { method: 'POST', body: padded });
    expect(later.status).toBe(200);
  });

  it('lets one address hold a quarter of the budget, so others that send their key in the body are still read', async () => {
    const harness = await gate({ maxUnauthenticatedBodyBytes: 40 * 1024, unauthenticatedBodyBudgetBytes: 128 * 1024 });
    const { secret } = harness.addKey('alice');
    const mine = [];
    for (let i = 0; i < 3; i++) {
      const stranger = await open(harness, '127.0.0.9');
      stranger.socket.write(`POST /api/chat HTTP/1.1\r\nHost: gate\r\nContent-Length: ${30 * 1024}\r\n\r\n${'x'.repeat(20 * 1024)}`);
      mine.push(stranger);
      await new Promise((r) => setTimeout(r, 50));
    }
    // 20 KiB fits in the address's 32 KiB; the second 20 KiB does not.
    await mine[1]!.closed;
    expect(parseAnswers(mine[1]!.received())[0]?.status).toBe(503);
    const other = await rawRequest(`${harness.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ ...JSON.parse(chat()), api_key: secret }),
      localAddress: '127.0.0.10',
    });
    expect(other.status).toBe(200);
  });

  it('gives a stranger no longer for its whole body than for one pause: trickling a byte at a time gets 408', async () => {
    const harness = await gate({ clientBodyTimeoutMs: 400 });
    const { socket, received, closed } = await open(harness);
    socket.write(`POST /api/chat HTTP/1.1\r\nHost: gate\r\nContent-Length: 1000\r\n\r\n{`);
    const trickle = setInterval(() => socket.write('x'), 100);
    const started = Date.now();
    await closed;
    clearInterval(trickle);
    expect(Date.now() - started).toBeLessThan(1_500);
    const [answer] = parseAnswers(received());
    expect(answer?.status).toBe(408);
    expect(JSON.parse(answer!.body.toString()).error).toMatch(/without a key in a header a body must come whole/);
  });

  it('refuses a body too long to search from a client its IP session lets in: an "api_key" in it could not be taken out', async () => {
    const harness = await gate({ maxInspectBytes: 4 * 1024 });
    const { secret } = harness.addKey('alice');
    expect((await fetch(`${harness.url}/auth`, { method: 'POST', body: JSON.stringify({ api_key: secret }) })).status).toBe(200);
    const long = JSON.stringify({ model: 'llama3.2', prompt: 'x'.repeat(8 * 1024), api_key: secret, stream: false });
    const trusted = await fetch(`${harness.url}/api/generate`, { method: 'POST', body: long });
    expect(trusted.status).toBe(413);
    expect((await trusted.json()).error).toMatch(/too long to search for an "api_key" to remove: send the key in a header/);
    expect(harness.fake.requests.filter((r) => r.path === '/api/generate')).toHaveLength(0);
    // With the key in a header the body is the client's own text: it streams through unread.
    const keyed = await fetch(`${harness.url}/api/generate`, {
      method: 'POST',
      headers: { 'X-API-Key': secret },
      body: long.replace(`"api_key":"${secret}",`, ''),
    });
    expect(keyed.status).toBe(200);
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
    expect(JSON.parse(answer!.body.toString()).error).toMatch(/300 ms/);
    expect(harness.fake.requests).toHaveLength(0);
  });

  it("gives up on a key holder's upload that stalls on its way to Ollama too, and Ollama's request is aborted", async () => {
    const harness = await gate({ clientBodyTimeoutMs: 300 });
    const { secret } = harness.addKey('admin', 'full');
    const { socket, received, closed } = await open(harness);
    socket.write(
      `POST /api/blobs/sha256:${'a'.repeat(64)} HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${secret}\r\nContent-Length: 1000000\r\n\r\n${'b'.repeat(1000)}`,
    );
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
    socket.write(
      `POST /api/chat HTTP/1.1\r\nHost: gate\r\nX-API-Key: ${secret}\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
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
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(`${harness.url}/`)).status).toBe(200);
  });
});
