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
});
