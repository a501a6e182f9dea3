// @vitest-environment jsdom
import { cleanup, configure, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { UsageRow } from '../../../../electron/shared/contract.js';
import { fakeGate } from '../../testing/fake-gate.js';
import { HEALTH, SETTINGS, STATUS, keyView } from '../../testing/fixtures.js';
import { renderWithGate } from '../../testing/render.js';
import { UsagePage } from './UsagePage.js';

afterEach(cleanup);
configure({ asyncUtilTimeout: 5_000 });

const today = new Date().toISOString().slice(0, 10);

function usage(keyId: string, user: string, requests: number, backends: Record<string, number>): UsageRow {
  return { day: today, keyId, user, requests, errors: 0, promptTokens: 10, completionTokens: 20, bytesIn: 100, bytesOut: 200, durationMs: 50, backends };
}

function setup(rows: UsageRow[], locale: 'en' | 'zh-CN' = 'en') {
  const fake = fakeGate({
    'usage.query': () => rows,
    'keys.list': () => [keyView({ id: 'k1', user: 'alice' }), keyView({ id: 'k2', user: 'bob', prefix: 'og_bob00' })],
    'settings.get': () => SETTINGS,
    'proxy.status': () => STATUS,
    'health.get': () => HEALTH,
  });
  renderWithGate(<UsagePage />, fake, locale);
  return fake;
}

const perKey = () => screen.getByRole('region', { name: 'Per key' });

describe('the usage page', () => {
  it('with one Ollama, says nothing of backends', async () => {
    setup([usage('k1', 'alice', 4, { default: 4 })]);
    await within(await screen.findByRole('region', { name: 'Per key' })).findByText('alice');
    expect(screen.queryByRole('region', { name: 'Per backend' })).toBeNull();
    expect(document.querySelector('.backend-split')).toBeNull();
  });

  it('with several, counts each backend’s requests with its share, and each key’s by backend', async () => {
    setup([usage('k1', 'alice', 6, { default: 2, big: 3, all: 1 }), usage('k2', 'bob', 2, { default: 2 })]);
    const byBackend = await screen.findByRole('region', { name: 'Per backend' });
    const lines = within(byBackend)
      .getAllByRole('row')
      .slice(1)
      .map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent));
    expect(lines).toEqual([
      ['default', '4', '50%'],
      ['big', '3', '38%'],
      ['all', '1', '13%'],
    ]);
    expect(byBackend.textContent).toContain('“all” counts model lists merged from every backend');
    await within(perKey()).findByText('By backend: default 2 · big 3 · all 1');
    expect(within(perKey()).getByText('By backend: default 2')).toBeTruthy();
    // The table per key and day says it too.
    const perDay = screen.getByRole('region', { name: 'Per key and day' });
    expect(within(perDay).getByText('By backend: default 2 · big 3 · all 1')).toBeTruthy();
  });

  it('speaks Chinese', async () => {
    setup([usage('k1', 'alice', 5, { default: 2, big: 3 })], 'zh-CN');
    const byBackend = await screen.findByRole('region', { name: '按后端' });
    expect(
      within(byBackend)
        .getAllByRole('columnheader')
        .map((cell) => cell.textContent),
    ).toEqual(['后端', '请求数', '占比']);
    expect(await screen.findAllByText('按后端：default 2 · big 3')).toHaveLength(2);
  });
});
