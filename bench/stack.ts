/** The processes a load run needs, shared by `npm run bench` (run.ts) and `npm run load` (load.ts). */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Children, freePort, waitForHttp } from './processes.js';
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
}

export async function startGate(children: Children, tmp: string, name: string, upstream: string, nodeArgs: string[] = []): Promise<Gate> {
  const dataDir = join(tmp, name);
  const out = execFileSync(process.execPath, [CLI, 'keys', 'add', 'bench', '--json', '--data-dir', dataDir], { encoding: 'utf8' });
  const key = (JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { key?: string }).key;
  if (!key) throw new Error(`ollama-gate keys add printed no key: ${out}`);
  const port = await freePort();
  // The web admin on a free port of its own: serve's default (8001) goes to whichever gate (or
  // test, or user) takes it first, which would leave the two gates configured differently.
  const args = [...nodeArgs, CLI, 'serve', '--host', HOST, '--port', String(port), '--upstream', upstream, '--data-dir', dataDir, '--admin-port', '0'];
  const child = children.spawn(name, process.execPath, args, join(tmp, `${name}.log`));
  await Promise.race([waitForHttp(`http://${HOST}:${port}/`), Children.died(name, child)]);
  return { endpoint: { host: HOST, port, key }, pid: child.pid ?? 0, child };
}
