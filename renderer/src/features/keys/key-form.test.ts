import { describe, expect, it } from 'vitest';
import type { KeyView } from '../../../../electron/shared/contract.js';
import { changedFields, emptyKeyForm, endOfLocalDay, errorsFromIssues, keyFormFromView, localDate, parseKeyForm } from './key-form.js';

const NOW = new Date(2026, 0, 10, 12).getTime();

const KEY: KeyView = {
  id: 'k1',
  user: 'alice',
  name: 'laptop',
  scope: 'inference',
  models: ['llama3*'],
  rpm: 60,
  concurrency: null,
  dailyTokens: null,
  expiresAt: null,
  prefix: 'og_abcd',
  enabled: true,
  expired: false,
  createdAt: NOW - 1_000,
  lastUsedAt: null,
  lastUsedIp: null,
  today: { requests: 0, tokens: 0 },
};

describe('the key form', () => {
  it('turns what was typed into key fields', () => {
    const parsed = parseKeyForm({ ...emptyKeyForm(), user: ' bob ', name: '', models: 'llama3*, qwen2.5:7b\nllama3*', rpm: '30', expires: '2026-02-01' }, NOW);
    expect(parsed).toEqual({
      ok: true,
      fields: {
        user: 'bob',
        name: null,
        scope: 'inference',
        models: ['llama3*', 'qwen2.5:7b'],
        rpm: 30,
        concurrency: null,
        dailyTokens: null,
        expiresAt: new Date(2026, 1, 1, 23, 59, 59, 999).getTime(),
      },
    });
  });

  it('explains each mistake by field, before anything is sent', () => {
    const parsed = parseKeyForm({ ...emptyKeyForm(), user: '  ', rpm: '0', concurrency: '2.5', dailyTokens: 'lots', expires: '2026-01-09' }, NOW);
    expect(parsed).toEqual({
      ok: false,
      errors: {
        user: 'keys.error.userRequired',
        rpm: 'keys.error.positiveWhole',
        concurrency: 'keys.error.positiveWhole',
        dailyTokens: 'keys.error.positiveWhole',
        expires: 'keys.error.expiryPast',
      },
    });
    expect(parseKeyForm({ ...emptyKeyForm(), user: 'a', expires: '2026-02-30' }, NOW)).toEqual({ ok: false, errors: { expires: 'keys.error.badDate' } });
  });

  it('round-trips a key through the form and sends only what changed', () => {
    const values = keyFormFromView({ ...KEY, expiresAt: new Date(2026, 5, 1, 9, 30).getTime() });
    expect(values).toMatchObject({ user: 'alice', name: 'laptop', models: 'llama3*', rpm: '60', concurrency: '', expires: '2026-06-01' });
    const parsed = parseKeyForm({ ...values, name: 'desktop', concurrency: '2' }, NOW);
    if (!parsed.ok) throw new Error('expected a valid form');
    // The unchanged expiry day keeps its precise time.
    expect(changedFields({ ...KEY, expiresAt: new Date(2026, 5, 1, 9, 30).getTime() }, parsed.fields)).toEqual({ name: 'desktop', concurrency: 2 });
  });

  it('puts the gate’s own reasons under the fields they concern', () => {
    expect(
      errorsFromIssues({
        code: 'invalid_input',
        message: 'x',
        issues: [
          { path: 'models.1', message: 'a model pattern has no spaces' },
          { path: 'expiresAt', message: 'must be in the future' },
          { path: 'enabled', message: 'odd' },
        ],
      }),
    ).toEqual({ fields: { models: 'a model pattern has no spaces', expires: 'must be in the future' }, general: 'enabled: odd' });
    expect(errorsFromIssues({ code: 'not_found', message: 'no key with id "x"' })).toEqual({ fields: {}, general: 'no key with id "x"' });
  });

  it('reads dates as local days', () => {
    expect(localDate(endOfLocalDay('2026-03-31')!)).toBe('2026-03-31');
    expect(endOfLocalDay('31/03/2026')).toBeNull();
  });
});
