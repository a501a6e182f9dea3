import { describe, expect, it } from 'vitest';
import { inspectJsonBody, removeTopLevelMember } from './json-body.js';

const buf = (text: string): Buffer => Buffer.from(text, 'utf8');
const text = (body: Buffer): string => body.toString('utf8');

/** Removes api_key through inspectJsonBody and returns the forwarded body as text. */
function stripped(raw: string): string {
  return text(inspectJsonBody(buf(raw)).body);
}

/** What the rest of the body must parse to: the original without its api_key member. */
function withoutApiKey(raw: string): Record<string, unknown> {
  const parsed = JSON.parse(raw) as Record<string, unknown>;
  delete parsed.api_key;
  return parsed;
}

describe('inspectJsonBody: where api_key sits', () => {
  it('removes api_key when it is the first member', () => {
    const raw = '{"api_key":"og_secret","model":"llama3","stream":false}';
    const result = inspectJsonBody(buf(raw));
    expect(result.hasApiKey).toBe(true);
    expect(result.apiKey).toBe('og_secret');
    expect(text(result.body)).toBe('{"model":"llama3","stream":false}');
  });

  it('removes api_key when it is a middle member', () => {
    expect(stripped('{"model":"llama3","api_key":"og_secret","stream":true}')).toBe('{"model":"llama3","stream":true}');
  });

  it('removes api_key when it is the last member, with the comma before it', () => {
    expect(stripped('{"model":"llama3","api_key":"og_secret"}')).toBe('{"model":"llama3"}');
  });

  it('leaves an empty object when api_key is the only member', () => {
    expect(stripped('{"api_key":"og_secret"}')).toBe('{}');
    expect(stripped('{ "api_key" : "og_secret" }')).toBe('{  }');
  });

  it('removes every api_key member of a body that repeats it, and reports the last value (as JSON.parse does)', () => {
    const raw = '{"api_key":"first","model":"m","api_key":"second"}';
    const result = inspectJsonBody(buf(raw));
    expect(result.apiKey).toBe('second');
    expect(text(result.body)).toBe('{"model":"m"}');
    expect(stripped('{"api_key":"a","api_key":"b"}')).toBe('{}');
    expect(stripped('{"api_key":"a","api_key":"b","model":"m"}')).toBe('{"model":"m"}');
  });

  it('removes repeated api_key members that end the object without leaving a trailing comma', () => {
    // Two api_key members in a row at the end: the body must stay valid JSON.
    const raw = '{"model":"m","api_key":"a","api_key":"b"}';
    const body = stripped(raw);
    expect(() => JSON.parse(body)).not.toThrow();
    expect(body).toBe('{"model":"m"}');
  });

  it('recognises a key name written with escapes ("api\\u005fkey") and removes it', () => {
    const raw = '{"api\\u005fkey":"og_secret","model":"m"}';
    const result = inspectJsonBody(buf(raw));
    expect(result.hasApiKey).toBe(true);
    expect(result.apiKey).toBe('og_secret');
    expect(text(result.body)).toBe('{"model":"m"}');
  });

  it('takes any JSON type as the api_key value and removes all of it', () => {
    const cases: Array<[string, unknown]> = [
      ['{"api_key":42,"x":1}', 42],
      ['{"api_key":null,"x":1}', null],
      ['{"api_key":true,"x":1}', true],
      ['{"api_key":{"a":[1,{"b":"}"}]},"x":1}', { a: [1, { b: '}' }] }],
      ['{"api_key":["k", "]"],"x":1}', ['k', ']']],
      ['{"api_key":-1.5e3,"x":1}', -1500],
    ];
    for (const [raw, value] of cases) {
      const result = inspectJsonBody(buf(raw));
      expect(result.apiKey, raw).toEqual(value);
      expect(text(result.body), raw).toBe('{"x":1}');
    }
  });
});

