// @vitest-environment jsdom
import { act, cleanup, configure, fireEvent, screen, waitFor, within } from '@testing-library/react';
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

function setup(view: SettingsView, update: (patch: SettingsPatch) => unknown = () => view, locale: 'en' | 'zh-CN' = 'en') {
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
    locale,
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

  it('shows settings changed elsewhere, but never over an edit in progress', async () => {
    const fake = setup(SETTINGS);
    const port = (await screen.findByLabelText('Port')) as HTMLInputElement;
    // The tray or the CLI changed the port: the page follows.
    act(() => fake.emit('settings', { ...SETTINGS, proxy: { ...SETTINGS.proxy, port: 8100 } }));
    expect(port.value).toBe('8100');
    // Mid-edit, another change arrives: the user's edit stays, and Apply still offers it.
    fireEvent.change(port, { target: { value: '8200' } });
    act(() => fake.emit('settings', { ...SETTINGS, proxy: { ...SETTINGS.proxy, port: 8300 } }));
    expect(port.value).toBe('8200');
    expect(document.querySelector('.form-actions .saved')!.textContent).toBe('Changes not applied yet.');
    // Undoing the edit shows the latest settings, not the ones the page opened with.
    fireEvent.click(screen.getByRole('button', { name: 'Undo changes' }));
    expect(port.value).toBe('8300');
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

  describe('backends', () => {
    const WITH_BIG: SettingsView = {
      ...SETTINGS,
      proxy: { ...SETTINGS.proxy, backends: [{ name: 'big', url: 'http://10.0.0.5:11434', enabled: true, weight: 3 }] },
    };
    const group = (name: string) => screen.getByRole('group', { name });
    const updates = (fake: ReturnType<typeof setup>) => fake.calls.filter((call) => call.method === 'settings.update').map((call) => call.request);

    it('shows the default first, not removable, then each backend; explains routing and the X-Gate-Backend header', async () => {
      setup(WITH_BIG);
      const backends = (await screen.findByRole('group', { name: 'Backends' })) as HTMLElement;
      const rows = within(backends).getAllByRole('group');
      expect(rows.map((row) => row.getAttribute('aria-label'))).toEqual(['Backend default', 'Backend big']);
      const fallback = group('Backend default');
      expect(fallback.textContent).toContain('http://127.0.0.1:11434');
      expect(fallback.textContent).toContain('Always on');
      expect(within(fallback).queryByRole('button')).toBeNull();
      expect(within(fallback).queryByRole('textbox')).toBeNull();
      const big = group('Backend big');
      expect((within(big).getByLabelText('Name') as HTMLInputElement).value).toBe('big');
      expect((within(big).getByLabelText('URL') as HTMLInputElement).value).toBe('http://10.0.0.5:11434');
      expect((within(big).getByLabelText('Weight') as HTMLInputElement).value).toBe('3');
      expect((within(big).getByLabelText('Enabled') as HTMLInputElement).checked).toBe(true);
      expect(within(big).getByRole('button', { name: 'Remove big' })).toBeTruthy();
      expect(backends.textContent).toContain('the fewest requests in flight, then the highest weight');
      expect([...backends.querySelectorAll('p.hint code')].map((code) => code.textContent)).toEqual(['X-Gate-Backend: NAME']);
      expect(backends.textContent).toContain('to pull, create or delete a model on a backend other than the default');
      // The default follows the URL typed above it.
      fireEvent.change(screen.getByLabelText('Ollama URL'), { target: { value: 'http://127.0.0.1:11500' } });
      expect(group('Backend default').textContent).toContain('http://127.0.0.1:11500');
    });

    it('keeps a backend added the moment the page shows, before React has run its effects', async () => {
      // As in a real window: React renders on its own schedule, not inside the test's act().
      const react = globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean };
      const actEnvironment = react.IS_REACT_ACT_ENVIRONMENT;
      react.IS_REACT_ACT_ENVIRONMENT = false;
      try {
        setup(SETTINGS);
        // Clicked from the first DOM change that shows the button: after React committed the page, before any later task.
        await new Promise<void>((resolve) => {
          const observer = new MutationObserver(() => {
            const add = screen.queryByRole('button', { name: 'Add backend' });
            if (!add) return;
            observer.disconnect();
            add.click();
            resolve();
          });
          observer.observe(document.body, { childList: true, subtree: true });
        });
        await waitFor(() => expect(screen.getByRole('group', { name: 'New backend 1' })).toBeTruthy());
        // Whatever React had pending when the click came has run by now; the row is still there.
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(screen.getByRole('group', { name: 'New backend 1' })).toBeTruthy();
      } finally {
        react.IS_REACT_ACT_ENVIRONMENT = actEnvironment;
      }
    });

    it('adds a backend, applies the whole list live, and shows what the gate then has', async () => {
      const fake = setup(SETTINGS, (patch) => ({ ...SETTINGS, proxy: { ...SETTINGS.proxy, ...patch.proxy } }));
      expect((await screen.findByRole('group', { name: 'Backends' })).textContent).toContain('No other backend yet');
      fireEvent.click(screen.getByRole('button', { name: 'Add backend' }));
      const fresh = group('New backend 1');
      fireEvent.change(within(fresh).getByLabelText('Name'), { target: { value: 'big' } });
      // Named, the row says so.
      const big = group('Backend big');
      fireEvent.change(within(big).getByLabelText('URL'), { target: { value: 'http://10.0.0.5:11434/' } });
      fireEvent.change(within(big).getByLabelText('Weight'), { target: { value: '2' } });
      fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
      await waitFor(() => expect(toasts()).toContain('Settings applied'));
      expect(updates(fake)).toEqual([{ proxy: { backends: [{ name: 'big', url: 'http://10.0.0.5:11434', enabled: true, weight: 2 }] } }]);
      expect((within(group('Backend big')).getByLabelText('URL') as HTMLInputElement).value).toBe('http://10.0.0.5:11434');
      expect(document.querySelector('.form-actions .saved')!.textContent).toBe('Applied.');
    });

    it('switches a backend off and removes another', async () => {
      const two: SettingsView = {
        ...WITH_BIG,
        proxy: { ...WITH_BIG.proxy, backends: [...WITH_BIG.proxy.backends, { name: 'laptop', url: 'http://10.0.0.7:11434', enabled: true, weight: 1 }] },
      };
      const fake = setup(two);
      fireEvent.click(within(await screen.findByRole('group', { name: 'Backend big' })).getByRole('button', { name: 'Remove big' }));
      expect(screen.queryByRole('group', { name: 'Backend big' })).toBeNull();
      fireEvent.click(within(group('Backend laptop')).getByLabelText('Enabled'));
      fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
      await waitFor(() => expect(updates(fake)).toHaveLength(1));
      expect(updates(fake)).toEqual([{ proxy: { backends: [{ name: 'laptop', url: 'http://10.0.0.7:11434', enabled: false, weight: 1 }] } }]);
    });

    it('marks a mistake on its row before sending anything, and clears it as the field is edited', async () => {
      const fake = setup(WITH_BIG);
      fireEvent.click(await screen.findByRole('button', { name: 'Add backend' }));
      const fresh = group('New backend 2');
      fireEvent.change(within(fresh).getByLabelText('Name'), { target: { value: 'BIG' } });
      const second = screen.getAllByRole('group', { name: 'Backend BIG' })[0]!;
      fireEvent.change(within(second).getByLabelText('Weight'), { target: { value: '0' } });
      fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
      await waitFor(() => expect(toasts()).toContain('Some settings need fixing'));
      expect(updates(fake)).toEqual([]);
      const name = within(second).getByLabelText('Name');
      expect(name.getAttribute('aria-invalid')).toBe('true');
      expect(second.textContent).toContain('Another backend has this name (capitals do not count).');
      expect(second.textContent).toContain('Enter the backend’s URL, such as http://192.168.1.20:11434.');
      expect(second.textContent).toContain('A whole number from 1 to 100.');
      fireEvent.change(name, { target: { value: 'gpu' } });
      const gpu = group('Backend gpu');
      expect(gpu.textContent).not.toContain('Another backend has this name');
      expect(gpu.textContent).toContain('A whole number from 1 to 100.');
    });

    it('shows the gate’s refusal on the row and field it names', async () => {
      setup(WITH_BIG, () => ({
        ok: false,
        error: {
          code: 'invalid_input',
          message: "proxy.backends.0.url: Ollama's URL, such as http://127.0.0.1:11434",
          issues: [{ path: 'proxy.backends.0.url', message: "Ollama's URL, such as http://127.0.0.1:11434" }],
        },
      }));
      fireEvent.change(within(await screen.findByRole('group', { name: 'Backend big' })).getByLabelText('URL'), {
        target: { value: 'http://[::1' + ']:11434' },
      });
      fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
      await waitFor(() => expect(toasts()).toContain('Settings not applied'));
      const url = within(group('Backend big')).getByLabelText('URL');
      expect(url.getAttribute('aria-invalid')).toBe('true');
      expect(document.getElementById(url.getAttribute('aria-describedby')!.split(' ').at(-1)!)!.textContent).toBe(
        "Ollama's URL, such as http://127.0.0.1:11434",
      );
    });

    it('shows a list pinned on the command line read-only, with what pins it, and never sends it', async () => {
      const fake = setup({ ...WITH_BIG, pinned: [{ field: 'backends', by: '--upstream' }] });
      const backends = await screen.findByRole('group', { name: 'Backends' });
      expect(backends.textContent).toContain('Set by --upstream for this run.');
      const big = group('Backend big');
      for (const label of ['Name', 'URL', 'Weight']) expect((within(big).getByLabelText(label) as HTMLInputElement).readOnly).toBe(true);
      expect((within(big).getByLabelText('Enabled') as HTMLInputElement).disabled).toBe(true);
      expect(within(backends).queryByRole('button')).toBeNull();
      fireEvent.change(screen.getByLabelText('Port'), { target: { value: '9001' } });
      fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
      await waitFor(() => expect(updates(fake)).toEqual([{ proxy: { port: 9001 } }]));
    });

    it('speaks Chinese', async () => {
      setup(WITH_BIG, undefined, 'zh-CN');
      const backends = await screen.findByRole('group', { name: '后端' });
      expect(within(backends).getByRole('group', { name: '后端 big' })).toBeTruthy();
      expect(within(backends).getByRole('button', { name: '添加后端' })).toBeTruthy();
      expect(backends.textContent).toContain('X-Gate-Backend: NAME');
      expect(backends.textContent).toContain('始终启用');
    });
  });
});
