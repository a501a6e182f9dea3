import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTarget } from './request-target.js';

function refusal(raw: string): string | undefined {
  try {
    parseTarget(raw);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('parseTarget: the path', () => {
  it('leaves plain paths as they are', () => {
    for (const raw of ['/', '/api/chat', '/v1/chat/completions', '/api/blobs/sha256:0123abcdef', '/a:b/c-d_e', '/API/Chat']) {
      expect(parseTarget(raw)).toMatchObject({ path: raw, wirePath: raw });
    }
  });

  it('decodes escapes and cleans the path as Ollama routes it, and sends Ollama that path', () => {
    const cases: Array<[raw: string, path: string, wire: string]> = [
      ['/api%2Fcopy', '/api/copy', '/api/copy'],
      ['/api/c%6Fpy', '/api/copy', '/api/copy'],
      ['/api/../debug/pprof/heap', '/debug/pprof/heap', '/debug/pprof/heap'],
      ['/api/%2e%2e/debug/pprof/', '/debug/pprof/', '/debug/pprof/'],
      ['/api%2F..%2Fdebug%2Fpprof', '/debug/pprof', '/debug/pprof'],
      ['//api//chat', '/api/chat', '/api/chat'],
      ['/api/./chat', '/api/chat', '/api/chat'],
      ['/api/chat/', '/api/chat/', '/api/chat/'],
      ['/v1/models/llama3%3Alatest', '/v1/models/llama3:latest', '/v1/models/llama3:latest'],
      ['/api/a%3Fb', '/api/a?b', '/api/a%3Fb'],
      ['/api/a%25b', '/api/a%b', '/api/a%25b'],
      ['/api/ch at', '/api/ch at', '/api/ch%20at'],
      ['/api/%C3%A9', '/api/é', '/api/%C3%A9'],
      ['/api/%F0%9F%98%80', '/api/😀', '/api/%F0%9F%98%80'],
      ['/api\\chat', '/api\\chat', '/api%5Cchat'],
    ];
    for (const [raw, path, wire] of cases) expect(parseTarget(raw), raw).toMatchObject({ path, wirePath: wire });
  });

  it('refuses what it cannot read one way only', () => {
    for (const raw of [
      'http://evil/api/chat',
      '*',
      'api/chat',
      '/api/%zz',
      '/api/%',
      '/api/%00',
      '/api/a%0Ab',
      '/api/a%23b',
      '/api/chat#frag',
      '/api/%C3%28',
    ]) {
      expect(refusal(raw), raw).toBeDefined();
    }
  });

  it('always sends a clean path that decodes back to exactly the path it checked (property)', () => {
    const piece = fc.constantFrom(
      'api',
      'v1',
      'chat',
      'copy',
      '..',
      '.',
      '',
      '%2e',
      '%2E%2e',
      '%2F',
      '%2f',
      '%3F',
      '%23',
      '%25',
      '%20',
      '%41',
      '\\',
      ':',
      '?',
      'é',
      '%C3%A9',
      '%F0%9F%98%80',
      ';',
      '@',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const raw = '/' + pieces.join('/');
        let target;
        try {
          target = parseTarget(raw);
        } catch {
          return; // refused: nothing is forwarded
        }
        expect(decodeURIComponent(target.wirePath)).toBe(target.path);
        // Clean as Go's router wants it: no empty, "." or ".." segment left (a trailing slash stays).
        expect(
          target.path
            .split('/')
            .slice(1, -1)
            .filter((s) => s === '' || s === '.' || s === '..'),
        ).toEqual([]);
        expect(['.', '..']).not.toContain(target.path.split('/').at(-1));
        expect(target.wirePath).not.toMatch(/[?#]/);
        expect(target.path.startsWith('/')).toBe(true);
      }),
      { numRuns: 5_000, seed: 13 },
    );
  });
});

describe('parseTarget: the query', () => {
  it('takes api_key by its decoded name in any case, drops it from what Ollama gets and hides it in the log', () => {
    for (const name of ['api_key', 'api%5Fkey', '%61pi_key', 'API_KEY', 'Api%5FKey']) {
      const { query } = parseTarget(`/api/tags?a=1&${name}=og_secret&b=x%20y+z&c`);
      expect(query.key, name).toBe('og_secret');
      expect(query.forwarded, name).toBe('?a=1&b=x%20y+z&c');
      expect(query.logged, name).toBe(`?a=1&${name}=***&b=x%20y+z&c`);
      expect(query.logged + query.forwarded).not.toContain('og_secret');
    }
  });

  it('decodes the key, keeps every other member exactly as sent, and forwards no query when only the key was there', () => {
    expect(parseTarget('/api/tags?api_key=og_a%2Bb%2Fc').query).toEqual({ key: 'og_a+b/c', forwarded: '', logged: '?api_key=***' });
    expect(parseTarget('/api/tags?x=%zz&y').query).toEqual({ key: undefined, forwarded: '?x=%zz&y', logged: '?x=%zz&y' });
    expect(parseTarget('/api/tags?').query.forwarded).toBe('');
  });

  it('ignores an empty api_key, and refuses two different ones', () => {
    expect(parseTarget('/api/tags?api_key=&api_key=og_k').query.key).toBe('og_k');
    expect(parseTarget('/api/tags?api_key=og_k&API_KEY=og_k').query.key).toBe('og_k');
    expect(refusal('/api/tags?api_key=og_a&api_key=og_b')).toMatch(/two different api_key/);
  });
});
