import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../test/support/fake-ollama.js';
import { type TokenCounts, type TokenReading, TokenTap } from './token-tap.js';

/** Feeds the bytes to a fresh tap, cut at the given offsets, and returns its counts. */
function countsOf(bytes: Buffer, cuts: number[] = []): TokenCounts {
  const { promptTokens, completionTokens } = readingOf(bytes, cuts);
  return { promptTokens, completionTokens };
}

/** Feeds the bytes to a fresh tap, cut at the given offsets, and returns all it read. */
function readingOf(bytes: Buffer, cuts: number[] = []): TokenReading {
  const tap = new TokenTap();
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    if (cut <= start || cut >= bytes.length) continue;
    tap.observe(bytes.subarray(start, cut));
    start = cut;
  }
  tap.observe(bytes.subarray(start));
  return tap.counts();
}

/** Feeds the bytes in pieces of `size`. */
function countsInPieces(bytes: Buffer, size: number): TokenCounts {
  const { promptTokens, completionTokens } = readingInPieces(bytes, size);
  return { promptTokens, completionTokens };
}

function readingInPieces(bytes: Buffer, size: number): TokenReading {
  const tap = new TokenTap();
  for (let i = 0; i < bytes.length; i += size) tap.observe(bytes.subarray(i, i + size));
  return tap.counts();
}

const ndjson = (...objects: unknown[]) => Buffer.from(objects.map((o) => JSON.stringify(o) + '\n').join(''));
const sse = (...frames: Array<unknown | '[DONE]'>) => Buffer.from(frames.map((f) => `data: ${f === '[DONE]' ? f : JSON.stringify(f)}\n\n`).join(''));

const chatChunk = (content: string) => ({
  model: 'llama3.2',
  created_at: '2026-11-27T12:00:00.123456789Z',
  message: { role: 'assistant', content },
  done: false,
});
const chatDone = (prompt: number, completion: number) => ({
  model: 'llama3.2',
  created_at: '2026-11-27T12:00:01.123456789Z',
  message: { role: 'assistant', content: '' },
  done_reason: 'stop',
  done: true,
  total_duration: 4_935_212_125,
  load_duration: 1_334_875,
  prompt_eval_count: prompt,
  prompt_eval_duration: 32_500_000,
  eval_count: completion,
  eval_duration: 4_470_000_000,
});

