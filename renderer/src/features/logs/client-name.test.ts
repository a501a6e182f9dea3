import { describe, expect, it } from 'vitest';
import { shortClientName } from './client-name.js';

describe('shortClientName', () => {
  it.each([
    ['ollama-js/0.6.3 (x64 linux Node.js/v20.19.0)', 'ollama-js 0.6'],
    ['OpenAI/JS 6.49.0', 'OpenAI/JS 6.49'],
    ['OpenAI/Python 1.30.1', 'OpenAI/Python 1.30'],
    ['python-requests/2.31.0', 'python-requests 2.31'],
    ['python-httpx/0.27.0', 'python-httpx 0.27'],
    ['curl/8.5.0', 'curl 8.5'],
    ['ollama/0.5.7 (amd64 linux) Go/go1.23.4', 'ollama 0.5'],
    ['Go-http-client/1.1', 'Go-http-client 1.1'],
    ['node', 'node'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', 'Chrome 120'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91', 'Edge 120'],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0', 'Firefox 121'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15', 'Safari 17.1'],
    ['Mozilla/5.0 (compatible; SomeBot)', 'Mozilla 5.0'],
    ['my-tool/1.0 key=[redacted]', 'my-tool 1.0'],
  ])('%s → %s', (ua, short) => {
    expect(shortClientName(ua)).toBe(short);
  });

  it('says nothing without a User-Agent, and cuts a made-up long one', () => {
    expect(shortClientName(null)).toBeNull();
    expect(shortClientName('  ')).toBeNull();
    const long = shortClientName(`${'x'.repeat(80)}/1.0`)!;
    expect(long).toBe(`${'x'.repeat(31)}… 1.0`);
  });
});
