import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { GateError, sendError } from './errors.js';
import { downstreamResponseHeaders } from './headers.js';
import { filterModelList } from './policy.js';
import { TokenTap } from './token-tap.js';
import type { UpstreamTarget } from './upstream.js';

/** What the gate sends Ollama: built by the gate, framed by undici. */
export interface UpstreamRequest {
  method: string;
  /** the path and query as Ollama gets them (the base path of the upstream URL included) */
  path: string;
  headers: string[];
  /** a body read whole (sent with its length), one still streaming in (sent chunked), or none */
  body: Buffer | AsyncIterable<Buffer> | null;
}

export interface RelayOptions {
  /** X-Request-Id and the CORS headers, ahead of Ollama's own */
  gateHeaders: readonly string[];
  /** a key's allowed models: a model list Ollama answers with is cut down to these (null: no list) */
  allowedModels: readonly string[] | null;
  /** the request's path, for the shape of an error the gate answers itself */
  path: string;
  /** the request's start, for the time to first byte */
  t0: number;
  /** the gate's error for a failure reaching this Ollama (Backend.failure) */
  failure: (error: unknown) => GateError;
}

/** Why an upstream request is aborted when its client has gone. */
const CLIENT_GONE = new Error('the client closed the connection');

/**
 * Streams Ollama's answer to the client chunk by chunk as it arrives: a write the client cannot
 * take yet pauses Ollama's side until the client drains, and a client that leaves aborts the
 * upstream request so Ollama stops generating. Nothing is buffered, except a model list the
 * key's allow-list filters (small JSON, read whole). What it saw is kept for the log.
 */
export class Relay implements Dispatcher.DispatchHandler {
  ttfbMs: number | null = null;
  bytesOut = 0;
  readonly tokens = new TokenTap();
  /** set when the answer failed after it began (the client saw a cut stream) */
  failure: GateError | null = null;

  private controller: Dispatcher.DispatchController | null = null;
  private started = false;
  private gone = false;
  /** the first failure has been dealt with; later ones of the same failure are ignored */
  private failed = false;
  private modelList: Buffer[] | null = null;
  private drainWatched = false;
  private settle: ((error?: GateError) => void) | null = null;

  constructor(
    private readonly res: ServerResponse,
    private readonly target: UpstreamTarget,
    private readonly options: RelayOptions,
  ) {}

  /** Sends the request; resolves once Ollama's answer has begun, rejects with the gate's error if it fails before. */
  send(request: UpstreamRequest): Promise<void> {
    return new Promise((resolve, reject) => {
      this.settle = (error) => (error ? reject(error) : resolve());
      if (this.gone) return this.done();
      const body = request.body === null || Buffer.isBuffer(request.body) ? request.body : Readable.from(request.body, { objectMode: false });
      this.target.pool.dispatch({ method: request.method, path: request.path, headers: request.headers, body, blocking: true }, this);
    });
  }

  /** The client has gone before the answer ended: stop Ollama (now, or as soon as the request starts). */
  clientLeft(): void {
    this.gone = true;
    this.controller?.abort(CLIENT_GONE);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.gone) controller.abort(CLIENT_GONE);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // an interim answer (103 Early Hints): the real one follows
    const { res, options } = this;
    this.ttfbMs = performance.now() - options.t0;
    this.started = true;
    if (options.allowedModels && statusCode === 200) {
      this.modelList = [];
    } else {
      try {
        res.writeHead(statusCode, downstreamResponseHeaders(headers, [...options.gateHeaders]));
      } catch (error) {
        // Headers Node refuses to send (invalid characters): the client gets the gate's 500.
        this.started = false;
        this.failed = true;
        controller.abort(error as Error);
        return this.done(new GateError('upstream_bad_headers', { detail: (error as Error).message }));
      }
    }
    this.done();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.modelList) return void this.modelList.push(chunk);
    this.bytesOut += chunk.length;
    this.tokens.observe(chunk);
    if (this.res.write(chunk)) return;
    controller.pause();
    // Watched from the first time the client falls behind: most answers never do.
    if (!this.drainWatched) {
      this.drainWatched = true;
      this.res.on('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (this.modelList) return this.sendModelList(this.modelList);
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.failed) return;
    this.failed = true;
    if (this.gone) return this.done(); // the request's end records the client's leaving
    const gateError = this.options.failure(error);
    if (!this.started) return this.done(gateError);
    if (this.res.writableEnded) return;
    this.failure = gateError;
    this.res.destroy(); // the client sees a broken stream, not a clean end it would trust
  }

  private done(error?: GateError): void {
    const settle = this.settle;
    this.settle = null;
    settle?.(error);
  }

  /** A model list (small JSON) is the one answer the gate reads whole: to show only the models the key may use. */
  private sendModelList(chunks: Buffer[]): void {
    const { res, options } = this;
    const body = filterModelList(Buffer.concat(chunks).toString('utf8'), options.allowedModels ?? []);
    if (body === undefined) {
      const error = new GateError('upstream_model_list');
      this.failure = error;
      this.bytesOut = sendError(res, options.path, error, options.gateHeaders);
      return;
    }
    const length = Buffer.byteLength(body);
    res.writeHead(200, [...options.gateHeaders, 'content-type', 'application/json; charset=utf-8', 'content-length', String(length)]);
    this.bytesOut = length;
    res.end(body);
  }
}
