/**
 * One NDJSON stream over a raw TCP socket, so that every 'data' event is one read from the kernel:
 * that is what shows whether a proxy delivered lines one by one or merged several into one write.
 * Each complete line's delay is the read time minus the `sent_ns` stamp the upstream put in it.
 */
import net from 'node:net';
import { type Endpoint, SENT_NS_FIELD } from './protocol.js';

export interface StreamTally {
  lines: number;
  readsWithLines: number;
  mergedReads: number;
  delaysMs: number[];
}

export interface StreamOutcome {
  ok: boolean;
  /** why it failed, when it did */
  error?: string;
}

export function runStream(endpoint: Endpoint, body: string, expectedLines: number, timeoutMs: number, tally: StreamTally): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port, noDelay: true });
    const payload = Buffer.from(body);
    let head: Buffer | null = Buffer.alloc(0); // null once the response headers are parsed
    let status = 0;
    let framing: BodyFraming = new UntilClose();
    let pending = '';
    let lines = 0;
    let sawDone = false;
    let settled = false;

    const finish = (outcome: StreamOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ ok: false, error: `timed out after ${lines} lines` }), timeoutMs);
    const complete = (): void => {
      if (status !== 200) return finish({ ok: false, error: `status ${status}` });
      if (!sawDone || lines !== expectedLines) return finish({ ok: false, error: `ended after ${lines} of ${expectedLines} lines` });
      finish({ ok: true });
    };

    socket.on('connect', () => {
      socket.write(
        `POST /api/chat HTTP/1.1\r\nHost: ${endpoint.host}:${endpoint.port}\r\nContent-Type: application/json\r\n` +
          `X-API-Key: ${endpoint.key}\r\nContent-Length: ${payload.length}\r\n\r\n`,
      );
      socket.write(payload);
    });

    socket.on('data', (data: Buffer) => {
      const readAt = process.hrtime.bigint(); // first, before any parsing
      try {
        onRead(data, readAt);
      } catch (error) {
        finish({ ok: false, error: (error as Error).message });
      }
    });

    const onRead = (data: Buffer, readAt: bigint): void => {
      let rest = data;
      if (head) {
        head = Buffer.concat([head, data]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headers = head.subarray(0, end).toString('latin1');
        rest = head.subarray(end + 4);
        head = null;
        status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(headers)?.[1] ?? 0);
        framing = bodyFraming(headers);
      }
      let linesThisRead = 0;
      for (const piece of framing.feed(rest)) {
        pending += piece.toString('latin1');
        let start = 0;
        for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n', start)) {
          const line = pending.slice(start, nl);
          start = nl + 1;
          linesThisRead++;
          lines++;
          const at = line.indexOf(SENT_NS_FIELD);
          if (at >= 0) {
            const from = at + SENT_NS_FIELD.length;
            const sentNs = BigInt(line.slice(from, line.indexOf('"', from)));
            tally.delaysMs.push(Number(readAt - sentNs) / 1e6);
          }
          if (line.includes('"done":true')) sawDone = true;
        }
        pending = pending.slice(start);
      }
      if (linesThisRead > 0) {
        tally.lines += linesThisRead;
        tally.readsWithLines++;
        if (linesThisRead > 1) tally.mergedReads++;
      }
      if (framing.done) complete();
    };

    socket.on('end', () => (framing.endsAtClose ? complete() : finish({ ok: false, error: `connection closed after ${lines} lines` })));
    socket.on('error', (error) => finish({ ok: false, error: error.message }));
  });
}

interface BodyFraming {
  /** the body's bytes in this read */
  feed(data: Buffer): Buffer[];
  readonly done: boolean;
  readonly endsAtClose: boolean;
}

function bodyFraming(headers: string): BodyFraming {
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(headers)) return new Chunked();
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(headers)?.[1];
  return length === undefined ? new UntilClose() : new ContentLength(Number(length));
}

class UntilClose implements BodyFraming {
  readonly done = false;
  readonly endsAtClose = true;
  feed(data: Buffer): Buffer[] {
    return [data];
  }
}

class ContentLength implements BodyFraming {
  readonly endsAtClose = false;
  constructor(private remaining: number) {}
  get done(): boolean {
    return this.remaining <= 0;
  }
  feed(data: Buffer): Buffer[] {
    this.remaining -= data.length;
    return [data];
  }
}

/** HTTP/1.1 chunked transfer coding: `size CRLF data CRLF … 0 CRLF trailers CRLF`. */
class Chunked implements BodyFraming {
  readonly endsAtClose = false;
  done = false;
  private state: 'size' | 'data' | 'data-end' | 'trailer' = 'size';
  private remaining = 0;
  private partialLine = '';

  feed(data: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    while (i < data.length && !this.done) {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, data.length - i);
        out.push(data.subarray(i, i + n));
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = 'data-end';
        continue;
      }
      const nl = data.indexOf(10, i);
      if (nl < 0) {
        this.partialLine += data.toString('latin1', i);
        break;
      }
      const line = (this.partialLine + data.toString('latin1', i, nl)).replace(/\r$/, '');
      this.partialLine = '';
      i = nl + 1;
      if (this.state === 'data-end') {
        this.state = 'size';
      } else if (this.state === 'size') {
        const size = Number.parseInt(line, 16);
        if (Number.isNaN(size)) throw new Error(`bad chunk size line "${line}"`);
        if (size === 0) this.state = 'trailer';
        else {
          this.remaining = size;
          this.state = 'data';
        }
      } else if (line === '') {
        this.done = true; // the empty line after the last chunk (and any trailers)
      }
    }
    return out;
  }
}
