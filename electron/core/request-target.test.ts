import { describe, expect, it } from 'vitest';
import { parseTarget } from './request-target.js';

/** What a parse gives, or that it refused the target. */
function reading(parse: (raw: string) => Pick<URL, 'pathname' | 'search' | 'searchParams'>, raw: string) {
  try {
    const target = parse(raw);
    return { pathname: target.pathname, search: target.search, query: [...target.searchParams] };
  } catch {
    return 'invalid';
  }
}
const viaUrl = (raw: string) => reading((r) => new URL(r, 'http://gate.invalid'), raw);
const viaParse = (raw: string) => reading(parseTarget, raw);

describe('parseTarget', () => {
  it('reads targets exactly as the URL parser does', () => {
    const targets = [
      '/', '/api/chat', '/v1/chat/completions', '/api/blobs/sha256:0123abcdef', '/api/tags?api_key=x', '/api/./chat', '/api/../pull',
      '/api/%2e%2e/pull', '//evil/api/chat', '/api//chat', '/api\\chat', '/v1/models/llama3.2', '/api/chat#frag', '/api/ch at', '/api/é',
      '/api/chat?', '/a:b/c-d_e', '/API/Chat', '/api/chat/', '///', '/.', '/..', '/api/{x}', '/api/`', '/api/^',
    ];
    for (const raw of targets) expect(viaParse(raw), raw).toEqual(viaUrl(raw));
  });

  it('agrees with the URL parser on random targets (seed 5, 20,000 cases)', () => {
    let seed = 5;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const alphabets = ['aZ09_-:/./%2e\\?#&= ~!$\'()*+,;@^`{}|"<>\t', 'aZ09_-:/', 'a/:.-'];
    for (let i = 0; i < 20_000; i++) {
      const alphabet = alphabets[i % alphabets.length]!;
      let raw = '/';
      for (let n = Math.floor(random() * 12); n > 0; n--) raw += alphabet[Math.floor(random() * alphabet.length)];
      expect(viaParse(raw), raw).toEqual(viaUrl(raw));
    }
  });
});
