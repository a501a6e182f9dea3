import { describe, expect, it } from 'vitest';
import { parseSeedKeys, parseSeedUpstream } from './seed-import.js';

describe("parseSeedKeys: the seed proxy's config.py", () => {
  it("reads the seed's own shape", () => {
    const config = [
      '# Ollama API 代理配置',
      'OLLAMA_BASE_URL = "http://localhost:11434"',
      'VALID_API_KEYS = {"sk-alice-123": "alice", "sk-bob-456": "bob"}',
      'SESSION_TIMEOUT = 3600',
    ].join('\n');
    expect(parseSeedKeys(config)).toEqual([
      { secret: 'sk-alice-123', user: 'alice' },
      { secret: 'sk-bob-456', user: 'bob' },
    ]);
  });

  it('skips comments, takes single and double quotes, and a trailing comma', () => {
    const config = `
# API keys and who they belong to
VALID_API_KEYS = {
    "sk-alice-123": "alice",   # Alice's laptop
    'sk-bob-456': 'bob',
    # "sk-retired-789": "carol",
    "sk-dave-000": 'dave',
}

PORT = 8000
`;
    expect(parseSeedKeys(config)).toEqual([
      { secret: 'sk-alice-123', user: 'alice' },
      { secret: 'sk-bob-456', user: 'bob' },
      { secret: 'sk-dave-000', user: 'dave' },
    ]);
  });

  it('accepts a type annotation: VALID_API_KEYS: dict = {', () => {
    expect(parseSeedKeys('VALID_API_KEYS: dict = {\n  "k1": "u1",\n}\n')).toEqual([{ secret: 'k1', user: 'u1' }]);
    expect(parseSeedKeys('VALID_API_KEYS: Dict[str, str] = {"k1": "u1"}')).toEqual([{ secret: 'k1', user: 'u1' }]);
  });

  it('keeps keys and users with characters Python allows in strings', () => {
    expect(parseSeedKeys(`VALID_API_KEYS = {"key-with'quote": 'user with "quotes"', "密钥": "张三"}`)).toEqual([
      { secret: "key-with'quote", user: 'user with "quotes"' },
      { secret: '密钥', user: '张三' },
    ]);
  });

  it('does not treat a # inside a quoted string as a comment', () => {
    expect(parseSeedKeys('VALID_API_KEYS = {\n    "sk-team-1": "team #1",\n    "sk-x": "x",\n}')).toEqual([
      { secret: 'sk-team-1', user: 'team #1' },
      { secret: 'sk-x', user: 'x' },
    ]);
  });

  it('does not stop at a } inside a comment or a string within the dict', () => {
    const config = `VALID_API_KEYS = {
    # format: {"key": "user"}
    "sk-alice": "alice",
    "sk-bob": "bob}",
    "sk-carol": "carol",
}`;
    expect(parseSeedKeys(config)).toEqual([
      { secret: 'sk-alice', user: 'alice' },
      { secret: 'sk-bob', user: 'bob}' },
      { secret: 'sk-carol', user: 'carol' },
    ]);
  });

  it('reads an empty dict as no keys', () => {
    expect(parseSeedKeys('VALID_API_KEYS = {}')).toEqual([]);
  });
});

describe('parseSeedKeys: JSON', () => {
  it('reads a plain object of key to user', () => {
    expect(parseSeedKeys('{"sk-1": "alice", "sk-2": "bob"}')).toEqual([
      { secret: 'sk-1', user: 'alice' },
      { secret: 'sk-2', user: 'bob' },
    ]);
  });

  it('reads an object wrapped in VALID_API_KEYS', () => {
    expect(parseSeedKeys('  {"VALID_API_KEYS": {"sk-1": "alice"}}\n')).toEqual([{ secret: 'sk-1', user: 'alice' }]);
  });

  it('reads an array of {key, user}', () => {
    expect(parseSeedKeys('[{"key": "sk-1", "user": "alice"}, {"user": "bob", "key": "sk-2", "note": "x"}]')).toEqual([
      { secret: 'sk-1', user: 'alice' },
      { secret: 'sk-2', user: 'bob' },
    ]);
  });

  it('says which array entry is wrong', () => {
    expect(() => parseSeedKeys('[{"key": "sk-1", "user": "alice"}, {"key": "sk-2"}]')).toThrow(/entry 2.*"key" and "user"/);
    expect(() => parseSeedKeys('[42]')).toThrow(/entry 1/);
  });

  it('refuses a user that is not a string without printing the whole key', () => {
    let message = '';
    try {
      parseSeedKeys('{"sk-secret-value": 42}');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/must be a string/);
    expect(message).not.toContain('sk-secret-value');
  });
});

describe('parseSeedKeys: anything else', () => {
  it.each([
    ['plain text', 'hello world'],
    ['an empty file', ''],
    ['a number', '42'],
    ['broken JSON', '{"sk-1": "alice"'],
    ['Python without the dict', 'OLLAMA_BASE_URL = "http://localhost:11434"\n'],
    ['a dict built another way', 'VALID_API_KEYS = dict(alice="sk-1")'],
  ])('refuses %s with a clear message', (_name, text) => {
    expect(() => parseSeedKeys(text)).toThrow(/VALID_API_KEYS/);
  });

  it('says when the dict is never closed', () => {
    expect(() => parseSeedKeys('VALID_API_KEYS = {\n  "sk-1": "alice",\n')).toThrow(/never closed/);
  });
});

describe('parseSeedUpstream: where the seed proxy forwarded to', () => {
  it.each([
    ['a plain assignment', 'OLLAMA_API_BASE_URL = "http://10.0.0.5:11434"\n', 'http://10.0.0.5:11434'],
    ['a typed assignment with a trailing slash', "OLLAMA_API_BASE_URL: str = 'http://gpu-box:11434/'  # the GPU\n", 'http://gpu-box:11434'],
    ['getenv with a default', 'import os\nOLLAMA_API_BASE_URL = os.getenv("OLLAMA_API_BASE_URL", "http://127.0.0.1:11434")\n', 'http://127.0.0.1:11434'],
    ['the older name', 'OLLAMA_URL = "http://localhost:11434"\n', 'http://localhost:11434'],
    ['JSON beside the keys', '{"OLLAMA_API_BASE_URL": "https://ollama.lan", "VALID_API_KEYS": {"sk-1": "alice"}}', 'https://ollama.lan'],
  ])('reads %s', (_name, text, url) => {
    expect(parseSeedUpstream(text)).toBe(url);
  });

  it.each([
    ['no such line', 'VALID_API_KEYS = {"sk-1": "alice"}\n'],
    ['getenv without a default', 'OLLAMA_API_BASE_URL = os.getenv("OLLAMA_API_BASE_URL")\n'],
    ['something not a URL', 'OLLAMA_API_BASE_URL = "localhost:11434"\n'],
    ['a commented-out URL', 'OLLAMA_API_BASE_URL = None  # "http://old:11434"\n'],
  ])('is null for %s', (_name, text) => {
    expect(parseSeedUpstream(text)).toBeNull();
  });

  it('is not taken for a key in a plain JSON mapping', () => {
    expect(parseSeedKeys('{"OLLAMA_API_BASE_URL": "http://10.0.0.5:11434", "sk-1": "alice"}')).toEqual([{ secret: 'sk-1', user: 'alice' }]);
  });
});
