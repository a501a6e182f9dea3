import { describe, expect, it } from 'vitest';
import { summarizeBody } from './body-log.js';

const body = (value: unknown) => Buffer.from(JSON.stringify(value));
const parsed = (value: unknown) => JSON.parse(summarizeBody(body(value))) as Record<string, unknown>;

describe('summarizeBody', () => {
  it('keeps the first 50 and the last 20 characters of a long text, and says how much is left out', () => {
    const long = 'a'.repeat(50) + 'b'.repeat(1_000) + 'c'.repeat(20);
    const out = parsed({ model: 'llama3.2', messages: [{ role: 'user', content: long }] });
    const content = (out.messages as Array<{ content: string }>)[0]!.content;
    expect(content.startsWith('a'.repeat(50))).toBe(true);
    expect(content.endsWith('c'.repeat(20))).toBe(true);
    expect(content).not.toContain('b');
    expect(content).toContain('1000 more');
    expect(content.length).toBeLessThan(100);
    expect(out.model).toBe('llama3.2');
  });

  it('leaves short texts as they are', () => {
    const short = 'x'.repeat(70);
    expect(parsed({ prompt: short }).prompt).toBe(short);
    expect(parsed({ prompt: 'hello' }).prompt).toBe('hello');
  });

  it('shortens every long string, however deep, and keys, numbers and booleans stay', () => {
    const long = 'p'.repeat(50) + 'q'.repeat(500) + 'r'.repeat(20);
    const out = parsed({ model: 'm', prompt: long, system: long, options: { temperature: 0.2, stop: [long] }, stream: false });
    expect(out).toMatchObject({ model: 'm', stream: false, options: { temperature: 0.2 } });
    for (const text of [out.prompt, out.system, (out.options as { stop: string[] }).stop[0]]) {
      expect(text).toMatch(/^p{50}….*…r{20}$/);
    }
  });

  it('replaces images by their size: Ollama images arrays and OpenAI data URLs', () => {
    const image = 'iVBORw0KGgo' + 'A'.repeat(100_000);
    const dataUrl = `data:image/png;base64,${image}`;
    const text = summarizeBody(
      body({
        model: 'llava',
        messages: [
          { role: 'user', content: 'what is this?', images: [image, image] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'and this?' },
              { type: 'image_url', image_url: { url: dataUrl } },
            ],
          },
        ],
        images: [image],
      }),
    );
    expect(text).not.toContain('AAAAAAAAAA');
    expect(text).not.toContain('iVBORw0KGgo');
    expect(text).toContain(`[image, ${image.length} characters]`);
    expect(text).toContain(`[image, ${dataUrl.length} characters]`);
    expect(text).toContain('what is this?');
    expect(text).toContain('and this?');
    expect(text.length).toBeLessThan(1_000);
  });

  it('replaces a short image too: an image is never logged', () => {
    expect(parsed({ images: ['iVBORw0KGgo='] }).images).toEqual(['[image, 12 characters]']);
    expect(parsed({ image_url: 'https://example.com/cat.png' }).image_url).toBe('[image, 27 characters]');
  });

  it('reduces long number arrays (embeddings, context) to their length', () => {
    const context = Array.from({ length: 5_000 }, (_, i) => i);
    const out = parsed({ model: 'llama3.2', prompt: 'hi', context });
    expect(out.context).toBe('[5000 numbers]');
  });

  it('describes a body that is not JSON instead of showing it', () => {
    expect(summarizeBody(Buffer.from('secret prompt as plain text'))).toBe('[27 bytes, not JSON]');
    expect(summarizeBody(Buffer.from([0xff, 0x00, 0x01]))).toBe('[3 bytes, not JSON]');
    expect(summarizeBody(Buffer.alloc(0))).toBe('[0 bytes, not JSON]');
  });

  it('caps the whole summary, however many short strings there are', () => {
    const messages = Array.from({ length: 2_000 }, (_, i) => ({ role: 'user', content: `message number ${i}` }));
    const text = summarizeBody(body({ model: 'llama3.2', messages }));
    expect(text.length).toBeLessThanOrEqual(4_097);
    expect(text.endsWith('…')).toBe(true);
    expect(text.startsWith('{"model":"llama3.2"')).toBe(true);
  });

  it('keeps a small body whole, as JSON', () => {
    const small = { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true };
    expect(JSON.parse(summarizeBody(body(small)))).toEqual(small);
  });

  it('counts characters, not bytes, in shortened non-ASCII text', () => {
    const long = 'é'.repeat(50) + 'ж'.repeat(300) + '語'.repeat(20);
    const out = parsed({ prompt: long }).prompt as string;
    expect(out.startsWith('é'.repeat(50) + '…')).toBe(true);
    expect(out.endsWith('…' + '語'.repeat(20))).toBe(true);
  });
});
