import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/gate-harness.js';
import { exchangeOne } from './support/raw-exchange.js';

/** What the gate's health probe asks Ollama. */
const HEALTH_PROBE_PATHS = new Set(['/api/version', '/api/tags', '/api/ps']);

const KNOWN_PATHS = [
  '/',
  '/health',
  '/auth',
  '/api/chat',
  '/api/generate',
  '/api/tags',
  '/api/pull',
  '/api/delete',
  '/api/blobs/sha256:' + 'a'.repeat(64),
  '/v1/models',
  '/v1/chat/completions',
  '/debug/pprof/',
];

describe('property: any request, however strange', () => {
  let h: Harness;
  let secret: string;
  let port: number;

  beforeAll(async () => {
    // No sessions and no lockout: every request must stand on its own credentials.
    h = await startHarness({ settings: { sessionTtlSeconds: 0, lockoutMaxFailures: 0, maxHeaderBytes: 16 * 1024 } });
    secret = h.addKey('fuzz', 'full').secret;
    port = Number(new URL(h.url).port);
  });
  afterAll(() => h.close());

  /** How the request carries (or fails to carry) a key. */
  const credential = fc.oneof(
    fc.constant({ valid: false, header: '', query: '', bodyKey: undefined as unknown }),
    fc
      .constantFrom('X-API-Key: KEY', 'Authorization: Bearer KEY', 'Authorization: KEY', 'x-api-key: KEY\r\nX-API-Key: other')
      .map((header) => ({ valid: true, header, query: '', bodyKey: undefined as unknown })),
    fc.constant({ valid: true, header: '', query: 'api_key=KEY', bodyKey: undefined as unknown }),
    fc.constant({ valid: true, header: '', query: '', bodyKey: 'KEY' as unknown }),
    fc
      .oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.object())
      .map((bodyKey) => ({ valid: false, header: '', query: '', bodyKey })),
    fc
      .string({ minLength: 1, maxLength: 80 })
      .map((junk) => ({ valid: false, header: `X-API-Key: ${junk.replace(/[\r\n]/g, '')}`, query: '', bodyKey: undefined as unknown })),
  );

  const path = fc.oneof(
    fc.constantFrom(...KNOWN_PATHS),
    fc
      .array(fc.oneof(fc.constantFrom('api', 'v1', '..', '.', '%2e%2e', '%2F', 'chat', '', 'debug'), fc.webSegment()), { maxLength: 6 })
      .map((segments) => '/' + segments.join('/')),
    fc.integer({ min: 100, max: 6000 }).map((n) => '/api/' + 'x'.repeat(n)),
  );

  const body = fc.oneof(
    fc.constant(''),
    fc.constant('{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false}'),
    fc.string({ maxLength: 200 }),
    fc.json(),
    fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    fc.integer({ min: 1, max: 200_000 }).map((n) => `{"model":"llama3.2","prompt":"${'p'.repeat(n)}"}`),
  );

  const request = fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND'),
    path,
    credential,
    body,
    contentType: fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', ''),
    extraHeaders: fc.array(
      fc.tuple(
        fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/),
        fc.string({ maxLength: 100 }).map((v) => v.replace(/[\r\n]/g, '')),
      ),
      { maxLength: 5 },
    ),
  });

  function build(r: typeof request extends fc.Arbitrary<infer T> ? T : never): Buffer {
    let text = r.body;
    if (r.credential.bodyKey !== undefined) {
      const value = r.credential.bodyKey === 'KEY' ? secret : r.credential.bodyKey;
      text = JSON.stringify({ model: 'llama3.2', prompt: 'x', stream: false, api_key: value });
    }
    const query = r.credential.query ? `${r.path.includes('?') ? '&' : '?'}${r.credential.query.replace('KEY', secret)}` : '';
    const lines = [`${r.method} ${r.path}${query} HTTP/1.1`, 'Host: gate.test', 'Connection: close'];
    if (r.credential.header) lines.push(r.credential.header.replaceAll('KEY', secret));
    if (r.contentType) lines.push(`Content-Type: ${r.contentType}`);
    for (const [name, value] of r.extraHeaders) {
      if (!/^(host|connection|content-length|transfer-encoding|x-api-key|authorization|expect|upgrade)$/i.test(name)) lines.push(`${name}: ${value}`);
    }
    const payload = Buffer.from(text, 'latin1');
    if (payload.length) lines.push(`Content-Length: ${payload.length}`);
    return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), payload]);
  }

  it('never crashes, never lets an unauthenticated request or any key through, and always answers in shape', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const before = h.fake.requests.length;
        // Exact bytes: nothing a client library would refuse or fix up.
        const answer = await exchangeOne(port, build(r));
        // /health probes Ollama itself (its version and models): that probe is not the client's request.
        const isHealthProbe = (seen: { path: string }) => r.path.startsWith('/health') && HEALTH_PROBE_PATHS.has(seen.path);
        const forwarded = h.fake.requests.slice(before).some((seen) => !isHealthProbe(seen));

        expect(answer.status).toBeGreaterThanOrEqual(100);
        // 500 is the gate failing on its own (a path it could not encode once slipped through as one).
        expect(answer.status).not.toBe(500);
        if (forwarded) expect(r.credential.valid).toBe(true);
        for (const seen of h.fake.requests.slice(before)) {
          const everything = JSON.stringify(seen.headers) + seen.url + seen.body.toString('latin1');
          expect(everything).not.toContain(secret);
          expect(seen.headers['x-api-key']).toBeUndefined();
          expect(seen.headers.authorization).toBeUndefined();
        }
        const ownAnswer = !forwarded && r.method !== 'OPTIONS' && r.method !== 'HEAD' && answer.status >= 400;
        if (ownAnswer) {
          expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
          const parsed = JSON.parse(answer.body.toString('utf8')) as { error: unknown };
          expect(parsed.error).toBeTruthy();
        }
      }),
      { numRuns: 1000, seed: 424242 },
    );
    expect(JSON.stringify(h.logs)).not.toContain(secret);
    expect((await fetch(`${h.url}/`)).status).toBe(200);
  }, 120_000);
});
