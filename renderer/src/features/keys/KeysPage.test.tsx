// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyView } from '../../../../electron/shared/contract.js';
import { fakeGate } from '../../testing/fake-gate.js';
import { HEALTH, SETTINGS, STATUS, keyView } from '../../testing/fixtures.js';
import { renderWithGate } from '../../testing/render.js';
import { KeysPage } from './KeysPage.js';

afterEach(cleanup);

function setup(keys: KeyView[] = [keyView()]) {
  const fake = fakeGate({
    'keys.list': () => keys,
    'proxy.status': () => STATUS,
    'health.get': () => HEALTH,
    'settings.get': () => SETTINGS,
    'keys.create': (request) =>
      request.user === 'taken'
        ? { ok: false, error: { code: 'invalid_input', message: 'rpm: too big', issues: [{ path: 'rpm', message: 'requests per minute must be above 0, or empty for no limit' }] } }
        : { key: keyView({ id: 'k2', user: request.user, prefix: 'og_new12' }), secret: 'og_new12SECRETSECRETSECRET' },
    'keys.setEnabled': ({ id, enabled }) => keyView({ id, enabled }),
  });
  renderWithGate(<KeysPage route={{ page: 'keys' }} />, fake);
  return fake;
}

describe('the keys page', () => {
  it('lists keys with their limits and toggles one at once', async () => {
    const fake = setup([keyView({ rpm: 60, models: ['llama3*'], name: 'laptop' })]);
    const toggle = await screen.findByRole('switch', { name: 'Key of alice (og_abcd1…) enabled' });
    expect(screen.getByText('60/min')).toBeTruthy();
    expect(screen.getByText('llama3*')).toBeTruthy();
    expect(screen.getByText('laptop')).toBeTruthy();
    fireEvent.click(toggle);
    await waitFor(() => expect(fake.calls.some((c) => c.method === 'keys.setEnabled')).toBe(true));
    expect(fake.calls.find((c) => c.method === 'keys.setEnabled')!.request).toEqual({ id: 'k1', enabled: false });
    await waitFor(() => expect((toggle as HTMLInputElement).checked).toBe(false));
  });

  it('explains a form mistake before sending anything', async () => {
    const fake = setup();
    fireEvent.click(await screen.findByRole('button', { name: 'New key' }));
    const dialog = screen.getByRole('dialog', { name: 'New key' });
    fireEvent.change(within(dialog).getByLabelText('Requests per minute'), { target: { value: '1.5' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create key' }));
    expect(await within(dialog).findByText('Enter who the key is for.')).toBeTruthy();
    expect(within(dialog).getByText('A whole number above 0, or empty for no limit.')).toBeTruthy();
    expect(within(dialog).getByLabelText('User').getAttribute('aria-invalid')).toBe('true');
    expect(fake.calls.some((c) => c.method === 'keys.create')).toBe(false);
  });

  it('shows the gate’s own refusal under the field it concerns', async () => {
    setup();
    fireEvent.click(await screen.findByRole('button', { name: 'New key' }));
    const dialog = screen.getByRole('dialog', { name: 'New key' });
    fireEvent.change(within(dialog).getByLabelText('User'), { target: { value: 'taken' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create key' }));
    expect(await within(dialog).findByText('requests per minute must be above 0, or empty for no limit')).toBeTruthy();
  });

  it('creates a key and shows its secret exactly once, with snippets that carry it', async () => {
    const fake = setup();
    fireEvent.click(await screen.findByRole('button', { name: 'New key' }));
    const form = screen.getByRole('dialog', { name: 'New key' });
    fireEvent.change(within(form).getByLabelText('User'), { target: { value: ' carol ' } });
    fireEvent.change(within(form).getByLabelText('Allowed models'), { target: { value: 'llama3*, qwen2.5:7b' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Create key' }));
    const shown = await screen.findByRole('dialog', { name: 'Key created for carol' });
    expect(fake.calls.find((c) => c.method === 'keys.create')!.request).toEqual({
      user: 'carol',
      name: null,
      scope: 'inference',
      models: ['llama3*', 'qwen2.5:7b'],
      rpm: null,
      concurrency: null,
      dailyTokens: null,
      expiresAt: null,
    });
    expect(within(shown).getByLabelText('The new key').textContent).toBe('og_new12SECRETSECRETSECRET');
    fireEvent.click(within(shown).getByRole('tab', { name: 'Python ollama' }));
    expect(within(shown).getByRole('tabpanel').textContent).toContain('"Authorization": "Bearer og_new12SECRETSECRETSECRET"');
    expect(within(shown).getByRole('tabpanel').textContent).toContain('model="llama3.2:latest"');
    fireEvent.click(within(shown).getByRole('button', { name: 'I have copied it' }));
    await waitFor(() => expect(document.body.textContent).not.toContain('og_new12SECRETSECRETSECRET'));
    expect(screen.getByText('carol')).toBeTruthy();
  });

  it('asks before deleting, and deletes only when confirmed', async () => {
    const fake = setup();
    fake.calls.length = 0;
    fireEvent.click(await screen.findByRole('button', { name: 'Delete the key of alice' }));
    const confirm = screen.getByRole('dialog', { name: 'Delete the key of alice?' });
    fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(fake.calls.some((c) => c.method === 'keys.remove')).toBe(false);
  });
});
