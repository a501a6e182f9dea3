/** The processes a load run needs, shared by `npm run bench` (run.ts) and `npm run load` (load.ts). */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Children, freePort, sleep, waitForHttp } from './processes.js';
import type { Endpoint, HttpLoadResult, StreamResult, Task, TaskResult, UpstreamAddresses, WorkerReply, WorkerRequest } from './protocol.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'dist/cli/ollama-gate.js');
export const HOST = '127.0.0.1';

/** The load generator process, one task at a time over IPC. */
export class LoadWorker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: HttpLoadResult | StreamResult) => void; reject: (e: Error) => void }>();

  constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: WorkerReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.result);
      else waiter?.reject(new Error(`load worker: ${reply.error}`));
    });
    child.once('exit', (code, signal) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`load worker exited (${signal ?? code})`));
      this.pending.clear();
    });
  }

  run<T extends Task>(task: T): Promise<TaskResult<T>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: HttpLoadResult | StreamResult) => void, reject });
      const request: WorkerRequest = { id, task };
      this.child.send(request);
    });
  }
}

export function spawnTs(children: Children, name: string, file: string, logFile: string): ChildProcess {
  return children.spawn(name, process.execPath, ['--import', 'tsx', join(ROOT, file)], logFile, { ipc: true, cwd: ROOT });
}

export async function startUpstreams(children: Children, tmp: string): Promise<{ addresses: UpstreamAddresses; pid: number }> {
  const child = spawnTs(children, 'upstream', 'bench/fake-server.ts', join(tmp, 'upstream.log'));
  const [addresses] = (await Promise.race([once(child, 'message'), Children.died('bench/fake-server.ts', child)])) as [UpstreamAddresses];
  return { addresses, pid: child.pid ?? 0 };
}

/** A bare proxy (node-proxy.ts, undici-proxy.ts): one port per upstream, in the order given, announced over IPC. */
async function startBareProxy(children: Children, tmp: string, name: string, key: string, upstreams: string[]): Promise<{ ports: number[]; pid: number }> {
  const file = `bench/${name}.ts`;
  const child = children.spawn(name, process.execPath, ['--import', 'tsx', join(ROOT, file), key, ...upstreams], join(tmp, `${name}.log`), {
    ipc: true,
    cwd: ROOT,
  });
  const [ports] = (await Promise.race([once(child, 'message'), Children.died(file, child)])) as [number[]];
  return { ports, pid: child.pid ?? 0 };
}

/** The bare Node proxy (node-proxy.ts: node:http both ways): one port per upstream, in the order given. */
export function startNodeProxy(children: Children, tmp: string, key: string, upstreams: string[]): Promise<{ ports: number[]; pid: number }> {
  return startBareProxy(children, tmp, 'node-proxy', key, upstreams);
}

/** The bare undici proxy (undici-proxy.ts: node:http in front, an undici Pool behind): one port per upstream, in the order given. */
export function startUndiciProxy(children: Children, tmp: string, key: string, upstreams: string[]): Promise<{ ports: number[]; pid: number }> {
  return startBareProxy(children, tmp, 'undici-proxy', key, upstreams);
}

export async function startWorker(children: Children, tmp: string): Promise<LoadWorker> {
  const child = spawnTs(children, 'load-worker', 'bench/load-worker.ts', join(tmp, 'load-worker.log'));
  await Promise.race([once(child, 'spawn'), Children.died('bench/load-worker.ts', child)]);
  return new LoadWorker(child);
}

export interface Gate {
  endpoint: Endpoint;
  pid: number;
  child: ChildProcess;
  /** its stdout and stderr: a line per request, naming the backend that answered unless it is the default */
  logFile: string;
}

export interface GateOptions {
  /** node's own flags, before the CLI (`--cpu-prof`) */
  nodeArgs?: string[];
  /** more `--upstream` values after the default (`NAME=URL`) */
  moreUpstreams?: string[];
}

export async function startGate(children: Children, tmp: string, name: string, upstream: string, options: GateOptions = {}): Promise<Gate> {
  const { nodeArgs = [], moreUpstreams = [] } = options;
  const dataDir = join(tmp, name);
  const out = execFileSync(process.execPath, [CLI, 'keys', 'add', 'bench', '--json', '--data-dir', dataDir], { encoding: 'utf8' });
  const key = (JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { key?: string }).key;
  if (!key) throw new Error(`ollama-gate keys add printed no key: ${out}`);
  const port = await freePort();
  const upstreams = [upstream, ...moreUpstreams].flatMap((u) => ['--upstream', u]);
  // The web admin on a free port of its own: serve's default (8001) goes to whichever gate (or
  // test, or user) takes it first, which would leave the gates configured differently.
  const args = [...nodeArgs, CLI, 'serve', '--host', HOST, '--port', String(port), ...upstreams, '--data-dir', dataDir, '--admin-port', '0'];
  const logFile = join(tmp, `${name}.log`);
  const child = children.spawn(name, process.execPath, args, logFile);
  const died = Children.died(name, child);
  await Promise.race([waitForHttp(`http://${HOST}:${port}/`), died]);
  if (moreUpstreams.length) await Promise.race([waitForBackends(`http://${HOST}:${port}/health`, 1 + moreUpstreams.length), died]);
  return { endpoint: { host: HOST, port, key }, pid: child.pid ?? 0, child, logFile };
}

/**
 * Resolves once the gate's /health lists `count` backends, each reachable with models installed:
 * until a backend's probe (every 5 s) has listed the model, no request naming it goes there.
 */
async function waitForBackends(healthUrl: string, count: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const res = await fetch(healthUrl, { signal: AbortSignal.timeout(1_000) });
      last = await res.text();
      const backends = (JSON.parse(last) as { backends?: { reachable: boolean; models: number }[] }).backends ?? [];
      if (backends.length === count && backends.every((b) => b.reachable && b.models > 0)) return;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`${healthUrl}: not all ${count} backends reachable with models within ${timeoutMs} ms; last: ${last.slice(0, 500)}`);
    await sleep(100);
  }
}

/** The gate writes its request lines in batches, each at most 100 ms after its request ended (core/request-log.ts). */
const REQUEST_LOG_LAG_MS = 250;

/**
 * From now on, in the gate's log: the 200 answers to POST /api/chat, and how many of them `backend`
 * gave. Call the result when the load is over; it waits for the last lines to be written.
 */
export function answersSince(gate: Gate, backend: string): () => Promise<{ answers: number; byBackend: number }> {
  const start = statSync(gate.logFile).size;
  const named = new RegExp(` backend=${backend}(?: |$)`);
  return async () => {
    await sleep(REQUEST_LOG_LAG_MS);
    const fd = openSync(gate.logFile, 'r');
    try {
      const bytes = Buffer.alloc(fstatSync(fd).size - start);
      readSync(fd, bytes, 0, bytes.length, start);
      let answers = 0;
      let byBackend = 0;
      const text = bytes.toString('utf8');
      // Complete lines only: the gate may be writing the last one still.
      for (const line of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) {
        if (!line.includes(' POST /api/chat -> 200 ')) continue;
        answers++;
        if (named.test(line)) byBackend++;
      }
      return { answers, byBackend };
    } finally {
      closeSync(fd);
    }
  };
}
