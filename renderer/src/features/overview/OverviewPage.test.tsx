// @vitest-environment jsdom
import { cleanup, configure, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BackendView, KeyView, ProxyStatus, ProxyTestResult } from '../../../../electron/shared/contract.js';
import { ToastProvider } from '../../components/Toast.js';
import { fakeGate } from '../../testing/fake-gate.js';
import { HEALTH, SETTINGS, STATUS, backendView, keyView } from '../../testing/fixtures.js';
import { renderWithGate } from '../../testing/render.js';
import { OverviewPage } from './OverviewPage.js';
import { backendState } from './backend-state.js';
import { BACKENDS_POLL_MS } from './use-backends.js';

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

function setup({
  keys = [keyView()],
  status = STATUS,
  test = KEYLESS,
  backends,
  locale = 'en',
}: { keys?: KeyView[]; status?: ProxyStatus; test?: ProxyTestResult; backends?: () => BackendView[]; locale?: 'en' | 'zh-CN' } = {}) {
  const fake = fakeGate({
    'keys.list': () => keys,
    'proxy.status': () => status,
    'proxy.stop': () => ({ ...status, state: 'stopped', urls: [], tls: null }),
    'proxy.test': () => test,
    'health.get': () => HEALTH,
    'health.check': () => ({ ...HEALTH, reachable: false, version: null, latencyMs: null, error: 'Ollama is not running', reason: null }),
    'settings.get': () => SETTINGS,
    ...(backends ? { 'backends.list': backends } : {}),
  });
  renderWithGate(
    <ToastProvider closeLabel="Close">
      <OverviewPage />
    </ToastProvider>,
    fake,
    locale,
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

  it('says nothing of the proxy’s state until its status comes: no “Stopped” for a moment', async () => {
    let answer: (status: ProxyStatus) => void = () => undefined;
    const fake = fakeGate({
      'keys.list': () => [keyView()],
      'proxy.status': () => new Promise<ProxyStatus>((resolve) => (answer = resolve)),
      'health.get': () => HEALTH,
      'settings.get': () => SETTINGS,
    });
    renderWithGate(
      <ToastProvider closeLabel="Close">
        <OverviewPage />
      </ToastProvider>,
      fake,
      'en',
    );
    const card = await screen.findByRole('region', { name: 'Gate' });
    expect(within(card).getByText('Loading…')).toBeTruthy();
    expect(within(card).queryByText('Stopped')).toBeNull();
    expect(within(card).queryByText(/is not listening/)).toBeNull();
    act(() => answer(STATUS));
    await within(card).findByText('Serving');
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

  describe('with several backends', () => {
    const model = (name: string) => ({ name, size: 1_000_000_000, family: null, parameterSize: null, quantization: null, modifiedAt: null });
    const BIG = backendView({
      name: 'big',
      url: 'http://10.0.0.5:11434',
      isDefault: false,
      weight: 3,
      inFlight: 2,
      health: {
        ...HEALTH,
        upstream: 'http://10.0.0.5:11434',
        version: '0.13.0',
        models: [model('qwen2.5:72b'), model('llama3.3:70b')],
        loaded: [{ name: 'qwen2.5:72b', size: 1, sizeVram: 1, expiresAt: null }],
      },
    });
    const LAPTOP = backendView({
      name: 'laptop',
      url: 'http://10.0.0.7:11434',
      isDefault: false,
      health: {
        ...HEALTH,
        upstream: 'http://10.0.0.7:11434',
        reachable: false,
        version: null,
        models: [],
        error: 'Ollama is not running or refused the connection (http://10.0.0.7:11434, ECONNREFUSED)',
        reason: { code: 'upstream_refused', params: { url: 'http://10.0.0.7:11434', errno: 'ECONNREFUSED' } },
      },
    });
    const SPARE = backendView({ name: 'spare', url: 'http://10.0.0.9:11434', isDefault: false, enabled: false, health: null });
    const card = () => screen.findByRole('region', { name: 'Backends' });
    const tile = (name: string) => within(document.querySelector('.backends-card') as HTMLElement).getByRole('listitem', { name });

    it('keeps the page as it was with the default alone', async () => {
      const fake = setup({ backends: () => [backendView()] });
      await screen.findByText('http://127.0.0.1:8000');
      await waitFor(() => expect(fake.calls.some((call) => call.method === 'backends.list')).toBe(true));
      expect(screen.queryByRole('region', { name: 'Backends' })).toBeNull();
      expect(screen.getByRole('heading', { name: 'Ollama' })).toBeTruthy();
    });

    it('lists each with its address, state, version, models, what is loaded and requests in flight; the reason when one is down', async () => {
      setup({ backends: () => [backendView(), BIG, LAPTOP, SPARE] });
      const region = await card();
      expect(within(region).getByText('2 of 3 up')).toBeTruthy();
      expect(within(region).getByRole('link', { name: 'Manage…' }).getAttribute('href')).toBe('#/settings');
      expect(
        within(region)
          .getAllByRole('listitem', { name: /./ })
          .map((item) => item.getAttribute('class')),
      ).toEqual(['backend-tile up', 'backend-tile up', 'backend-tile down', 'backend-tile disabled']);
      const big = tile('big');
      expect(big.textContent).toContain('http://10.0.0.5:11434');
      expect(big.textContent).toContain('Up');
      expect(big.textContent).toContain('0.13.0');
      const facts = Object.fromEntries(
        [...big.querySelectorAll('dl > div')].map((fact) => [fact.querySelector('dt')!.textContent, fact.querySelector('dd')!.textContent]),
      );
      expect(facts).toEqual({ Version: '0.13.0', Models: '2', 'In flight': '2', Weight: '3' });
      expect(big.querySelector('.backend-loaded')!.textContent).toBe('Loaded: qwen2.5:72b');
      expect(within(big).getByText('Installed models (2)')).toBeTruthy();
      expect([...big.querySelectorAll('.backend-models code')].map((code) => code.textContent)).toEqual(['llama3.3:70b', 'qwen2.5:72b']);
      expect(tile('default').querySelector('.backend-loaded')!.textContent).toBe('Loaded: no model in memory');
      const laptop = tile('laptop');
      expect(laptop.textContent).toContain('Down');
      expect(laptop.querySelector('.banner.error')!.textContent).toBe('Ollama is not running or refused the connection (http://10.0.0.7:11434, ECONNREFUSED)');
      // A down backend's last lists are stale: not shown.
      expect(laptop.querySelector('.backend-loaded')).toBeNull();
      const spare = tile('spare');
      expect(spare.textContent).toContain('Disabled');
      expect(spare.textContent).toContain('Turned off in Settings: it gets no requests and is not checked.');
      expect(spare.querySelector('.backend-loaded')).toBeNull();
      // The card below says it is about the default.
      expect(screen.getByRole('heading', { name: 'Ollama: default' })).toBeTruthy();
    });

    it('follows the backends event, and reads the list again every few seconds for the load', async () => {
      vi.useFakeTimers({ shouldAdvanceTime: true });
      try {
        let inFlight = 0;
        const fake = setup({ backends: () => [backendView(), { ...BIG, inFlight }] });
        await card();
        act(() => fake.emit('backends', [backendView(), { ...BIG, skipped: true }, LAPTOP]));
        await waitFor(() => expect(tile('big').className).toBe('backend-tile skipped'));
        expect(tile('big').textContent).toContain('It refused a connection: it gets no requests until its next good check.');
        expect(tile('laptop')).toBeTruthy();
        inFlight = 7;
        const before = fake.calls.filter((call) => call.method === 'backends.list').length;
        await act(async () => {
          await vi.advanceTimersByTimeAsync(BACKENDS_POLL_MS);
        });
        await waitFor(() => expect(fake.calls.filter((call) => call.method === 'backends.list').length).toBe(before + 1));
        await waitFor(() => expect(tile('big').textContent).toContain('In flight7'));
      } finally {
        vi.useRealTimers();
      }
    });

    it('speaks Chinese', async () => {
      setup({ backends: () => [backendView(), BIG, LAPTOP], locale: 'zh-CN' });
      const region = await screen.findByRole('region', { name: '后端' });
      expect(within(region).getByText('2/3 在线')).toBeTruthy();
      expect(region.textContent).toContain('离线');
      expect(region.textContent).toContain('已安装的模型（2）');
      // The reason in Chinese, from its code.
      expect(region.querySelector('.banner.error')!.textContent).not.toContain('Ollama is not running');
    });
  });
});

describe('backendState', () => {
  it('is disabled, down, skipped, checking or up, in that order', () => {
    const down = { ...HEALTH, reachable: false };
    expect(backendState(backendView({ enabled: false, health: null }))).toBe('disabled');
    expect(backendState(backendView({ health: down, skipped: true }))).toBe('down');
    expect(backendState(backendView({ skipped: true }))).toBe('skipped');
    expect(backendState(backendView({ health: null }))).toBe('checking');
    expect(backendState(backendView())).toBe('up');
  });
});
