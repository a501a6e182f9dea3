import { connect } from 'node:net';

/** One HTTP answer read off a raw connection. */
export interface WireAnswer {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/**
 * Sends exact bytes on a new connection (nothing a client library would refuse or fix up) and
 * resolves with everything that came back once the server closed it. Written, not ended: Node
 * takes a half-closed client as gone, and would abort its request.
 */
export function exchangeRaw(port: number, bytes: Buffer | Buffer[], timeoutMs = 5_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      for (const part of Array.isArray(bytes) ? bytes : [bytes]) socket.write(part);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (error) => (chunks.length ? undefined : reject(error)));
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no close within ${timeoutMs} ms`)));
  });
}

/** Exact bytes on a new connection, and the first answer that came back before it closed. */
export async function exchangeOne(port: number, bytes: Buffer | string): Promise<WireAnswer> {
  const [answer] = parseAnswers(await exchangeRaw(port, typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes));
  if (!answer) throw new Error('no answer before the connection closed');
  return answer;
}

/** One chunk of a chunked body, as it goes on the wire. */
export function chunk(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

/**
 * The answers in what a connection received, in order. A HEAD answer declares a length but has no
 * body: an answer whose declared body would start with another status line is taken as one.
 */
export function parseAnswers(raw: Buffer): WireAnswer[] {
  const answers: WireAnswer[] = [];
  let at = 0;
  while (at < raw.length) {
    const headEnd = raw.indexOf('\r\n\r\n', at);
    if (headEnd < 0) throw new Error(`not an HTTP answer: ${JSON.stringify(raw.toString('latin1', at, at + 200))}`);
    const [statusLine = '', ...lines] = raw.toString('latin1', at, headEnd).split('\r\n');
    const match = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine);
    if (!match) throw new Error(`bad status line: ${statusLine}`);
    const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    let bodyStart = headEnd + 4;
    const status = Number(match[1]);
    let body: Buffer;
    if (headers.get('transfer-encoding') === 'chunked') {
      [body, bodyStart] = dechunk(raw, bodyStart);
    } else {
      const length = Number(headers.get('content-length') ?? (status === 204 || status === 304 ? 0 : raw.length - bodyStart));
      const bodyless = raw.toString('latin1', bodyStart, bodyStart + 9) === 'HTTP/1.1 ' || bodyStart + length > raw.length;
      body = bodyless ? Buffer.alloc(0) : raw.subarray(bodyStart, bodyStart + length);
      bodyStart += body.length;
    }
    answers.push({ status, headers, body });
    at = bodyStart;
  }
  return answers;
}

/** A chunked body from `start`: its bytes, and where what follows it begins. */
function dechunk(data: Buffer, start: number): [Buffer, number] {
  const parts: Buffer[] = [];
  let i = start;
  while (i < data.length) {
    const lineEnd = data.indexOf('\r\n', i);
    if (lineEnd < 0) break;
    const size = parseInt(data.toString('latin1', i, lineEnd), 16);
    if (!size) {
      const end = data.indexOf('\r\n\r\n', lineEnd);
      return [Buffer.concat(parts), end < 0 ? data.length : end + 4];
    }
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    i = lineEnd + 2 + size + 2;
  }
  return [Buffer.concat(parts), data.length];
}