describe('inspectJsonBody: everything else stays byte for byte', () => {
  it('leaves an api_key nested inside another object alone', () => {
    const raw = '{"options":{"api_key":"inner"},"api_key":"outer","model":"m"}';
    const result = inspectJsonBody(buf(raw));
    expect(result.apiKey).toBe('outer');
    expect(text(result.body)).toBe('{"options":{"api_key":"inner"},"model":"m"}');
  });

  it('does not treat a body with api_key only nested as carrying a key, and forwards the very same buffer', () => {
    const raw = buf('{"options":{"api_key":"inner"},"messages":[{"api_key":"x"}]}');
    const result = inspectJsonBody(raw);
    expect(result.hasApiKey).toBe(false);
    expect(result.apiKey).toBeUndefined();
    expect(result.body).toBe(raw);
  });

  it('does not remove members whose names only look like api_key', () => {
    const raw = '{"api_keys":1,"API_KEY":2,"apikey":3,"api_key ":4,"x_api_key":5}';
    const result = inspectJsonBody(buf(raw));
    expect(result.hasApiKey).toBe(false);
    expect(text(result.body)).toBe(raw);
  });

  it('keeps the whitespace and newlines of a pretty-printed body', () => {
    const middle = '{\n  "model": "llama3",\n  "api_key": "og_secret",\n  "messages": [ {"role": "user", "content": "hi"} ]\n}\n';
    expect(stripped(middle)).toBe('{\n  "model": "llama3",\n  "messages": [ {"role": "user", "content": "hi"} ]\n}\n');

    const first = '{\r\n\t"api_key" :\t"og_secret" ,\r\n\t"model" : "m"\r\n}';
    expect(stripped(first)).toBe('{\r\n\t"model" : "m"\r\n}');

    const last = '{\n  "model": "m",\n  "api_key": "og_secret"\n}';
    expect(stripped(last)).toBe('{\n  "model": "m"\n}');

    const padded = '  \n {"api_key":"k","stream":false}  \n';
    expect(stripped(padded)).toBe('  \n {"stream":false}  \n');
  });

  it('leaves strings that contain braces, commas, quotes or the text "api_key" untouched', () => {
    const prompt = 'a } b, "api_key": "x" { ] [ \\ \\"';
    const raw = `{"prompt":${JSON.stringify(prompt)},"api_key":"k","system":"\\\\","stop":["}",",","\\"api_key\\""]}`;
    const body = stripped(raw);
    expect(body).toBe(`{"prompt":${JSON.stringify(prompt)},"system":"\\\\","stop":["}",",","\\"api_key\\""]}`);
    expect(JSON.parse(body)).toEqual(withoutApiKey(raw));
  });

  it('keeps unicode text byte for byte (multi-byte UTF-8, emoji, U+2028, escapes)', () => {
    const raw = '{"prompt":"你好，世界 🦙 \u2028 \\u00e9 ü","api_key":"og_secret","model":"qwen2:7b","键":"值"}';
    const expected = '{"prompt":"你好，世界 🦙 \u2028 \\u00e9 ü","model":"qwen2:7b","键":"值"}';
    const result = inspectJsonBody(buf(raw));
    expect(result.body.equals(buf(expected))).toBe(true);
    expect(JSON.parse(text(result.body))).toEqual(withoutApiKey(raw));
  });

  it('keeps bytes that are not valid UTF-8 exactly as sent', () => {
    // 0xff never occurs in UTF-8; the gate must not "repair" what it does not own.
    const raw = Buffer.concat([buf('{"prompt":"'), Buffer.from([0xff, 0xfe]), buf('","api_key":"k"}')]);
    const result = inspectJsonBody(raw);
    expect(result.hasApiKey).toBe(true);
    expect(result.body.equals(Buffer.concat([buf('{"prompt":"'), Buffer.from([0xff, 0xfe]), buf('"}')]))).toBe(true);
  });
});

describe('inspectJsonBody: bodies that are not JSON objects pass through', () => {
  const cases: Array<[string, Buffer]> = [
    ['an array', buf('[{"api_key":"og_secret"}]')],
    ['a number', buf('42')],
    ['a string', buf('"api_key"')],
    ['null', buf('null')],
    ['invalid JSON', buf('{"api_key":"og_secret"')],
    ['an object followed by garbage', buf('{"api_key":"og_secret"} trailing')],
    ['form data', buf('api_key=og_secret&model=m')],
    ['an empty body', Buffer.alloc(0)],
    ['binary data', Buffer.from([0x7b, 0x00, 0xff, 0x7d])],
  ];
  for (const [name, raw] of cases) {
    it(`passes ${name} through unchanged with hasApiKey false`, () => {
      const result = inspectJsonBody(raw);
      expect(result.hasApiKey).toBe(false);
      expect(result.apiKey).toBeUndefined();
      expect(result.model).toBeUndefined();
      expect(result.body).toBe(raw);
    });
  }
});

