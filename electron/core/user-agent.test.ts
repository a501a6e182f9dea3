import { describe, expect, it } from 'vitest';
import { generateSecret } from './keys.js';
import { MAX_CLIENT_LENGTH, cleanUserAgent } from './user-agent.js';

describe('cleanUserAgent', () => {
  it('keeps ordinary user agents as they are', () => {
    for (const ua of [
      'ollama-js/0.6.3 (x64 linux Node.js/v20.19.0)',
      'OpenAI/JS 6.49.0',
      'python-requests/2.31.0',
      'curl/8.5.0',
      'ollama/0.5.7 (amd64 linux) Go/go1.23.4',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    ]) {
      expect(cleanUserAgent(ua)).toBe(ua);
    }
  });

  it('has nothing to say without the header, or with an empty one', () => {
    expect(cleanUserAgent(undefined)).toBeNull();
    expect(cleanUserAgent('   ')).toBeNull();
  });

  it('never keeps anything shaped like a key', () => {
    const secret = generateSecret();
    const cases = [
      `my-tool/1.0 key=${secret}`,
      `my-tool/1.0 (${secret.slice(0, 12)})`,
      'agent/2 sk-proj-abcdefghijklmnop',
      'agent/2 Bearer abc.def.ghi',
      `agent/2 ${'A1b2C3d4'.repeat(5)}`,
    ];
    for (const ua of cases) {
      const cleaned = cleanUserAgent(ua)!;
      expect(cleaned).toContain('[redacted]');
      expect(cleaned).not.toMatch(/og_|sk-proj|abc\.def|A1b2C3d4A1b2/);
    }
    expect(cleanUserAgent(`my-tool/1.0 key=${secret}`)).toBe('my-tool/1.0 key=[redacted]');
  });

  it('drops control characters and cuts a long header', () => {
    expect(cleanUserAgent('evil/1\r\nX-Injected: yes\u0000')).toBe('evil/1 X-Injected: yes');
    const long = cleanUserAgent(`tool/1.0 ${'word '.repeat(200)}`)!;
    expect(long.length).toBe(MAX_CLIENT_LENGTH);
    expect(long.endsWith('…')).toBe(true);
    // A secret past the cut is redacted before cutting: no part of it is left at the end.
    const secret = generateSecret();
    const straddling = cleanUserAgent(`${'ab '.repeat(64)}${secret}`)!;
    expect(straddling.length).toBe(MAX_CLIENT_LENGTH);
    expect(straddling).not.toContain(secret.slice(0, 8));
    expect(straddling).toContain('[redact');
  });

  it('joins a repeated header', () => {
    expect(cleanUserAgent(['a/1', 'b/2'])).toBe('a/1, b/2');
  });
});
