/**
 * A gate whose Ollama URL leads back to itself (its own port typed in Settings, or a reverse proxy
 * in front of it): with an IP session for 127.0.0.1, every forwarded request would come back
 * trusted and be forwarded again, each round holding another connection, until the gate ran out.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../../test/support/gate-harness.js';
import { rawRequest } from '../../test/support/raw-request.js';

let h: Harness;
let secret: string;
const ollamaUrl = () => h.fake.url;

beforeAll(async () => {
  h = await startHarness();
  secret = h.addKey('looper').secret;
});
afterAll(() => h.close());
afterEach(() => {
  h.settings.upstream = ollamaUrl();
  h.fake.reset();
});

describe('a request that comes back through the same gate', () => {
  it('is refused with 508 and a message that names the cause, and nothing reaches Ollama', async () => {
    // 127.0.0.1 trusted: the forwarded request, which carries no key, would pass too.
    expect((await rawRequest(`${h.url}/auth`, { method: 'POST', body: JSON.stringify({ api_key: secret }) })).status).toBe(200);
    h.settings.upstream = h.url;
    const before = h.logs.length;

    const answer = await rawRequest(`${h.url}/api/chat`, {
      method: 'POST',
      headers: { 'X-API-Key': secret },
      body: JSON.stringify({ model: 'llama3.2', messages: [], stream: false }),
    });

    expect(answer.status).toBe(508);
    expect(JSON.parse(answer.body).error).toContain('leads back to the gate itself');
    expect(h.fake.requests).toEqual([]);
    // The client's request and its one return: no third round.
    await h.waitForLog((entry) => entry.status === 508 && entry.user === 'looper');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.logs.length - before).toBe(2);
  });

  it('Ollama gets the gate in Via after what the client sent, and another gate in Via is no loop', async () => {
    const answer = await rawRequest(`${h.url}/api/tags`, { headers: { 'X-API-Key': secret, Via: '1.1 ollama-gate-0123456789ab, 1.0 squid' } });
    expect(answer.status).toBe(200);
    const [received] = h.fake.requests;
    const via = received!.rawHeaders.flatMap((value, i, all) => (i % 2 === 0 && value.toLowerCase() === 'via' ? [all[i + 1]] : []));
    expect(via).toHaveLength(2);
    expect(via[0]).toBe('1.1 ollama-gate-0123456789ab, 1.0 squid');
    expect(via[1]).toMatch(/^1\.1 ollama-gate-[0-9a-f]{12}$/);
    expect(via[1]).not.toBe('1.1 ollama-gate-0123456789ab');
  });
});
