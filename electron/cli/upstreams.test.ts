import { describe, expect, it } from 'vitest';
import { UsageError } from './command-line.js';
import { forwardingTo, hostName, parseUpstreams, splitUpstreamList } from './upstreams.js';

const backend = (name: string, url: string) => ({ name, url, enabled: true, weight: 1 });

/** The UsageError parseUpstreams throws, as its one line. */
function refusal(values: string[], by = '--upstream'): string {
  try {
    parseUpstreams(values, by);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`${values.join(' ')} was accepted`);
}

describe('parseUpstreams', () => {
  it('takes one URL as the default alone, and nothing from blank values', () => {
    expect(parseUpstreams(['http://127.0.0.1:11434'], '--upstream')).toEqual({ upstream: 'http://127.0.0.1:11434', backends: [] });
    expect(parseUpstreams([' https://ollama.example:443 '], '--upstream')).toEqual({ upstream: 'https://ollama.example:443', backends: [] });
    expect(parseUpstreams([], '--upstream')).toBeUndefined();
    expect(parseUpstreams(['', '  '], 'OLLAMA_GATE_UPSTREAM')).toBeUndefined();
  });

  it('makes each further URL an enabled backend of weight 1, named as given or after its host', () => {
    expect(parseUpstreams(['http://127.0.0.1:11434', 'big=http://10.0.0.7:11434', 'http://gpu-box.lan:11434', 'http://10.0.0.8'], '--upstream')).toEqual({
      upstream: 'http://127.0.0.1:11434',
      backends: [backend('big', 'http://10.0.0.7:11434'), backend('gpu-box.lan', 'http://gpu-box.lan:11434'), backend('10.0.0.8', 'http://10.0.0.8')],
    });
  });

  it('adds -2, -3 to a host name already taken, by another host or a name given (ignoring case), and steps around reserved names', () => {
    const { backends } = parseUpstreams(
      ['http://127.0.0.1:11434', 'http://box:1', 'http://BOX:2', 'http://box:3', 'http://ollama:1', 'OLLAMA=http://x:1', 'http://default:1', 'http://all:1'],
      '--upstream',
    )!;
    expect(backends.map((b) => b.name)).toEqual(['box', 'box-2', 'box-3', 'ollama-2', 'OLLAMA', 'default-2', 'all-2']);
    // The default's host is no backend's name: the default goes by "default".
    expect(parseUpstreams(['http://127.0.0.1:11434', 'http://127.0.0.1:11435', 'http://127.0.0.1:11436'], '--upstream')!.backends).toEqual([
      backend('127.0.0.1', 'http://127.0.0.1:11435'),
      backend('127.0.0.1-2', 'http://127.0.0.1:11436'),
    ]);
  });

  it('makes a valid name of any host: IPv6, long names', () => {
    expect(hostName('http://[::1]:11434')).toBe('1');
    expect(hostName('http://[fe80::1]:11434')).toBe('fe80-1');
    const long = `${'a'.repeat(60)}.lan`;
    expect(hostName(`http://${long}:11434`)).toBe('a'.repeat(40));
    const { backends } = parseUpstreams(['http://127.0.0.1:11434', `http://${long}:1`, `http://${long}:2`], '--upstream')!;
    expect(backends.map((b) => b.name)).toEqual(['a'.repeat(40), `${'a'.repeat(38)}-2`]);
  });

  it('reads a URL with "=" in its query as a URL, not a name', () => {
    expect(parseUpstreams(['http://a:1', 'http://b:1/?x=y'], '--upstream')!.backends).toEqual([backend('b', 'http://b:1/?x=y')]);
  });

  it('splits OLLAMA_GATE_UPSTREAM at commas', () => {
    expect(splitUpstreamList('http://a:1,big=http://b:1, http://c:1')).toEqual(['http://a:1', 'big=http://b:1', ' http://c:1']);
    expect(parseUpstreams(splitUpstreamList('http://a:1,big=http://b:1,'), 'OLLAMA_GATE_UPSTREAM')).toEqual({
      upstream: 'http://a:1',
      backends: [backend('big', 'http://b:1')],
    });
  });

  it('refuses a name on the default, a bad URL, a bad or reserved name, a name twice, and too many, each in one line naming the value', () => {
    expect(refusal(['big=http://a:1'])).toMatch(/^--upstream: the first Ollama is the default and takes no name \("big="\)/);
    expect(refusal(['big=http://a:1'], 'OLLAMA_GATE_UPSTREAM')).toBe(
      'OLLAMA_GATE_UPSTREAM: the first Ollama is the default and takes no name ("big="); name only the ones after it, as in OLLAMA_GATE_UPSTREAM=http://127.0.0.1:11434,big=http://10.0.0.7:11434',
    );
    expect(refusal(['ftp://a'])).toBe('--upstream must be an http(s) URL such as http://127.0.0.1:11434, not "ftp://a"');
    expect(refusal(['http://a:1', 'gpu-box:11434'])).toBe('--upstream must be an http(s) URL such as http://127.0.0.1:11434, not "gpu-box:11434"');
    expect(refusal(['http://a:1', 'big=10.0.0.7:11434'], 'OLLAMA_GATE_UPSTREAM')).toBe(
      'OLLAMA_GATE_UPSTREAM "big=10.0.0.7:11434": the URL after "big=" must be an http(s) URL such as http://127.0.0.1:11434, not "10.0.0.7:11434"',
    );
    expect(refusal(['http://a:1', 'big box=http://b:1'])).toBe(
      '--upstream "big box=http://b:1": "big box" is not a backend name: a name of letters, digits, ".", "_" or "-", up to 40 characters',
    );
    expect(refusal(['http://a:1', '=http://b:1'])).toMatch(/^--upstream "=http:\/\/b:1": "" is not a backend name/);
    expect(refusal(['http://a:1', 'Default=http://b:1'])).toBe(
      '--upstream "Default=http://b:1": "Default" is not a backend name: "default" and "all" are taken',
    );
    expect(refusal(['http://a:1', 'all=http://b:1'])).toMatch(/"all" is not a backend name/);
    expect(refusal(['http://a:1', 'big=http://b:1', 'big=http://c:1'])).toBe('--upstream names two Ollamas "big" twice: each needs a name of its own');
    expect(refusal(['http://a:1', 'big=http://b:1', 'BIG=http://c:1'])).toBe(
      '--upstream names two Ollamas "big" and "BIG" (case does not count): each needs a name of its own',
    );
    const many = ['http://a:1', ...Array.from({ length: 17 }, (_, i) => `http://b:${i + 1}`)];
    expect(refusal(many)).toBe('--upstream gives 17 Ollamas besides the default: at most 16 backends');
    expect(parseUpstreams(many.slice(0, 17), '--upstream')!.backends).toHaveLength(16);
    for (const message of [refusal(['big=http://a:1']), refusal(['http://a:1', 'x y=http://b'])]) expect(message).not.toContain('\n');
  });
});

describe('forwardingTo', () => {
  it("is the default's URL alone without enabled backends, else the default and each enabled backend by name", () => {
    expect(forwardingTo({ upstream: 'http://127.0.0.1:11434', backends: [] })).toBe('http://127.0.0.1:11434');
    expect(forwardingTo({ upstream: 'http://127.0.0.1:11434', backends: [{ ...backend('off', 'http://x:1'), enabled: false }] })).toBe(
      'http://127.0.0.1:11434',
    );
    expect(
      forwardingTo({
        upstream: 'http://127.0.0.1:11434',
        backends: [
          backend('big', 'http://10.0.0.7:11434'),
          { ...backend('off', 'http://x:1'), enabled: false },
          backend('gpu-box.lan', 'http://gpu-box.lan:11434'),
        ],
      }),
    ).toBe('http://127.0.0.1:11434 (default), big http://10.0.0.7:11434, gpu-box.lan http://gpu-box.lan:11434');
  });
});
