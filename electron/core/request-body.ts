import type { IncomingMessage, ServerResponse } from 'node:http';
import { GateError } from './errors.js';

/**
 * Bytes held for clients whose key the gate does not know yet, from all of them together. A body
 * may carry its key (`"api_key"`), so the gate has to read some of it before it knows whom it
 * serves; this bounds what strangers can make it hold at once. One address may hold at most a
 * quarter of it, so a single stranger cannot shut out every client that sends its key in a body.
 */
export class ByteBudget {
  private used = 0;
  private byAddress = new Map<string, number>();
  constructor(private readonly limit: () => number) {}

  /** Takes `bytes` for `address`, or returns false (taking nothing) when they do not fit. */
  take(address: string, bytes: number): boolean {
    const limit = this.limit();
    const held = this.byAddress.get(address) ?? 0;
    if (this.used + bytes > limit || held + bytes > limit / 4) return false;
    this.used += bytes;
    this.byAddress.set(address, held + bytes);
    return true;
  }

  give(address: string, bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    const held = (this.byAddress.get(address) ?? 0) - bytes;
    if (held > 0) this.byAddress.set(address, held);
    else this.byAddress.delete(address);
  }

  get inUse(): number {
    return this.used;
  }
}

export interface BodyLimits {
  /** read at most this much into memory; the rest stays unread */
  readLimit: number;
  /** the whole body may be at most this long (0 = no limit); over it: 413 */
  maxBodyBytes: number;
  /** the longest wait for the next piece of the body; over it: 408 */
  idleMs: number;
  /**
   * For a client whose key is not known yet: what it reads is taken from this budget in its
   * address's name, and the whole read must end within `idleMs`, not only each pause.
   */
  budget?: { from: ByteBudget; address: string };
}

/** A request body as the gate reads it. */
export type RequestBody =
  | { kind: 'none' }
  /** read whole, within the read limit */
  | { kind: 'read'; bytes: Buffer }
  /** longer than the read limit: what was read, and the rest still to come */
  | { kind: 'partial'; prefix: Buffer[]; rest: () => AsyncIterable<Buffer> }
  /** not read at all (a blob upload): it streams through as it comes */
  | { kind: 'unread'; rest: () => AsyncIterable<Buffer> };

/**
 * Reads one request's body, counting its bytes as they come (`meter.bytes`, for the log). Every
 * limit is enforced here: the whole body's size, the pause between its pieces, and for a client
 * not yet known, the shared budget (`meter.repay()` gives back what it holds).
 */
export class BodyMeter {
  bytes = 0;
  private borrowed = 0;
  private budget: BodyLimits['budget'];

  constructor(private readonly limits: BodyLimits) {
    this.budget = limits.budget;
  }

  /** Gives back what this body took from the budget (the key is known now, or the request is over). */
  repay(): void {
    this.budget?.from.give(this.budget.address, this.borrowed);
    this.borrowed = 0;
    this.budget = undefined;
  }

  private count(length: number): void {
    this.bytes += length;
    const max = this.limits.maxBodyBytes;
    if (max > 0 && this.bytes > max) throw bodyTooLarge(max);
    if (this.budget) {
      if (!this.budget.from.take(this.budget.address, length)) throw new GateError('busy', {}, { 'Retry-After': '5' });
      this.borrowed += length;
    }
  }

  /**
   * The body read until it ends or passes the read limit (then paused, the rest unread);
   * `streamOnly` reads none of it. A declared length over the limit is refused before a byte is read.
   */
  async read(req: IncomingMessage, res: ServerResponse, streamOnly: boolean): Promise<RequestBody> {
    const max = this.limits.maxBodyBytes;
    if (max > 0 && Number(req.headers['content-length'] ?? 0) > max) throw bodyTooLarge(max);
    if (!declaresBody(req)) return { kind: 'none' };
    // A client that waits for "100 Continue" is told to go on only when its body is wanted.
    if (expectsContinue(req)) res.writeContinue();
    if (streamOnly) return { kind: 'unread', rest: () => this.stream(req) };
    const { chunks, complete } = await this.readPrefix(req);
    if (complete) return { kind: 'read', bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) };
    return { kind: 'partial', prefix: chunks, rest: () => this.stream(req) };
  }

  private readPrefix(req: IncomingMessage): Promise<{ chunks: Buffer[]; complete: boolean }> {
    const { readLimit, idleMs } = this.limits;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let length = 0;
      // Listeners stay on a body that was read to its end: removing a Readable's listeners costs more
      // than their being called once more (a late 'close') and ignored.
      let settled = false;
      const timer = setTimeout(() => fail(bodyTimeout(idleMs)), idleMs);
      // A client without a key gets no longer for its whole body than for one pause: trickling a
      // byte at a time would otherwise hold its share of the budget for good.
      const deadline = this.budget ? setTimeout(() => fail(unauthenticatedTimeout(idleMs)), idleMs) : undefined;
      const settle = () => {
        settled = true;
        clearTimeout(timer);
        clearTimeout(deadline);
      };
      const fail = (error: Error) => {
        if (settled) return;
        settle();
        req.off('data', onData);
        reject(error);
      };
      const onData = (chunk: Buffer) => {
        if (settled) return;
        timer.refresh();
        chunks.push(chunk);
        length += chunk.length;
        try {
          this.count(chunk.length);
        } catch (error) {
          return fail(error as Error);
        }
        if (length > readLimit) {
          settle();
          req.pause();
          req.off('data', onData);
          resolve({ chunks, complete: false });
        }
      };
      req.on('data', onData);
      req.on('end', () => {
        if (settled) return;
        settle();
        resolve({ chunks, complete: true });
      });
      req.on('error', (error) => fail(clientGone(error)));
      // Closed without an end (and without an error): the client went away mid-body. Every request
      // closes once it is over, so the error is made only when it is one.
      req.on('close', () => settled || fail(clientGone()));
    });
  }

  /**
   * The rest of the body as it comes, counted. The pause limit runs only while waiting for the
   * client: a body held back because Ollama reads slowly is not the client's delay.
   */
  private async *stream(req: IncomingMessage): AsyncIterable<Buffer> {
    const { idleMs } = this.limits;
    const chunks = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    for (;;) {
      const next = await withinMs(chunks.next(), idleMs);
      if (next.done) return;
      this.count(next.value.length);
      yield next.value;
    }
  }
}

/** The promise's outcome, or the body timeout when it takes longer than `ms`. */
function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(bodyTimeout(ms)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(clientGone(error));
      },
    );
  });
}

/** Whether a client waits for "100 Continue" before it sends its body. */
export function expectsContinue(req: IncomingMessage): boolean {
  return req.headers.expect?.toLowerCase() === '100-continue';
}

/** Whether a request declares a body: a length above 0, or chunked. */
export function declaresBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function bodyTooLarge(max: number): GateError {
  return new GateError('body_too_large', { limit: max });
}

/** The client left while sending its body (its connection reset or closed): nothing is answered. */
function clientGone(cause?: unknown): GateError {
  return cause instanceof GateError ? cause : new GateError('client_gone');
}

function unauthenticatedTimeout(ms: number): GateError {
  return new GateError('body_incomplete', { ms });
}

function bodyTimeout(ms: number): GateError {
  return new GateError('body_stalled', { ms });
}
