// @vitest-environment jsdom
import { cleanup, configure, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { SettingsPatch, SettingsView } from '../../../../electron/shared/contract.js';
import { ToastProvider } from '../../components/Toast.js';
import { fakeGate } from '../../testing/fake-gate.js';
import { HEALTH, SETTINGS, STATUS } from '../../testing/fixtures.js';
import { renderWithGate } from '../../testing/render.js';
import { SettingsPage } from './SettingsPage.js';

afterEach(cleanup);
// A machine busy with other tests may take more than the default second to render.
configure({ asyncUtilTimeout: 5_000 });

const PINNED: SettingsView = {
  ...SETTINGS,
  proxy: { ...SETTINGS.proxy, port: 9000, tlsEnabled: true, tlsPort: 9443 },
  pinned: [
    { field: 'port', by: '--port' },
    { field: 'tlsEnabled', by: 'OLLAMA_GATE_TLS' },
  ],
};

function setup(view: SettingsView, update: (patch: SettingsPatch) => unknown = () => view) {
  const fake = fakeGate({
    'settings.get': () => view,
    'settings.update': update as never,
    'proxy.status': () => STATUS,
    'health.get': () => HEALTH,
    'keys.list': () => [],
  });
  renderWithGate(
    <ToastProvider closeLabel="Close">
      <SettingsPage />
    </ToastProvider>,
    fake,
  );
  return fake;
}

const toasts = () => document.querySelector('.toasts')!.textContent ?? '';

describe('the settings page', () => {
  it('shows a setting pinned on the command line read-only, with what pins it beside it', async () => {
    setup(PINNED);
    const port = (await screen.findByLabelText('Port')) as HTMLInputElement;
    expect(port.readOnly).toBe(true);
    expect(port.value).toBe('9000');
    expect(document.getElementById(port.getAttribute('aria-describedby')!)!.textContent).toBe('Set by --port for this run.');
    const https = screen.getByLabelText('HTTPS') as HTMLInputElement;
    expect(https.disabled).toBe(true);
    expect(screen.getByText('Set by OLLAMA_GATE_TLS for this run.')).toBeTruthy();
    // What is not pinned stays editable.
    expect((screen.getByLabelText('HTTPS port') as HTMLInputElement).readOnly).toBe(false);
    expect((screen.getByLabelText('Bind address') as HTMLInputElement).readOnly).toBe(false);
  });

  it('applies the rest without the pinned settings, and says so in a toast', async () => {
    const fake = setup(PINNED);
    fireEvent.change(await screen.findByLabelText('HTTPS port'), { target: { value: '9444' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(toasts()).toContain('Settings applied'));
    expect(fake.calls.filter((call) => call.method === 'settings.update').map((call) => call.request)).toEqual([{ proxy: { tlsPort: 9444 } }]);
  });

  it('says in a toast why settings were not applied, and marks the field', async () => {
    setup(SETTINGS, () => ({
      ok: false,
      error: { code: 'listen_failed', message: 'port 9001 is already in use on 127.0.0.1: stop the other program or choose another port' },
    }));
    fireEvent.change(await screen.findByLabelText('Port'), { target: { value: '9001' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(toasts()).toContain('Settings not applied: port 9001 is already in use'));
    // And a value the form refuses itself: a toast points at the field.
    fireEvent.change(screen.getByLabelText('Port'), { target: { value: 'eighty' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(toasts()).toContain('Some settings need fixing'));
    expect(screen.getByText('A port from 1 to 65535.')).toBeTruthy();
  });
});