describe('TokenTap: Ollama NDJSON', () => {
  const stream = ndjson(chatChunk('The'), chatChunk(' sky'), chatChunk(' is'), chatChunk(' blue.'), chatDone(1234, 56789));
  const text = stream.toString('latin1');

  it('reads prompt_eval_count and eval_count from the final chunk', () => {
    expect(countsOf(stream)).toEqual({ promptTokens: 1234, completionTokens: 56789 });
  });

  it('reads them however the stream is cut in two, inside key names and numbers included', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      expect(countsOf(stream, [cut]), `cut at ${cut}: …${text.slice(Math.max(0, cut - 15), cut)}|${text.slice(cut, cut + 15)}…`).toEqual({
        promptTokens: 1234,
        completionTokens: 56789,
      });
    }
  });

  it('reads them when cut inside the names and the digits at several places at once', () => {
    const promptKey = text.indexOf('"prompt_eval_count"');
    const evalKey = text.indexOf('"eval_count"');
    const cuts = [promptKey + 3, promptKey + 10, text.indexOf('1234') + 2, evalKey + 1, evalKey + 6, text.indexOf('56789') + 1, text.indexOf('56789') + 4];
    expect(countsOf(stream, cuts)).toEqual({ promptTokens: 1234, completionTokens: 56789 });
  });

  it('reads them from one byte at a time and from odd piece sizes', () => {
    for (const size of [1, 2, 3, 7, 13, 64, 1000]) {
      expect(countsInPieces(stream, size), `pieces of ${size}`).toEqual({ promptTokens: 1234, completionTokens: 56789 });
    }
  });

  it('reads them from a long stream, far past the bytes it keeps', () => {
    const pieces = Array.from({ length: 5_000 }, (_, i) => chatChunk(` word${i}`));
    const long = ndjson(...pieces, chatDone(42, 5_000));
    expect(long.length).toBeGreaterThan(100_000);
    expect(countsInPieces(long, 97)).toEqual({ promptTokens: 42, completionTokens: 5_000 });
    expect(countsOf(long)).toEqual({ promptTokens: 42, completionTokens: 5_000 });
  });

  it('reads a non-streamed JSON answer', () => {
    const body = Buffer.from(
      JSON.stringify({ ...chatDone(17, 8), message: { role: 'assistant', content: 'The sky is blue because of Rayleigh scattering.' } }),
    );
    expect(countsOf(body)).toEqual({ promptTokens: 17, completionTokens: 8 });
  });

  it('reads the counts after a huge final generate line with a long context array', () => {
    const context = Array.from({ length: 200_000 }, (_, i) => 128_000 + i);
    const final = {
      model: 'llama3.2',
      created_at: '2026-11-27T12:00:01.123456789Z',
      response: '',
      done: true,
      done_reason: 'stop',
      context,
      total_duration: 10_000_000_000,
      load_duration: 1_334_875,
      prompt_eval_count: 150_000,
      prompt_eval_duration: 187_500_000_000,
      eval_count: 50_000,
      eval_duration: 750_000_000_000,
    };
    const body = ndjson({ model: 'llama3.2', created_at: 'x', response: 'Hi', done: false }, final);
    expect(body.length).toBeGreaterThan(1_000_000);
    expect(countsOf(body)).toEqual({ promptTokens: 150_000, completionTokens: 50_000 }); // one big chunk
    expect(countsInPieces(body, 65_536)).toEqual({ promptTokens: 150_000, completionTokens: 50_000 });
    expect(countsInPieces(body, 1_000)).toEqual({ promptTokens: 150_000, completionTokens: 50_000 });
    // cut right inside the counts near the end
    const tail = body.toString('latin1').lastIndexOf('"eval_count"');
    expect(countsOf(body, [tail + 4, tail + 13])).toEqual({ promptTokens: 150_000, completionTokens: 50_000 });
  });

  it('reads /api/embed answers: prompt tokens only', () => {
    const body = Buffer.from(
      JSON.stringify({
        model: 'all-minilm',
        embeddings: [Array.from({ length: 384 }, (_, i) => i / 1000)],
        total_duration: 14_143_917,
        load_duration: 1_019_500,
        prompt_eval_count: 8,
      }),
    );
    expect(countsOf(body)).toEqual({ promptTokens: 8, completionTokens: null });
  });
});

