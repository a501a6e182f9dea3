import { describe, expect, it } from 'vitest';
import { REASON_CODES } from '../../../electron/shared/contract.js';
import { en } from '../i18n/en.js';
import { createTranslator } from '../i18n/translate.js';
import { zhCN } from '../i18n/zh-CN.js';
import { formatReason } from './reason.js';

describe('reason messages', () => {
  it('has an English and a Chinese message for every reason code the gate sends', () => {
    const missing = REASON_CODES.flatMap((code) => [
      ...(Object.hasOwn(en, `reason.${code}`) ? [] : [`en: reason.${code}`]),
      ...(Object.hasOwn(zhCN, `reason.${code}`) ? [] : [`zh-CN: reason.${code}`]),
    ]);
    expect(missing).toEqual([]);
    // …and none for a code the gate no longer sends.
    const known = new Set(REASON_CODES.map((code) => `reason.${code}`));
    expect(Object.keys(en).filter((key) => key.startsWith('reason.') && !known.has(key))).toEqual([]);
  });
});

describe('formatReason', () => {
  const zh = createTranslator('zh-CN');
  const english = createTranslator('en');

  it('translates the code and fills in its params', () => {
    const reason = { code: 'locked_out' as const, params: { ip: '127.0.0.1', seconds: 287 } };
    expect(formatReason(zh, reason, 'English from the gate')).toBe('127.0.0.1 因错误密钥过多已被锁定；请在 287 秒后重试');
    expect(formatReason(english, reason, 'English from the gate')).toBe('127.0.0.1 is locked out after too many wrong keys; try again in 287 s');
    expect(formatReason(zh, { code: 'invalid_key' }, 'invalid API key')).toBe('API 密钥无效');
  });

  it("falls back to the gate's English without a reason, or for a code it does not know", () => {
    expect(formatReason(zh, null, 'upstream said no')).toBe('upstream said no');
    expect(formatReason(zh, undefined, 'from an older log')).toBe('from an older log');
    expect(formatReason(zh, { code: 'from_a_newer_gate' } as never, 'newer English')).toBe('newer English');
    expect(formatReason(zh, null, null)).toBeNull();
  });

  it('leaves a placeholder whose param is missing visible rather than inventing one', () => {
    expect(formatReason(english, { code: 'port_in_use', params: { port: 8000 } }, 'x')).toBe(
      'Port 8000 is already in use on {host}: stop the other program or choose another port',
    );
  });
});
