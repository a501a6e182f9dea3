/** Messages between the orchestrator (run.ts) and the load generator process (load-worker.ts). */

export interface Endpoint {
  host: string;
  port: number;
  /** sent as X-API-Key; the direct target ignores it, as Ollama would */
  key: string;
}

/** Non-streaming requests at a fixed number of keep-alive connections (autocannon). */
export interface HttpLoadTask {
  kind: 'http';
  endpoint: Endpoint;
  path: string;
  body: string;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  /** a fixed number of requests instead of a duration (then `seconds` is ignored) */
  amount?: number;
}

export interface HttpLoadResult {
  /** 200 answers in the measured window */
  ok: number;
  seconds: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** per 200 answer, in ms with sub-ms precision (autocannon's own histogram keeps whole ms only) */
  latenciesMs: number[];
}

/** Concurrent NDJSON streams whose lines carry the upstream's send time (see stream-upstream.ts). */
export interface StreamTask {
  kind: 'streams';
  endpoint: Endpoint;
  streams: number;
  /** lines per stream, the final `"done":true` line included */
  lines: number;
  intervalMs: number;
  /** stream starts are spread evenly over this long */
  rampMs: number;
  /** a stream not finished by then counts as failed */
  timeoutMs: number;
}

export interface StreamResult {
  streams: number;
  completed: number;
  /** the first few reasons streams failed */
  failures: string[];
  lines: number;
  /** socket reads that delivered at least one complete line */
  readsWithLines: number;
  /** socket reads that delivered two or more complete lines at once */
  mergedReads: number;
  /** upstream write to client read, per line, in ms */
  delaysMs: number[];
}

export type Task = HttpLoadTask | StreamTask;
export type TaskResult<T extends Task> = T extends HttpLoadTask ? HttpLoadResult : StreamResult;

export interface WorkerRequest {
  id: number;
  task: Task;
}

export type WorkerReply = { id: number; ok: true; result: HttpLoadResult | StreamResult } | { id: number; ok: false; error: string };

/** The upstream process announces where its two servers listen. */
export interface UpstreamAddresses {
  /** the faithful fake Ollama (test/support/fake-ollama.ts) */
  fake: string;
  /** the line-stamping streaming upstream (stream-upstream.ts) */
  stream: string;
}

/** The stamp each streamed line carries: `"sent_ns":"<process.hrtime.bigint()>"`, CLOCK_MONOTONIC, shared by all processes. */
export const SENT_NS_FIELD = '"sent_ns":"';
