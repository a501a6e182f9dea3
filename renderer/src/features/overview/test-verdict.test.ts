import { describe, expect, it } from 'vitest';
import type { GateReason, ProxyTestAnswer, ProxyTestResult } from '../../../../electron/shared/contract.js';
import { createTranslator } from '../../i18n/translate.js';
import { describeTest } from './test-verdict.js';

const en = createTranslator('en');
const zh = createTranslator('zh-CN');
const TAGS = 'http://127.0.0.1:8000/api/tags';

function answer(status: number | null, reason: GateReason | null, detail = '', retryAfterSeconds: number | null = null): ProxyTestAnswer {
  return { url: TAGS, status, durationMs: 3, detail, reason, retryAfterSeconds };
}
const keyed = (a: ProxyTestAnswer): ProxyTestResult => ({ ...a, health: null });
const keyless = (a: ProxyTestAnswer, health: ProxyTestAnswer = answer(200, { code: 'test_gate_ok' }, 'the gate answers')): ProxyTestResult => ({
  ...a,
  health: { ...health, url: 'http://127.0.0.1:8000/health' },
});

describe('the Test card’s words for each answer of the gate', () => {
  it('without a key: what a client without one gets, and that /health answers without one; never “the gate works”', () => {
    const said = describeTest(keyless(answer(401, { code: 'missing_key' }, 'API key required')), en);
    expect(said).toMatchObject({ tone: 'info', headline: 'Without a key, clients get 401: the gate asks for a key' });
    expect(said.health).toBe('/health answers 200 without a key (it needs none): the gate and Ollama are up.');
    expect(JSON.stringify(said)).not.toMatch(/gate works/i);
    // Ollama down: /health says so.
    const down = describeTest(keyless(answer(401, { code: 'missing_key' }), answer(503, null, 'Ollama is not running')), en);
    expect(down.health).toBe('/health answers 503: the gate is up, but Ollama is not reachable.');
    // An address trusted through POST /auth gets in without a key: said as a warning.
    expect(describeTest(keyless(answer(200, { code: 'test_key_works', params: { count: 3 } })), en)).toMatchObject({
      tone: 'warn',
      headline: expect.stringContaining('trusted through POST /auth'),
    });
  });

  it('names a lockout with the address and the seconds left, with a key or without', () => {
    const locked = answer(429, { code: 'locked_out', params: { ip: '127.0.0.1', seconds: 287 } }, '127.0.0.1 is locked out…', 287);
    const expected = 'This address (127.0.0.1) is locked out for 287 more seconds after too many wrong keys';
    expect(describeTest(keyed(locked), en)).toMatchObject({ tone: 'danger', headline: expected, detail: null });
    expect(describeTest(keyless(locked), en).headline).toBe(expected);
    expect(describeTest(keyed(locked), zh).headline).toBe('此地址（127.0.0.1）因错误密钥过多已被锁定，还需 287 秒解除');
    // The wrong key that started the lockout.
    const tenth = answer(403, { code: 'invalid_key_locking', params: { ip: '127.0.0.1', seconds: 300 } });
    expect(describeTest(keyed(tenth), en).headline).toBe('Wrong key, and one too many: this address (127.0.0.1) is now locked out for 300 seconds');
  });

  it('tells an unknown key from a disabled, an expired and a rate-limited one', () => {
    expect(describeTest(keyed(answer(403, { code: 'invalid_key' }, 'invalid API key')), en).headline).toBe('Refused (403): the gate does not know this key');
    expect(describeTest(keyed(answer(403, { code: 'disabled_key' }, 'this API key is disabled')), en).headline).toBe(
      'Refused (403): this key is turned off; turn it on in Keys',
    );
    expect(describeTest(keyed(answer(403, { code: 'expired_key' }, 'this API key has expired')), en).headline).toBe(
      'Refused (403): this key has expired; give it a new expiry in Keys',
    );
    const limited = describeTest(keyed(answer(429, { code: 'rate_limit_rpm', params: { limit: 1 } }, 'rate limit of 1 requests per minute reached', 42)), en);
    expect(limited).toMatchObject({ tone: 'warn', headline: 'Refused for now (429): this key reached one of its limits; try again in 42 s' });
    // The gate's own reason follows, in the window's language.
    expect(limited.detail).toBe(en('reason.rate_limit_rpm', { limit: 1 }));
    expect(describeTest(keyed(answer(429, { code: 'rate_limit_concurrency', params: { limit: 2 } })), en).headline).toBe(
      'Refused for now (429): this key reached one of its limits',
    );
  });

  it('says when the key works, when Ollama does not answer, and when the gate is not there', () => {
    expect(describeTest(keyed(answer(200, { code: 'test_key_works', params: { count: 3 } })), en)).toMatchObject({
      tone: 'ok',
      headline: 'The key works: 3 models visible through the gate',
      detail: null,
    });
    expect(describeTest(keyed(answer(200, { code: 'test_key_works_one' })), en).headline).toBe('The key works: 1 model visible through the gate');
    expect(describeTest(keyed(answer(502, { code: 'upstream_refused', params: { url: 'http://127.0.0.1:11434', errno: 'ECONNREFUSED' } })), en).headline).toBe(
      'The gate answers, but Ollama does not (502)',
    );
    expect(describeTest(keyed(answer(null, { code: 'test_not_running' })), en)).toMatchObject({
      headline: 'The gate is not running: start it first',
      detail: null,
    });
    expect(
      describeTest(keyed(answer(null, { code: 'test_no_answer', params: { detail: 'ECONNRESET' } }, 'the gate did not answer: ECONNRESET')), en).headline,
    ).toBe('The gate did not answer');
    // An answer the gate did not explain: its own words.
    expect(describeTest(keyed(answer(418, null, 'I am a teapot')), en)).toMatchObject({ headline: 'The test failed (418)', detail: 'I am a teapot' });
  });
});
