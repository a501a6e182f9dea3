/**
 * The load generator, in its own process so it never shares an event loop (or a core's timeslice)
 * with the orchestrator's sampling. Takes tasks over IPC, one at a time, and answers each.
 */
import autocannon from 'autocannon';
import type { HttpLoadResult, HttpLoadTask, StreamResult, StreamTask, WorkerReply, WorkerRequest } from './protocol.js';
import { type StreamTally, runStream } from './stream-client.js';

if (!process.send) throw new Error('load-worker.ts is started by bench/run.ts over IPC');
const reply = (message: WorkerReply): void => void process.send?.(message);

process.on('message', (request: WorkerRequest) => {
  const work = request.task.kind === 'http' ? httpLoad(request.task) : streams(request.task);
  work.then(
    (result) => reply({ id: request.id, ok: true, result }),
    (error: unknown) => reply({ id: request.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));

async function httpLoad(task: HttpLoadTask): Promise<HttpLoadResult> {
  const options: autocannon.Options = {
    url: `http://${task.endpoint.host}:${task.endpoint.port}${task.path}`,
    method: 'POST',
    connections: task.connections,
    headers: { 'content-type': 'application/json', 'x-api-key': task.endpoint.key },
    body: task.body,
  };
  if (task.warmupSeconds > 0) await autocannon({ ...options, duration: task.warmupSeconds });

  const latenciesMs: number[] = [];
  const run = autocannon(task.amount ? { ...options, amount: task.amount } : { ...options, duration: task.seconds });
  run.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status === 200) latenciesMs.push(Math.round(ms * 1000) / 1000);
  });
  const result = await run;
  return {
    ok: latenciesMs.length,
    seconds: result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latenciesMs,
  };
}

async function streams(task: StreamTask): Promise<StreamResult> {
  const body = JSON.stringify({
    model: 'llama3.2:latest',
    messages: [{ role: 'user', content: 'Why is the sky blue?' }],
    // no "stream": Ollama streams by default, and so must every proxy
    bench: { lines: task.lines, intervalMs: task.intervalMs },
  });
  const tally: StreamTally = { lines: 0, readsWithLines: 0, mergedReads: 0, delaysMs: [] };
  const outcomes = await Promise.all(
    Array.from({ length: task.streams }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, (i * task.rampMs) / task.streams));
      return runStream(task.endpoint, body, task.lines, task.timeoutMs, tally);
    }),
  );
  const failures = outcomes.flatMap((o) => (o.ok ? [] : [o.error ?? 'failed']));
  return {
    streams: task.streams,
    completed: outcomes.length - failures.length,
    failures: [...new Set(failures)].slice(0, 5),
    lines: tally.lines,
    readsWithLines: tally.readsWithLines,
    mergedReads: tally.mergedReads,
    delaysMs: tally.delaysMs.map((d) => Math.round(d * 1000) / 1000),
  };
}