describe('TokenTap: OpenAI-compatible /v1', () => {
  const envelope = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1_764_244_800, model: 'llama3.2', system_fingerprint: 'fp_ollama' };

  it('reads the usage frame that comes before data: [DONE]', () => {
    const body = sse(
      { ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: 'The' }, finish_reason: null }] },
      { ...envelope, choices: [{ index: 0, delta: { content: ' sky' }, finish_reason: null }] },
      { ...envelope, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { ...envelope, choices: [], usage: { prompt_tokens: 321, completion_tokens: 4321, total_tokens: 4642 } },
      '[DONE]',
    );
    expect(countsOf(body)).toEqual({ promptTokens: 321, completionTokens: 4321 });
    for (let cut = 1; cut < body.length; cut++) expect(countsOf(body, [cut])).toEqual({ promptTokens: 321, completionTokens: 4321 });
    expect(countsInPieces(body, 1)).toEqual({ promptTokens: 321, completionTokens: 4321 });
  });

  it('takes the last report on /v1/completions, where every chunk carries a zero usage', () => {
    const zero = { usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } };
    const chunk = (text: string, finish: string | null) => ({
      id: 'cmpl-1',
      object: 'text_completion',
      created: 1,
      choices: [{ text, index: 0, finish_reason: finish }],
      model: 'llama3.2',
      system_fingerprint: 'fp_ollama',
      ...zero,
    });
    const body = sse(
      chunk('The', null),
      chunk(' sky', null),
      chunk('', 'stop'),
      {
        id: 'cmpl-1',
        object: 'text_completion',
        created: 1,
        choices: [],
        model: 'llama3.2',
        system_fingerprint: 'fp_ollama',
        usage: { prompt_tokens: 13, completion_tokens: 2, total_tokens: 15 },
      },
      '[DONE]',
    );
    expect(countsOf(body)).toEqual({ promptTokens: 13, completionTokens: 2 });
    expect(countsInPieces(body, 5)).toEqual({ promptTokens: 13, completionTokens: 2 });
  });

  it('reads usage from SSE with CRLF line ends', () => {
    const body = Buffer.from(
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'x' }, finish_reason: 'stop' }] })}\r\n\r\n` +
        `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 } })}\r\n\r\n` +
        'data: [DONE]\r\n\r\n',
    );
    expect(countsOf(body)).toEqual({ promptTokens: 9, completionTokens: 1 });
  });

  it('reads a non-streamed chat completion', () => {
    const body = Buffer.from(
      JSON.stringify({
        id: 'chatcmpl-2',
        object: 'chat.completion',
        created: 1,
        model: 'llama3.2',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 11, completion_tokens: 1, total_tokens: 12 },
      }) + '\n',
    );
    expect(countsOf(body)).toEqual({ promptTokens: 11, completionTokens: 1 });
  });
});

describe('TokenTap: nothing to count', () => {
  it('gives nulls for no bytes at all', () => {
    expect(new TokenTap().counts()).toEqual({ promptTokens: null, completionTokens: null, jsonLines: 0 });
  });

  it('gives nulls for answers without counts', () => {
    expect(countsOf(Buffer.from('{"models":[{"name":"llama3.2:latest"}]}'))).toEqual({ promptTokens: null, completionTokens: null });
    expect(countsOf(Buffer.from('404 page not found'))).toEqual({ promptTokens: null, completionTokens: null });
    // a stream cut off before its final chunk
    expect(countsOf(ndjson(chatChunk('The'), chatChunk(' sky')))).toEqual({ promptTokens: null, completionTokens: null });
    // a stream that ends in an error line instead of its final chunk
    expect(countsOf(Buffer.concat([ndjson(chatChunk('The')), Buffer.from('{"error":"model runner has unexpectedly stopped"}\n')]))).toEqual({
      promptTokens: null,
      completionTokens: null,
    });
    // chat completions streamed without include_usage
    expect(countsOf(sse({ choices: [{ index: 0, delta: { content: 'x' }, finish_reason: 'stop' }] }, '[DONE]'))).toEqual({
      promptTokens: null,
      completionTokens: null,
    });
  });
});

describe('TokenTap: JSON lines, for a stream without counts', () => {
  const v1Chunk = (content: string) => ({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] });

  it('counts one per NDJSON object and per SSE data object, however the bytes are cut', () => {
    const native = ndjson(chatChunk('The'), chatChunk(' sky'), chatChunk(' is'));
    const v1 = sse(v1Chunk('The'), v1Chunk(' sky'), v1Chunk(' is'), v1Chunk(' blue'), '[DONE]');
    const crlf = Buffer.from(v1.toString().replaceAll('\n', '\r\n'));
    for (const [bytes, lines] of [
      [native, 3],
      [v1, 4],
      [crlf, 4],
    ] as const) {
      expect(readingOf(bytes).jsonLines).toBe(lines);
      // Cut anywhere but right inside a line's opening: each line counted once.
      for (const size of [1, 2, 7, 64]) expect(readingInPieces(bytes, size).jsonLines).toBeLessThanOrEqual(lines);
      const text = bytes.toString('latin1');
      for (let cut = 1; cut < bytes.length; cut++) {
        const opening = text.slice(text.lastIndexOf('\n', cut - 1) + 1, cut);
        if (opening && 'data: '.startsWith(opening)) continue;
        expect(readingOf(bytes, [cut]).jsonLines, `cut at ${cut}`).toBe(lines);
      }
    }
  });

  it('does not count what a model writes: its newlines and braces come escaped inside one line', () => {
    const sneaky = 'line one\n{"done":true}\ndata: {"x":1}\n';
    expect(readingOf(ndjson(chatChunk(sneaky))).jsonLines).toBe(1);
    expect(readingOf(sse(v1Chunk(sneaky), '[DONE]')).jsonLines).toBe(1);
  });

  it('counts no [DONE], event: or blank line, and nothing in an error page', () => {
    expect(readingOf(Buffer.from('event: ping\n\ndata: [DONE]\n\n')).jsonLines).toBe(0);
    expect(readingOf(Buffer.from('404 page not found')).jsonLines).toBe(0);
  });
});

describe('TokenTap: generated text cannot forge counts', () => {
  // What a model might write; JSON escapes its quotes, as Ollama's encoder does.
  const forged = 'I set "eval_count":999999 and "prompt_eval_count":888888, also "prompt_tokens":777 "completion_tokens":666';

  it('ignores the key names inside content (escaped quotes) when the final chunk follows', () => {
    const body = ndjson(chatChunk('a'), chatChunk(forged), chatDone(12, 3));
    expect(body.toString()).toContain('\\"eval_count\\":999999');
    expect(countsOf(body)).toEqual({ promptTokens: 12, completionTokens: 3 });
  });

  it('ignores them when the forged text is the last thing in the stream', () => {
    const body = ndjson(chatChunk('a'), chatChunk(forged));
    expect(countsOf(body)).toEqual({ promptTokens: null, completionTokens: null });
    const v1 = sse({ choices: [{ index: 0, delta: { content: forged }, finish_reason: null }] });
    expect(countsOf(v1)).toEqual({ promptTokens: null, completionTokens: null });
  });

  it('ignores them in the content of a non-streamed answer', () => {
    const body = Buffer.from(JSON.stringify({ model: 'llama3.2', message: { role: 'assistant', content: forged }, done: true }));
    expect(countsOf(body)).toEqual({ promptTokens: null, completionTokens: null });
  });

  it('takes the final chunk’s counts over tool-call arguments a model named like them', () => {
    const toolCall = {
      ...chatChunk(''),
      message: {
        role: 'assistant',
        content: '',
        tool_calls: [{ function: { name: 'stats', arguments: { prompt_eval_count: 999_999, eval_count: 999_999 } } }],
      },
    };
    expect(countsOf(ndjson(toolCall, chatDone(12, 3)))).toEqual({ promptTokens: 12, completionTokens: 3 });
  });

  it('does not take tool-call arguments for a count the final chunk left out (Ollama omits a zero prompt_eval_count)', () => {
    const toolCall = {
      ...chatChunk(''),
      message: {
        role: 'assistant',
        content: '',
        tool_calls: [{ function: { name: 'stats', arguments: { prompt_eval_count: 999_999, prompt_tokens: 999_999 } } }],
      },
    };
    const { prompt_eval_count: _omitted, ...done } = chatDone(0, 3);
    expect(countsOf(ndjson(toolCall, done))).toEqual({ promptTokens: null, completionTokens: 3 });
  });

  it('ignores a content that ends in a backslash before the key name', () => {
    // content `\` then `"eval_count":5`: JSON writes \\ and \" — still no bare quote before the name
    const body = ndjson(chatChunk('\\"eval_count":5'));
    expect(body.toString()).toContain('\\\\\\"eval_count\\":5');
    expect(countsOf(body)).toEqual({ promptTokens: null, completionTokens: null });
  });
});

describe('TokenTap: what it keeps', () => {
  /** Feeds one chunk per line (as Ollama writes them), lines ending in `\n` kept with their line. */
  function countsByLine(bytes: Buffer): { counts: ReturnType<TokenTap['counts']>; kept: number } {
    const tap = new TokenTap();
    let start = 0;
    for (let nl = bytes.indexOf(0x0a); nl !== -1; nl = bytes.indexOf(0x0a, start)) {
      tap.observe(bytes.subarray(start, nl + 1));
      start = nl + 1;
    }
    if (start < bytes.length) tap.observe(bytes.subarray(start));
    return { counts: tap.counts(), kept: (tap as unknown as { tail: Buffer[] }).tail.length };
  }

  it('keeps only the chunk of the last line of a long stream written one line per chunk', () => {
    const lines = Array.from({ length: 1_000 }, (_, i) => chatChunk(`word ${i}`));
    const { counts, kept } = countsByLine(ndjson(...lines, chatDone(12, 1000)));
    expect(counts).toEqual({ promptTokens: 12, completionTokens: 1000, jsonLines: 1001 });
    expect(kept).toBe(1);
  });

  it('keeps the usage frame through the blank lines, event lines and [DONE] after it', () => {
    const body = Buffer.from(
      'event: message\n' +
        sse({ choices: [{ delta: { content: 'x' } }] }, { choices: [], usage: { prompt_tokens: 5, completion_tokens: 6 } }).toString() +
        'event: end\n\u00a0\n' +
        'data: [DONE]\n\n',
      'latin1',
    );
    expect(countsByLine(body).counts).toEqual({ promptTokens: 5, completionTokens: 6, jsonLines: 2 });
    expect(countsOf(body)).toEqual({ promptTokens: 5, completionTokens: 6 });
  });

  it('reads what it read before from random streams cut anywhere (seed 7, 2000 cases)', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
    for (let i = 0; i < 2_000; i++) {
      const lines: string[] = [];
      for (let n = 1 + Math.floor(random() * 8); n > 0; n--) {
        lines.push(
          pick([
            JSON.stringify(chatChunk('hi')),
            JSON.stringify(chatDone(Math.floor(random() * 100), Math.floor(random() * 100))),
            `data: ${JSON.stringify({ usage: { prompt_tokens: Math.floor(random() * 100), completion_tokens: 7 } })}`,
            'data: [DONE]',
            ' data: [DONE] ',
            'event: x',
            '',
            '\r',
            '\u00a0',
            '"eval_count":1',
          ]),
        );
      }
      const bytes = Buffer.from(lines.join(pick(['\n', '\r\n'])) + pick(['', '\n']), 'latin1');
      // cuts at line ends and anywhere else
      const cuts: number[] = [];
      for (let at = 0; at < bytes.length; at++) if ((bytes[at] === 0x0a && random() < 0.7) || random() < 0.05) cuts.push(at + 1);
      expect(countsOf(bytes, cuts), JSON.stringify({ text: bytes.toString('latin1'), cuts })).toEqual(countsOf(bytes));
    }
  });
});

describe('TokenTap on the fake Ollama’s real bytes', () => {
  let fake: FakeOllama;
  beforeAll(async () => {
    fake = await startFakeOllama();
  });
  afterAll(async () => {
    await fake.close();
  });

  /** Posts to the fake and returns the raw answer bytes and the counts it reported. */
  async function exchange(path: string, body: unknown) {
    const res = await fetch(`${fake.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
    const bytes = Buffer.from(await res.arrayBuffer());
    const req = fake.requests.at(-1)!;
    return { bytes, usage: fake.usageFor(req)! };
  }

  it.each([
    ['/api/chat stream', '/api/chat', { model: 'llama3.2', messages: [{ role: 'user', content: 'one two three four' }] }],
    ['/api/chat non-stream', '/api/chat', { model: 'llama3.2', messages: [{ role: 'user', content: 'one two' }], stream: false }],
    ['/api/generate stream', '/api/generate', { model: 'llama3.2', prompt: 'why is the sky blue' }],
    [
      '/v1/chat/completions with usage',
      '/v1/chat/completions',
      { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } },
    ],
    ['/v1/completions with usage', '/v1/completions', { model: 'llama3.2', prompt: 'once upon a time', stream: true, stream_options: { include_usage: true } }],
    ['/v1/chat/completions non-stream', '/v1/chat/completions', { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }],
  ])('%s: the counts the fake reported, however the bytes are cut', async (_name, path, body) => {
    fake.behaviour.chunks = 7;
    const { bytes, usage } = await exchange(path, body);
    expect(usage).toBeDefined();
    const expected = { promptTokens: usage.promptTokens, completionTokens: usage.completionTokens };
    expect(countsOf(bytes)).toEqual(expected);
    expect(countsInPieces(bytes, 1)).toEqual(expected);
    for (let cut = 1; cut < bytes.length; cut += 3) expect(countsOf(bytes, [cut, cut + 2])).toEqual(expected);
  });
});
