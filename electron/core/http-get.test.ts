import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getText } from './http-get.js';

describe('getText', () => {
  const body = 'x'.repeat(2 * 1024 * 1024);
  const server = createServer((_req, res) => res.end(body));
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/tags`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('refuses an answer longer than it may read, rather than handing back a cut one', async () => {
    await expect(getText(url, { timeoutMs: 5_000 })).rejects.toMatchObject({ name: 'AnswerTooLongError', message: 'the answer is longer than 1048576 bytes' });
  });

  it('reads the whole answer when it is allowed to be that long', async () => {
    const answer = await getText(url, { timeoutMs: 5_000, maxBytes: 4 * 1024 * 1024 });
    expect([answer.status, answer.text.length]).toEqual([200, body.length]);
  });
});