describe('inspectJsonBody: model', () => {
  it('reads "model"', () => {
    expect(inspectJsonBody(buf('{"model":"llama3.2:1b","prompt":"hi"}')).model).toBe('llama3.2:1b');
  });

  it('falls back to "name" (as /api/show, /api/pull and /api/delete send it)', () => {
    expect(inspectJsonBody(buf('{"name":"llama3"}')).model).toBe('llama3');
  });

  it('prefers "model" over "name", and ignores values that are not strings', () => {
    expect(inspectJsonBody(buf('{"name":"n","model":"m"}')).model).toBe('m');
    expect(inspectJsonBody(buf('{"model":42,"name":"n"}')).model).toBe('n');
    expect(inspectJsonBody(buf('{"model":{"x":1}}')).model).toBeUndefined();
    expect(inspectJsonBody(buf('{"prompt":"hi"}')).model).toBeUndefined();
  });

  it('reads the model whether or not the body carries api_key, and not from nested objects', () => {
    expect(inspectJsonBody(buf('{"api_key":"k","model":"m"}')).model).toBe('m');
    expect(inspectJsonBody(buf('{"options":{"model":"inner"}}')).model).toBeUndefined();
  });
});

describe('inspectJsonBody: the model as Ollama reads it', () => {
  // Go's encoding/json (gin's ShouldBindJSON) matches keys to fields in any case, the last one
  // winning: a key allowed only "llama3*" must not get qwen through a second, upper-case "MODEL".
  it('takes the last "model" in any case, in the order written', () => {
    for (const exactModel of [true, false]) {
      const read = (raw: string) => inspectJsonBody(buf(raw), { exactModel }).model;
      expect(read('{"model":"llama3.2","MODEL":"qwen2.5:7b"}')).toBe('qwen2.5:7b');
      expect(read('{"model":"a","MODEL":"b","model":"c"}')).toBe('c');
      expect(read('{"Model":"x","prompt":"hi"}')).toBe('x');
      expect(read('{"model":"a","mOdEl":7}')).toBeUndefined();
      expect(read('{"NAME":"n"}')).toBe('n');
      expect(read('{"model":"qwen2.5:7b","model":null}')).toBe('qwen2.5:7b');
      expect(read('{"models":"no","model_name":"no"}')).toBeUndefined();
    }
    expect(inspectJsonBody(buf('{"model":"a","mod\\u0045l":"b"}')).model).toBe('b');
    expect(inspectJsonBody(buf('{"model":"a","MODEL":"b","api_key":"k"}')).model).toBe('b');
  });

  it("agrees with Go's reading on random bodies (seed 11, 3000 cases)", () => {
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const names = ['model', 'MODEL', 'Model', 'mOdEl', 'name', 'NAME', 'Name', 'models', 'modell', 'prompt', 'api_key'];
    const values: unknown[] = ['llama3', 'qwen2.5:7b', 'a "quoted" \\ name', 'é', 42, null, true, { model: 'inner' }, ['model']];
    for (let i = 0; i < 3_000; i++) {
      const members: Array<[string, unknown]> = [];
      for (let n = Math.floor(random() * 6); n > 0; n--) members.push([pick(names), pick(values)]);
      const raw = `{${members.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
      // Go: every member whose key folds to a field sets that field; the last one stays.
      let model: unknown;
      let name: unknown;
      for (const [k, v] of members) {
        if (v === null) continue; // null leaves a Go string field as it was
        if (k.toLowerCase() === 'model') model = v;
        if (k.toLowerCase() === 'name') name = v;
      }
      const expected = typeof model === 'string' ? model : typeof name === 'string' ? name : undefined;
      expect(inspectJsonBody(buf(raw)).model, raw).toBe(expected);
      expect(inspectJsonBody(buf(raw), { exactModel: false }).model, raw).toBe(expected);
    }
  });
});

describe('inspectJsonBody: a model only logged (exactModel: false)', () => {
  const logOnly = (raw: string) => inspectJsonBody(buf(raw), { exactModel: false });

  it('reads the model without parsing a body that cannot hold api_key, and forwards the very same buffer', () => {
    const raw = buf('{"model":"llama3.2:1b","messages":[{"role":"user","content":"say \\"model\\": x"}],"stream":false}');
    const result = inspectJsonBody(raw, { exactModel: false });
    expect(result).toEqual({ body: raw, hasApiKey: false, model: 'llama3.2:1b', shape: 'object' });
    expect(result.body).toBe(raw);
  });

  it('reads models as JSON.parse would: the last one, not nested ones, "name" as the fallback, escapes decoded', () => {
    expect(logOnly('{"model":"a","x":{"model":"nested"},"model":"b"}').model).toBe('b');
    expect(logOnly('{"options":{"model":"inner"}}').model).toBeUndefined();
    expect(logOnly('{"name":"n"}').model).toBe('n');
    expect(logOnly('{"model":"m","name":"n"}').model).toBe('m');
    expect(logOnly('{"model":"m","model":7,"name":"n"}').model).toBe('n');
    expect(logOnly('{"model":"a\\"b\\\\"}').model).toBe('a"b\\');
    expect(logOnly('{ }').model).toBeUndefined();
  });

  it('still finds and removes api_key, plain or escaped, by parsing such a body', () => {
    expect(logOnly('{"model":"m","api_key":"og_x"}')).toMatchObject({ hasApiKey: true, apiKey: 'og_x', model: 'm' });
    expect(text(logOnly('{"model":"m","api_key":"og_x"}').body)).toBe('{"model":"m"}');
    expect(logOnly('{"api\\u005fkey":"og_y","model":"m"}')).toMatchObject({ hasApiKey: true, apiKey: 'og_y' });
  });

  it('agrees with the exact reading on random bodies (seed 99, 3000 cases)', () => {
    const g = new Gen(seededRandom(99));
    let scanned = 0;
    for (let i = 0; i < 3000; i++) {
      const { raw } = randomBody(g);
      const where = `case ${i}: ${JSON.stringify(raw)}`;
      const exact = inspectJsonBody(buf(raw));
      const fast = inspectJsonBody(buf(raw), { exactModel: false });
      expect({ ...fast, body: text(fast.body) }, where).toEqual({ ...exact, body: text(exact.body) });
      if (!raw.includes('api_key') && !raw.includes('\\u')) scanned++;
    }
    expect(scanned).toBeGreaterThan(300);
  });
});

describe('removeTopLevelMember', () => {
  it('removes any named member, not only api_key', () => {
    expect(text(removeTopLevelMember(buf('{"a":1,"model":"m","b":[2]}'), 'model'))).toBe('{"a":1,"b":[2]}');
  });

  it('returns the same buffer when the member is absent', () => {
    const raw = buf('{"a":{"model":"nested"}}');
    expect(removeTopLevelMember(raw, 'model')).toBe(raw);
  });
});

// ---------------------------------------------------------------------------------------------
// Property-style check: random JSON objects, written with random whitespace, with api_key members
// in random places (sometimes repeated, sometimes with an escaped name). No new dependencies: a
// small seeded generator makes every failure reproducible from the seed and case number.

/** mulberry32: a tiny, well-known seeded PRNG. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(private readonly random: () => number) {}
  int(max: number): number {
    return Math.floor(this.random() * max);
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

const WHITESPACE = ['', '', '', ' ', '\n', '\t', '\r\n', '  ', '\n    '];
const STRING_PIECES = [
  'a',
  'Z',
  '0',
  ' ',
  '}',
  '{',
  ',',
  ':',
  '"',
  '\\',
  '[',
  ']',
  '/',
  '\n',
  '\t',
  'é',
  '你好',
  '🦙',
  '\u2028',
  'api_key',
  '"api_key":"x"',
  '\u0000',
];
const MEMBER_NAMES = ['model', 'prompt', 'stream', 'options', 'messages', 'name', 'api_keys', 'API_KEY', 'apikey', 'ключ', '键', ''];
const NUMBERS = ['0', '-0', '42', '-17', '3.25', '1e-7', '-2.5E+10', '123456789012'];

function ws(g: Gen): string {
  return g.pick(WHITESPACE);
}

function jsonString(g: Gen): string {
  let value = '';
  for (let n = g.int(6); n > 0; n--) value += g.pick(STRING_PIECES);
  let encoded = JSON.stringify(value);
  // Sometimes write a character as a \u escape, which JSON allows anywhere in a string.
  if (g.chance(0.2)) encoded = encoded.replace(/a/g, '\\u0061');
  return encoded;
}

function jsonValue(g: Gen, depth: number): string {
  const kind = g.int(depth > 2 ? 4 : 6);
  switch (kind) {
    case 0:
      return jsonString(g);
    case 1:
      return g.pick(NUMBERS);
    case 2:
      return g.pick(['true', 'false', 'null']);
    case 3:
      return jsonString(g);
    case 4: {
      const items = Array.from({ length: g.int(4) }, () => ws(g) + jsonValue(g, depth + 1) + ws(g));
      return items.length ? `[${items.join(',')}]` : `[${ws(g)}]`;
    }
    default: {
      const members = Array.from({ length: g.int(4) }, () => {
        const name = g.chance(0.3) ? 'api_key' : g.pick(MEMBER_NAMES);
        return `${ws(g)}${JSON.stringify(name)}${ws(g)}:${ws(g)}${jsonValue(g, depth + 1)}${ws(g)}`;
      });
      return members.length ? `{${members.join(',')}}` : `{${ws(g)}}`;
    }
  }
}

interface GeneratedBody {
  raw: string;
  /** the top-level members other than api_key, exactly as written (name, colon and value) */
  keptMembers: string[];
}

function randomBody(g: Gen): GeneratedBody {
  const members: Array<{ text: string; isApiKey: boolean }> = [];
  for (let n = g.int(6); n > 0; n--) {
    const name = g.pick(MEMBER_NAMES);
    members.push({ text: `${JSON.stringify(name)}${ws(g)}:${ws(g)}${jsonValue(g, 1)}`, isApiKey: false });
  }
  // Zero to three api_key members anywhere, sometimes with an escaped name.
  for (let n = g.int(4); n > 0; n--) {
    const name = g.chance(0.2) ? '"api\\u005fkey"' : '"api_key"';
    const value = g.chance(0.8) ? JSON.stringify(`og_${g.int(1e9).toString(36)}`) : jsonValue(g, 1);
    members.splice(g.int(members.length + 1), 0, { text: `${name}${ws(g)}:${ws(g)}${value}`, isApiKey: true });
  }
  const inner = members.map((m) => ws(g) + m.text + ws(g)).join(',');
  const raw = `${ws(g)}{${inner || ws(g)}}${ws(g)}`;
  return { raw, keptMembers: members.filter((m) => !m.isApiKey).map((m) => m.text) };
}

/** Whether `small` can be made from `large` by deleting bytes only. */
function isByteSubsequence(small: Buffer, large: Buffer): boolean {
  let j = 0;
  for (let i = 0; i < large.length && j < small.length; i++) if (large[i] === small[j]) j++;
  return j === small.length;
}

describe('inspectJsonBody: property check over random bodies', () => {
  const SEED = 20240607;
  const CASES = 2000;

  it(`removing api_key always leaves valid JSON equal to the original minus api_key (seed ${SEED}, ${CASES} cases)`, () => {
    const g = new Gen(seededRandom(SEED));
    let withKey = 0;
    for (let i = 0; i < CASES; i++) {
      const { raw, keptMembers } = randomBody(g);
      const where = `case ${i} of seed ${SEED}: ${JSON.stringify(raw)}`;
      const input = buf(raw);
      const original = JSON.parse(raw) as Record<string, unknown>;
      const hadKey = Object.hasOwn(original, 'api_key');
      const expected = withoutApiKey(raw);

      const result = inspectJsonBody(input);
      expect(result.hasApiKey, where).toBe(hadKey);
      if (!hadKey) {
        expect(result.body, where).toBe(input);
        continue;
      }
      withKey++;
      expect(result.apiKey, where).toEqual(original.api_key);

      const output = text(result.body);
      let reparsed: Record<string, unknown>;
      try {
        reparsed = JSON.parse(output) as Record<string, unknown>;
      } catch (error) {
        throw new Error(`the body is no longer valid JSON (${String(error)}) for ${where}; got ${JSON.stringify(output)}`);
      }
      expect(reparsed, where).toEqual(expected);
      expect(Object.keys(reparsed), where).toEqual(Object.keys(expected));
      expect(Object.hasOwn(reparsed, 'api_key'), where).toBe(false);

      // The rest is the original's bytes: only deletions, and every other member verbatim, in order.
      expect(isByteSubsequence(result.body, input), where).toBe(true);
      let from = 0;
      for (const member of keptMembers) {
        const at = output.indexOf(member, from);
        expect(at, `${where}: member ${JSON.stringify(member)} not found verbatim`).toBeGreaterThanOrEqual(0);
        from = at + member.length;
      }
    }
    // The generator must actually exercise removal, not just pass-through.
    expect(withKey).toBeGreaterThan(CASES / 3);
  });

  it('round-trips objects written by JSON.stringify with any indentation', () => {
    const g = new Gen(seededRandom(7));
    for (let i = 0; i < 300; i++) {
      const object: Record<string, unknown> = {};
      for (let n = g.int(6); n > 0; n--) object[g.pick(MEMBER_NAMES)] = JSON.parse(jsonValue(g, 1));
      const position = g.int(Object.keys(object).length + 1);
      const entries = Object.entries(object);
      entries.splice(position, 0, ['api_key', `og_${i}`]);
      const raw = JSON.stringify(Object.fromEntries(entries), null, g.pick([0, 1, 2, 4, '\t']));
      const result = inspectJsonBody(buf(raw));
      expect(result.hasApiKey, raw).toBe(true);
      // Compare with what JSON itself makes of the object (-0 is written as 0).
      expect(JSON.parse(text(result.body)), raw).toEqual(JSON.parse(JSON.stringify(object)));
    }
  });
});
