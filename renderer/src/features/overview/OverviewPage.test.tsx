// @vitest-environment jsdom
import { cleanup, configure, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyView, ProxyStatus, ProxyTestResult } from '../../../../electron/shared/contract.js';
import { ToastProvider } from '../../components/Toast.js';
import { fakeGate } from '../../testing/fake-gate.js';
import { HEALTH, SETTINGS, STATUS, keyView } from '../../testing/fixtures.js';
import { renderWithGate } from '../../testing/render.js';
import { OverviewPage } from './OverviewPage.js';

afterEach(cleanup);
// A machine busy with other tests may take more than the default second to render.
configure({ asyncUtilTimeout: 5_000 });

const KEYLESS: ProxyTestResult = {
  url: 'http://127.0.0.1:8000/api/tags',
  status: 401,
  durationMs: 2,
  detail: 'API key required: send it as "Authorization: Bearer <key>" or "X-API-Key: <key>"',
  reason: { code: 'missing_key' },
  retryAfterSeconds: null,
  health: {
    url: 'http://127.0.0.1:8000/health',
    status: 200,
    durationMs: 1,
    detail: 'the gate answers and Ollama is reachable through it',
    reason: { code: 'test_gate_ok' },
    retryAfterSeconds: null,
  },
};

function setup({ keys = [keyView()], status = STATUS, test = KEYLESS }: { keys?: KeyView[]; status?: ProxyStatus; test?: ProxyTestResult } = {}) {
  const fake = fakeGate({
    'keys.list': () => keys,
    'proxy.status': () => status,
    'proxy.stop': () => ({ ...status, state: 'stopped', urls: [], tls: null }),
    'proxy.test': () => test,
    'health.get': () => HEALTH,
    'health.check': () => ({ ...HEALTH, reachable: false, version: null, latencyMs: null, error: 'Ollama is not running', reason: null }),
    'settings.get': () => SETTINGS,
  });
  renderWithGate(
    <ToastProvider closeLabel="Close">
      <OverviewPage />
    </ToastProvider>,
    fake,
  );
  return fake;
}

const toasts = () => document.querySelector('.toasts')!.textContent ?? '';

describe('the overview', () => {
  it('on first run, says every request is refused until there is a key, and leads to the new-key form', async () => {
    setup({ keys: [] });
    const notice = await screen.findByRole('region', { name: 'No keys yet: every request is refused' });
    const create = within(notice).getByRole('link', { name: 'Create a key' });
    expect(create.getAttribute('href')).toBe('#/keys?action=create-key');
  });

  it('has no first-run notice once there is a key', async () => {
    setup();
    await screen.findByText('http://127.0.0.1:8000');
    expect(screen.queryByRole('region', { name: /No keys yet/ })).toBeNull();
  });

  it('shows no QR code for a loopback address, only the address and the way to share it on the LAN', async () => {
    setup();
    await screen.findByText('http://127.0.0.1:8000');
    expect(screen.getByText('Only this computer can connect.')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Share on LAN…' }).getAttribute('href')).toBe('#/settings');
    // Give the QR codes (drawn asynchronously) the time to appear if there were any.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(document.querySelectorAll('img.qr')).toHaveLength(0);
  });

  it('shows a QR code for each LAN address, and none for loopback ones, HTTPS included, with the fingerprint', async () => {
    const fingerprint256 = Array.from({ length: 32 }, () => 'AB').join(':');
    setup({
      status: {
        ...STATUS,
        host: '0.0.0.0',
        urls: ['http://127.0.0.1:8000', 'http://192.168.1.5:8000'],
        tls: {
          port: 8443,
          urls: ['https://127.0.0.1:8443', 'https://192.168.1.5:8443'],
          fingerprint256,
          certFile: '/data/tls/cert.pem',
          error: null,
          reason: null,
        },
      },
    });
    await screen.findByAltText('QR code for http://192.168.1.5:8000');
    await screen.findByAltText('QR code for https://192.168.1.5:8443');
    expect(screen.queryByAltText('QR code for http://127.0.0.1:8000')).toBeNull();
    expect(screen.queryByAltText('QR code for https://127.0.0.1:8443')).toBeNull();
    expect(document.querySelectorAll('img.qr')).toHaveLength(2);
    expect(screen.getByText('https://127.0.0.1:8443')).toBeTruthy();
    expect(screen.getByText(fingerprint256)).toBeTruthy();
  });

  it('shows why HTTPS does not serve, in the window’s words', async () => {
    setup({
      status: {
        ...STATUS,
        tls: {
          port: 8443,
          urls: [],
          fingerprint256: null,
          certFile: null,
          error: 'HTTPS: port 8443 is already in use on 127.0.0.1: stop the other program or choose another port',
          reason: { code: 'port_in_use', params: { port: 8443, host: '127.0.0.1' } },
        },
      },
    });
    expect(await screen.findByText(/port 8443 is already in use on 127\.0\.0\.1/i)).toBeTruthy();
  });

  it('tests without a key: says what a keyless client gets and what /health answers; with no key at all, how to make one', async () => {
    const fake = setup({ keys: [] });
    fireEvent.click(await screen.findByRole('button', { name: 'Run test' }));
    const result = await screen.findByText('Without a key, clients get 401: the gate asks for a key');
    const box = result.closest('.test-result') as HTMLElement;
    expect(box.textContent).toContain('/health answers 200 without a key (it needs none): the gate and Ollama are up.');
    expect(box.textContent).toContain('This gate has no key yet: every client is refused until you create one.');
    expect(box.textContent).not.toMatch(/gate works/i);
    expect(within(box).getByRole('link', { name: 'Create a key' }).getAttribute('href')).toBe('#/keys?action=create-key');
    expect(fake.calls.filter((call) => call.method === 'proxy.test')).toEqual([{ method: 'proxy.test', request: undefined }]);
  });

  it('names a lockout in the test result', async () => {
    const locked: ProxyTestResult = {
      ...KEYLESS,
      status: 429,
      reason: { code: 'locked_out', params: { ip: '127.0.0.1', seconds: 299 } },
      retryAfterSeconds: 299,
      health: null,
    };
    const fake = setup({ test: locked });
    fireEvent.change(await screen.findByLabelText('Key (optional)'), { target: { value: 'og_wrong' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run test' }));
    await screen.findByText('This address (127.0.0.1) is locked out for 299 more seconds after too many wrong keys');
    expect(fake.calls.find((call) => call.method === 'proxy.test')?.request).toEqual({ key: 'og_wrong' });
  });

  it('says in a toast that the gate stopped, and what Ollama’s check found', async () => {
    setup();
    fireEvent.click(await screen.findByRole('button', { name: 'Stop' }));
    await waitFor(() => expect(toasts()).toContain('Gate stopped'));
    fireEvent.click(screen.getByRole('button', { name: 'Check now' }));
    await waitFor(() => expect(toasts()).toContain('Ollama does not answer: Ollama is not running'));
  });
});
