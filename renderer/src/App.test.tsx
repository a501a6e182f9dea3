// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from './App.js';
import { fakeGate } from './testing/fake-gate.js';
import { APP, HEALTH, SETTINGS, STATUS, keyView } from './testing/fixtures.js';

afterEach(() => {
  cleanup();
  localStorage.clear();
  window.location.hash = '';
});

function fake() {
  return fakeGate({
    'app.info': () => APP,
    'proxy.status': () => STATUS,
    'health.get': () => HEALTH,
    'keys.list': () => [keyView()],
    'settings.get': () => SETTINGS,
    'logs.recent': () => [],
  });
}

describe('the window', () => {
  it('opens on the overview, with the gate’s address and Ollama’s models', async () => {
    render(<App gate={fake().gate} />);
    expect(await screen.findByRole('heading', { level: 1, name: 'Overview' })).toBeTruthy();
    expect(await screen.findByText('http://127.0.0.1:8000')).toBeTruthy();
    expect(screen.getByText('llama3.2:latest')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Overview' }).getAttribute('aria-current')).toBe('page');
  });

  it('switches to Chinese, remembers the choice, and follows it everywhere', async () => {
    render(<App gate={fake().gate} />);
    await screen.findByRole('heading', { level: 1, name: 'Overview' });
    fireEvent.change(screen.getByLabelText('Language'), { target: { value: 'zh-CN' } });
    expect(await screen.findByRole('heading', { level: 1, name: '概览' })).toBeTruthy();
    expect(screen.getByRole('link', { name: '密钥' })).toBeTruthy();
    expect(document.documentElement.lang).toBe('zh-CN');
    expect(localStorage.getItem('ollama-gate.language')).toBe('zh-CN');
  });

  it('goes where the host asks: the tray’s “New key” opens the form', async () => {
    const gate = fake();
    render(<App gate={gate.gate} />);
    await screen.findByRole('heading', { level: 1, name: 'Overview' });
    act(() => gate.emit('navigate', { page: 'keys', action: 'create-key' }));
    expect(await screen.findByRole('dialog', { name: 'New key' })).toBeTruthy();
    expect(window.location.hash).toBe('#/keys');
  });

  it('follows live events: a key added elsewhere appears without a reload', async () => {
    const gate = fake();
    window.location.hash = '#/keys';
    render(<App gate={gate.gate} />);
    await screen.findByText('alice');
    act(() => gate.emit('keys', [keyView(), keyView({ id: 'k2', user: 'zoe', prefix: 'og_zzzz9' })]));
    await waitFor(() => expect(screen.getByText('zoe')).toBeTruthy());
  });

  it('says plainly when the gate refuses the page (no admin token)', async () => {
    const gate = fakeGate({});
    render(<App gate={gate.gate} />);
    expect((await screen.findAllByRole('alert'))[0]!.textContent).toContain('no fake for');
  });
});
