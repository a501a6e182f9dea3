import { describe, expect, it } from 'vitest';
import { ANONYMOUS, EMPTY_FILTER, filterLogs, isFiltered, logUsers, statusClassOf } from './log-filter.js';
import { toJsonLines, exportFileName } from './log-export.js';
import { entry } from '../../testing/log-entries.js';

const LOG = [
  entry(1, { user: 'alice', path: '/api/chat', status: 200 }),
  entry(2, { user: null, keyId: null, keyPrefix: null, path: '/api/tags', status: 401, outcome: 'denied', error: 'no API key', model: null }),
  entry(3, { user: 'bob', path: '/v1/chat/completions', status: 429, model: 'qwen2.5:7b', ip: '192.168.1.20', client: 'python-requests/2.31.0' }),
  entry(4, { user: 'alice', path: '/api/generate', status: 502, outcome: 'upstream_error', error: 'Ollama is not running' }),
];
const seqs = (filter: Partial<typeof EMPTY_FILTER>) => filterLogs(LOG, { ...EMPTY_FILTER, ...filter }).map((e) => e.seq);

describe('log filters', () => {
  it('shows everything newest first when nothing is filtered', () => {
    expect(seqs({})).toEqual([4, 3, 2, 1]);
    expect(isFiltered(EMPTY_FILTER)).toBe(false);
  });

  it('filters by user, including requests without a key', () => {
    expect(seqs({ user: 'alice' })).toEqual([4, 1]);
    expect(seqs({ user: ANONYMOUS })).toEqual([2]);
    expect(logUsers(LOG)).toEqual(['alice', 'bob']);
  });

  it('filters by status class', () => {
    expect(statusClassOf(204)).toBe('2xx');
    expect(statusClassOf(101)).toBeNull();
    expect(seqs({ status: '4xx' })).toEqual([3, 2]);
    expect(seqs({ status: '5xx' })).toEqual([4]);
  });

  it('filters by path and by every word of a free text, case-insensitively', () => {
    expect(seqs({ path: '/API/' })).toEqual([4, 2, 1]);
    expect(seqs({ text: 'QWEN 192.168' })).toEqual([3]);
    expect(seqs({ text: 'not running' })).toEqual([4]);
    expect(seqs({ text: '401' })).toEqual([2]);
    expect(seqs({ text: 'python-requests' })).toEqual([3]);
    expect(seqs({ text: LOG[0]!.id })).toEqual([1]);
    expect(seqs({ user: 'alice', status: '2xx', text: 'chat' })).toEqual([1]);
    expect(isFiltered({ ...EMPTY_FILTER, text: ' x ' })).toBe(true);
  });

  it('filters ten thousand entries quickly enough to type through', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => entry(i, { path: i % 7 ? '/api/chat' : '/api/embed', user: `user${i % 13}` }));
    const started = performance.now();
    const shown = filterLogs(many, { ...EMPTY_FILTER, text: 'embed user3' });
    expect(performance.now() - started).toBeLessThan(200);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.every((e) => e.path === '/api/embed' && e.user === 'user3')).toBe(true);
  });
});

describe('log export', () => {
  it('writes one JSON object per line, in the order shown', () => {
    const text = toJsonLines(filterLogs(LOG, EMPTY_FILTER));
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.map((line) => (JSON.parse(line) as { seq: number }).seq)).toEqual([4, 3, 2, 1]);
    // What the window shows of a request is in its line: the model, the client, who answered.
    expect(JSON.parse(lines[1]!)).toMatchObject({ model: 'qwen2.5:7b', client: 'python-requests/2.31.0', answeredBy: 'ollama' });
    expect(text.endsWith('\n')).toBe(true);
    expect(toJsonLines([])).toBe('');
  });

  it('names the file by the local time', () => {
    expect(exportFileName(new Date(2026, 0, 9, 14, 3, 7))).toBe('ollama-gate-log-20260109-140307.jsonl');
  });
});
