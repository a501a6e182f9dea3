// @vitest-environment jsdom
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { LockoutView } from '../../../../electron/shared/contract.js';
import { ToastProvider } from '../../components/Toast.js';
import type { Locale } from '../../i18n/translate.js';
import { fakeGate } from '../../testing/fake-gate.js';
import { HEALTH, SETTINGS, STATUS, keyView } from '../../testing/fixtures.js';
import { renderWithGate } from '../../testing/render.js';
import { SessionsPage } from './SessionsPage.js';

afterEach(cleanup);

function setup(lockouts: LockoutView[], locale: Locale = 'en', settings = SETTINGS) {
  let list = lockouts;
  const fake = fakeGate({
    'keys.list': () => [keyView()],
    'proxy.status': () => STATUS,
    'health.get': () => HEALTH,
    'settings.get': () => settings,
    'sessions.list': () => [],
    'lockouts.list': () => list,
    'lockouts.unlock': ({ ip }) => {
      if (ip === '10.9.9.9') return { ok: false, error: { code: 'store_error', message: 'disk full' } };
      list = list.filter((entry) => entry.ip !== ip);
      return null;
    },
  });
  renderWithGate(
    <ToastProvider closeLabel="Close">
      <SessionsPage />
    </ToastProvider>,
    fake,
    locale,
  );
  return fake;
}

const lockedTable = () => screen.getByRole('table', { name: 'Addresses locked out or sending wrong keys' });
const toasts = () => document.querySelector('.toasts')!.textContent ?? '';

describe('the Locked out section', () => {
  it('shows a locked address with a live countdown, and one counting wrong keys', async () => {
    const now = Date.now();
    setup([
      { ip: '127.0.0.1', failures: 10, lockedUntil: now + 125_000, lastFailureAt: now - 5_000 },
      { ip: '192.168.1.40', failures: 3, lockedUntil: null, lastFailureAt: now - 2_000 },
    ]);
    const locked = within(await screen.findByRole('row', { name: /127\.0\.0\.1/ }));
    expect(locked.getByText('Locked out')).toBeTruthy();
    const countdown = locked.getByLabelText(/left$/);
    expect(countdown.textContent).toMatch(/^2:0[45]$/);
    // It counts down on its own, second by second.
    await waitFor(() => expect(countdown.textContent).not.toMatch(/^2:05$/), { timeout: 2_500 });
    expect(locked.getByRole('button', { name: 'Unlock 127.0.0.1' })).toBeTruthy();

    const counting = within(screen.getByRole('row', { name: /192\.168\.1\.40/ }));
    expect(counting.getByText('Counting')).toBeTruthy();
    // Against the threshold from the settings (10 by default).
    expect(counting.getByText('3 of 10')).toBeTruthy();
    expect(counting.getByRole('button', { name: 'Forget the wrong keys from 192.168.1.40' })).toBeTruthy();
    expect(within(lockedTable()).getAllByRole('row')).toHaveLength(3);
  });

  it('unlocks: the gate is asked, a toast says so, the row goes and the focus stays in the section', async () => {
    const now = Date.now();
    const fake = setup([{ ip: '127.0.0.1', failures: 10, lockedUntil: now + 300_000, lastFailureAt: now }]);
    fireEvent.click(await screen.findByRole('button', { name: 'Unlock 127.0.0.1' }));
    await waitFor(() => expect(toasts()).toContain('127.0.0.1 unlocked'));
    expect(fake.calls.filter((c) => c.method === 'lockouts.unlock').map((c) => c.request)).toEqual([{ ip: '127.0.0.1' }]);
    await screen.findByText('No address is locked out or sending wrong keys.');
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Locked out' }));
  });

  it('says so when an unlock fails, and keeps the row', async () => {
    const now = Date.now();
    setup([{ ip: '10.9.9.9', failures: 10, lockedUntil: now + 300_000, lastFailureAt: now }]);
    fireEvent.click(await screen.findByRole('button', { name: 'Unlock 10.9.9.9' }));
    await waitFor(() => expect(toasts()).toContain('Could not unlock 10.9.9.9: disk full'));
    expect(screen.getByRole('row', { name: /10\.9\.9\.9/ })).toBeTruthy();
  });

  it('follows the lockouts event, and drops a lockout once its time is up', async () => {
    const fake = setup([]);
    await screen.findByText('No address is locked out or sending wrong keys.');
    const now = Date.now();
    act(() => fake.emit('lockouts', [{ ip: '10.0.0.7', failures: 10, lockedUntil: now + 1_200, lastFailureAt: now }]));
    await screen.findByRole('row', { name: /10\.0\.0\.7/ });
    await waitFor(() => expect(screen.queryByRole('row', { name: /10\.0\.0\.7/ })).toBeNull(), { timeout: 3_000 });
  });

  it('explains a lockout when there is none, and points to its settings', async () => {
    setup([]);
    await screen.findByText('No address is locked out or sending wrong keys.');
    expect(screen.getByText(/stops anyone from guessing keys/)).toBeTruthy();
    expect(
      screen.getByText(
        'After 10 wrong keys within 1 min, an address is refused for 5 min, even with a right key. Unlocking lets its next request through at once.',
      ),
    ).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Lockout settings' }).getAttribute('href')).toBe('#/settings');
  });

  it('says when lockout is turned off', async () => {
    setup([], 'en', { ...SETTINGS, proxy: { ...SETTINGS.proxy, lockoutMaxFailures: 0 } });
    await screen.findByText('Lockout is turned off: wrong keys are refused, but no address is ever locked out.');
  });

  it('speaks Chinese', async () => {
    const now = Date.now();
    setup([{ ip: '127.0.0.1', failures: 10, lockedUntil: now + 60_000, lastFailureAt: now }], 'zh-CN');
    const row = within(await screen.findByRole('row', { name: /127\.0\.0\.1/ }));
    expect(row.getByText('已锁定')).toBeTruthy();
    expect(row.getByRole('button', { name: '解除 127.0.0.1 的锁定' })).toBeTruthy();
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('会话与锁定');
  });
});
