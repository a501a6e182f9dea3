// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionState, GateConnection } from '../../../electron/shared/gate-client.js';
import { App } from '../App.js';
import { fakeGate } from '../testing/fake-gate.js';
import { APP, HEALTH, SETTINGS, STATUS, keyView } from '../testing/fixtures.js';
import { entry } from '../testing/log-entries.js';

afterEach(() => {
  cleanup();
  localStorage.clear();
  window.location.hash = '';
});

/** A connection the test moves from state to state by hand. */
function fakeConnection() {
  let state: ConnectionState = { state: 'connected', epoch: 0 };
  const listeners = new Set<(state: ConnectionState) => void>();
  const connection: GateConnection & { set(next: ConnectionState): void } = {
    current: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    retry: vi.fn(),
    set(next) {
      state = next;
      act(() => {
        for (const listener of [...listeners]) listener(state);
      });
    },
  };
  return connection;
}

function gate(keys = [keyView()]) {
  const current = { keys };
  const fake = fakeGate({
    'app.info': () => APP,
    'proxy.status': () => STATUS,
    'health.get': () => HEALTH,
    'keys.list': () => current.keys,
    'settings.get': () => SETTINGS,
    'logs.recent': (request) => [entry(1), entry(2)].filter((e) => e.seq > (request?.after ?? 0)),
    'sessions.list': () => [],
    'usage.query': () => [],
    'network.addresses': () => ({ addresses: [], lanUrls: [], sharedOnLan: false }),
  });
  return { ...fake, current };
}

const status = () => within(screen.getByRole('navigation')).getByRole('status');
const calls = (fake: ReturnType<typeof gate>, method: string) => fake.calls.filter((c) => c.method === method);

describe('the window shell', () => {
  it('shows the gate’s and Ollama’s state on every page, with icons, each a link to the overview', async () => {
    const fake = gate();
    render(<App gate={fake.gate} />);
    await waitFor(() => expect(status().textContent).toContain('Serving'));
    for (const page of ['Keys', 'Sessions', 'Logs', 'Usage', 'Settings', 'Overview']) {
      fireEvent.click(screen.getByRole('link', { name: page }));
      await waitFor(() => expect(window.location.hash).toBe(`#/${page.toLowerCase()}`));
      const gateLink = screen.getByRole('link', { name: 'Gate: Serving' });
      const ollamaLink = screen.getByRole('link', { name: 'Ollama: 0.12.6' });
      for (const link of [gateLink, ollamaLink]) {
        expect(link.getAttribute('href')).toBe('#/overview');
        expect(link.querySelector('svg[aria-hidden="true"]')).not.toBeNull();
      }
    }
    // Every page link carries its icon.
    for (const link of within(screen.getByRole('navigation')).getAllByRole('listitem')) expect(link.querySelector('svg.nav-icon')).not.toBeNull();
    act(() => fake.emit('health', { ...HEALTH, reachable: false, version: null, error: 'connection refused' }));
    expect(screen.getByRole('link', { name: 'Ollama: Unreachable' }).getAttribute('data-tone')).toBe('danger');
    act(() => fake.emit('status', { ...STATUS, state: 'stopped', urls: [] }));
    expect(screen.getByRole('link', { name: 'Gate: Stopped' })).toBeTruthy();
  });

  it('says when the connection is lost, and reloads everything when it is back', async () => {
    const fake = gate();
    const connection = fakeConnection();
    window.location.hash = '#/keys';
    render(<App gate={fake.gate} connection={connection} />);
    await screen.findByText('alice', {}, { timeout: 5_000 });
    expect(screen.queryByText(/Lost connection/)).toBeNull();

    connection.set({ state: 'reconnecting', epoch: 0, attempt: 1, retryAt: Date.now() + 4_000 });
    expect(screen.getByRole('alert').textContent).toBe('Lost connection to the gate — reconnecting…');
    expect(screen.getByText(/Trying again in 4 s\./)).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Gate: Disconnected' })).toBeTruthy();
    expect(screen.queryByRole('link', { name: 'Gate: Serving' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Try now' }));
    expect(connection.retry).toHaveBeenCalledTimes(1);

    // Meanwhile a key was added elsewhere; no event said so.
    fake.current.keys = [keyView(), keyView({ id: 'k2', user: 'zoe', prefix: 'og_zzzz9' })];
    const before = { keys: calls(fake, 'keys.list').length, logs: calls(fake, 'logs.recent').length };
    connection.set({ state: 'connected', epoch: 1 });
    await screen.findByText('zoe', {}, { timeout: 5_000 });
    expect(calls(fake, 'keys.list').length).toBe(before.keys + 1);
    for (const method of ['app.info', 'proxy.status', 'settings.get', 'health.get']) expect(calls(fake, method).length, method).toBe(2);
    // The log history is fetched again from where the window's copy ends.
    await waitFor(() => expect(calls(fake, 'logs.recent').length).toBe(before.logs + 1));
    expect(calls(fake, 'logs.recent').at(-1)!.request).toEqual({ after: 1, limit: 10_000 });
    expect(screen.queryByText(/Lost connection/)).toBeNull();
    expect(screen.getByRole('link', { name: 'Gate: Serving' })).toBeTruthy();
    expect(await screen.findByText('Reconnected to the gate')).toBeTruthy();
  });

  it('pages that load their own data load it again after a reconnection', async () => {
    const fake = gate();
    const connection = fakeConnection();
    window.location.hash = '#/sessions';
    render(<App gate={fake.gate} connection={connection} />);
    await waitFor(() => expect(calls(fake, 'sessions.list').length).toBe(1));
    connection.set({ state: 'reconnecting', epoch: 0, attempt: 1, retryAt: Date.now() + 1_000 });
    connection.set({ state: 'connected', epoch: 1 });
    await waitFor(() => expect(calls(fake, 'sessions.list').length).toBe(2));
  });

  it('a refused page is told to open the admin link again', async () => {
    const fake = gate();
    const connection = fakeConnection();
    render(<App gate={fake.gate} connection={connection} />);
    await screen.findByRole('link', { name: 'Gate: Serving' });
    connection.set({ state: 'refused', epoch: 0 });
    expect(screen.getByRole('alert').textContent).toContain('no longer accepts this page');
    const how = screen.getByText(/Open the admin URL with its token again/);
    expect(how.querySelector('code')?.textContent).toBe('ollama-gate serve');
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(connection.retry).toHaveBeenCalledTimes(1);
    expect(screen.getByRole('link', { name: 'Gate: Disconnected' })).toBeTruthy();
  });

  it('speaks Chinese too', async () => {
    localStorage.setItem('ollama-gate.language', 'zh-CN');
    const connection = fakeConnection();
    render(<App gate={gate().gate} connection={connection} />);
    await screen.findByRole('link', { name: '网关：运行中' });
    connection.set({ state: 'reconnecting', epoch: 0, attempt: 1, retryAt: Date.now() + 2_000 });
    expect(screen.getByRole('alert').textContent).toBe('与网关的连接已断开，正在重新连接…');
    expect(screen.getByRole('link', { name: '网关：已断开' })).toBeTruthy();
  });
});
