// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { entry } from '../../testing/log-entries.js';
import { LogsPage } from './LogsPage.js';
import { LogStore } from './log-store.js';

// jsdom lays nothing out: give the list the height a browser would.
beforeAll(() => Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 340 }));
afterAll(() => Reflect.deleteProperty(HTMLElement.prototype, 'clientHeight'));
afterEach(cleanup);

function tenThousand(): LogStore {
  const store = new LogStore();
  store.add(Array.from({ length: 10_000 }, (_, i) => entry(i + 1, { path: i % 10 === 0 ? '/api/embed' : '/api/chat', status: i % 50 === 0 ? 500 : 200 })));
  return store;
}

const rows = () => within(screen.getByRole('listbox')).queryAllByRole('option');

describe('the live log', () => {
  it('renders only the rows in view out of ten thousand, newest first', () => {
    render(<LogsPage store={tenThousand()} />);
    expect(screen.getByText('Showing 10,000 of 10,000 requests')).toBeTruthy();
    expect(rows().length).toBeGreaterThan(5);
    expect(rows().length).toBeLessThan(60);
    expect(rows()[0]!.id).toBe('log-10000');
  });

  it('filters by path and status, and says how many match', () => {
    render(<LogsPage store={tenThousand()} />);
    fireEvent.change(screen.getByLabelText('Path'), { target: { value: 'embed' } });
    expect(screen.getByText('Showing 1,000 of 10,000 requests')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Status'), { target: { value: '5xx' } });
    expect(screen.getByText('Showing 200 of 10,000 requests')).toBeTruthy();
    expect(rows().every((row) => row.textContent!.includes('/api/embed') && row.textContent!.includes('500'))).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    expect(screen.getByText('Showing 10,000 of 10,000 requests')).toBeTruthy();
  });

  it('shows the model, the client by a short name, and who refused', () => {
    const store = new LogStore();
    store.add([
      entry(1, { model: 'llama3.2', client: 'ollama-js/0.6.3 (x64 linux Node.js/v20.19.0)' }),
      entry(2, { model: 'no-such-model', status: 404, answeredBy: 'ollama', client: 'curl/8.5.0' }),
      entry(3, { model: null, status: 403, outcome: 'denied', decision: 'denied', answeredBy: 'gate', user: null, client: null }),
    ]);
    render(<LogsPage store={store} />);
    const [gate, ollama, ok] = rows();
    expect(ok!.textContent).toContain('llama3.2');
    expect(ok!.textContent).toContain('ollama-js 0.6');
    expect(ok!.textContent).toContain('Completed·200');
    expect(ollama!.textContent).toContain('Ollama refused·404');
    expect(ollama!.textContent).not.toContain('Completed');
    expect(gate!.textContent).toContain('Refused by gate·403');
    expect(gate!.querySelector('.outcome-badge.gateRefused')).toBeTruthy();
    expect(ollama!.querySelector('.outcome-badge.ollamaRefused')).toBeTruthy();
    // The full User-Agent is in the tooltip and the details.
    expect(ok!.querySelector('.c-client')!.getAttribute('title')).toBe('ollama-js/0.6.3 (x64 linux Node.js/v20.19.0)');
    fireEvent.click(ok!);
    const detail = screen.getByRole('complementary', { name: 'Request' });
    expect(detail.textContent).toContain('ollama-js/0.6.3 (x64 linux Node.js/v20.19.0)');
    expect(detail.textContent).toContain('Ollama itself');
    // The search finds a request by its client.
    fireEvent.change(screen.getByLabelText('Search'), { target: { value: 'curl' } });
    expect(rows().map((row) => row.id)).toEqual(['log-2']);
  });

  it('pauses: new requests wait, counted, until resumed', () => {
    const store = new LogStore();
    store.add([entry(1)]);
    render(<LogsPage store={store} />);
    fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    act(() => void store.add([entry(2), entry(3)]));
    expect(screen.getByText('Showing 1 of 1 requests · paused, 2 new')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Resume' }));
    expect(screen.getByText('Showing 3 of 3 requests')).toBeTruthy();
  });

  it('opens a request’s details by click or keyboard, and closes them with Escape', () => {
    render(<LogsPage store={tenThousand()} />);
    const list = screen.getByRole('listbox');
    fireEvent.keyDown(list, { key: 'Home' });
    const detail = screen.getByRole('complementary', { name: 'Request' });
    expect(detail.textContent).toContain('Prompt tokens');
    expect(list.getAttribute('aria-activedescendant')).toBe('log-10000');
    fireEvent.keyDown(list, { key: 'ArrowDown' });
    expect(list.getAttribute('aria-activedescendant')).toBe('log-9999');
    fireEvent.keyDown(list, { key: 'Escape' });
    expect(screen.queryByRole('complementary')).toBeNull();
    fireEvent.click(rows()[2]!);
    expect(screen.getByRole('complementary', { name: 'Request' }).textContent).toContain('/api/chat');
  });

  it('with one Ollama, has no backend column and says nothing of backends', () => {
    const store = new LogStore();
    store.add([entry(1), entry(2, { backend: null, status: 401, outcome: 'denied', decision: 'denied', answeredBy: 'gate' })]);
    render(<LogsPage store={store} />);
    expect(document.querySelector('.log-table')!.className).toBe('log-table');
    expect(document.querySelector('.c-backend')).toBeNull();
    fireEvent.click(rows()[0]!);
    expect(screen.getByRole('complementary', { name: 'Request' }).textContent).not.toContain('Backend');
  });

  it('with several backends, shows which one answered in a column and in the details, and finds requests by it', () => {
    const store = new LogStore();
    store.add([
      entry(1, { model: 'llama3.2', backend: 'default' }),
      entry(2, { model: 'qwen2.5:72b', backend: 'big' }),
      entry(3, { path: '/api/tags', model: null, backend: 'all' }),
      entry(4, { model: null, backend: null, status: 401, outcome: 'denied', decision: 'denied', answeredBy: 'gate' }),
    ]);
    render(<LogsPage store={store} />);
    expect(document.querySelector('.log-table')!.className).toBe('log-table with-backends');
    expect(document.querySelector('.log-head .c-backend')!.textContent).toBe('Backend');
    const [refused, merged, big, fallback] = rows();
    expect([refused, merged, big, fallback].map((row) => row!.querySelector('.c-backend')!.textContent)).toEqual(['—', 'all', 'big', 'default']);
    expect(merged!.querySelector('.c-backend')!.getAttribute('title')).toBe('all (the lists of every backend, merged)');
    fireEvent.click(big!);
    const detail = screen.getByRole('complementary', { name: 'Request' });
    const backend = [...detail.querySelectorAll('dl > div')].find((row) => row.querySelector('dt')!.textContent === 'Backend');
    expect(backend!.querySelector('dd')!.textContent).toBe('big');
    fireEvent.change(screen.getByLabelText('Search'), { target: { value: 'big' } });
    expect(rows().map((row) => row.id)).toEqual(['log-2']);
  });
});
