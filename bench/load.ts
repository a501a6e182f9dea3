/**
 * `npm run load`: the gate under sustained load, for RELIABILITY.md. Every process is separate
 * (fake Ollama, gates, load generator), all on 127.0.0.1, and all stopped when it ends.
 *
 *   npm run load                           100,000 requests at 256 connections, twice (memory must
 *                                          stay flat), then 1,000 concurrent streams
 *   npm run load -- --requests 20000       a shorter run
 *   npm run soak -- 10                     mixed load for 10 minutes, RSS reported over time
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Children, RssSampler, rssBytes, sleep } from './processes.js';
import type { HttpLoadResult } from './protocol.js';
import { type Gate, type LoadWorker, startGate, startUpstreams, startWorker } from './stack.js';

const MB = 1_000_000;
const CHAT_BODY = JSON.stringify({ model: 'llama3.2:latest', messages: [{ role: 'user', content: 'Why is the sky blue?' }], stream: false });
/** Memory is flat when a second, identical batch leaves RSS at most this much above the first. */
const FLAT_TOLERANCE = 1.1;

interface Stack {
  chat: Gate;
  stream: Gate;
  worker: LoadWorker;
}

async function startStack(children: Children, tmp: string): Promise<Stack> {
  const { addresses } = await startUpstreams(children, tmp);
  const worker = await startWorker(children, tmp);
  const [chat, stream] = await Promise.all([startGate(children, tmp, 'gate', addresses.fake), startGate(children, tmp, 'gate-stream', addresses.stream)]);
  return { chat, stream, worker };
}

function chatLoad(stack: Stack, connections: number, amount: number): Promise<HttpLoadResult> {
  return stack.worker.run({ kind: 'http', endpoint: stack.chat.endpoint, path: '/api/chat', body: CHAT_BODY, connections, warmupSeconds: 0, seconds: 0, amount });
}

const failed = (r: HttpLoadResult) => r.non2xx + r.errors + r.timeouts;

async function load(stack: Stack, requests: number, connections: number, streams: number): Promise<boolean> {
  const checks: Array<[string, boolean, string]> = [];
  await sleep(1_000);
  const idle = rssBytes(stack.chat.pid);

  const batches: Array<{ result: HttpLoadResult; rss: number; seconds: number }> = [];
  for (let batch = 1; batch <= 2; batch++) {
    const started = performance.now();
    const result = await chatLoad(stack, connections, requests);
    await sleep(2_000); // let sockets close and the heap settle
    batches.push({ result, rss: rssBytes(stack.chat.pid), seconds: (performance.now() - started) / 1000 });
    console.log(`batch ${batch}: ${result.ok} ok, ${failed(result)} failed in ${batches.at(-1)!.seconds.toFixed(1)} s; gate RSS ${(batches.at(-1)!.rss / MB).toFixed(1)} MB`);
  }
  const [first, second] = batches as [(typeof batches)[0], (typeof batches)[0]];
  checks.push([`${requests} requests at ${connections} connections, twice: no errors`, failed(first.result) + failed(second.result) === 0 && first.result.ok === requests && second.result.ok === requests, `${first.result.ok} + ${second.result.ok} ok, ${failed(first.result) + failed(second.result)} failed`]);
  checks.push([`memory flat: RSS after the second batch <= ${FLAT_TOLERANCE}x after the first`, second.rss <= first.rss * FLAT_TOLERANCE, `idle ${(idle / MB).toFixed(1)} MB, after batch 1 ${(first.rss / MB).toFixed(1)} MB, after batch 2 ${(second.rss / MB).toFixed(1)} MB`]);

  const sampler = new RssSampler([stack.stream.pid]);
  const result = await stack.worker.run({ kind: 'streams', endpoint: stack.stream.endpoint, streams, lines: 20, intervalMs: 100, rampMs: 1_000, timeoutMs: 60_000 });
  const peak = sampler.stop();
  checks.push([`${streams} concurrent streams all complete`, result.completed === streams, `${result.completed}/${streams} complete, peak gate RSS ${(peak / MB).toFixed(1)} MB${result.failures.length ? `; failures: ${result.failures.slice(0, 3).join('; ')}` : ''}`]);

  console.log('');
  for (const [what, ok, detail] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}: ${detail}`);
  return checks.every(([, ok]) => ok);
}

async function soak(stack: Stack, minutes: number): Promise<boolean> {
  const endAt = Date.now() + minutes * 60_000;
  const samples: Array<{ minute: number; rss: number; rate: number; failed: number }> = [];
  const started = Date.now();
  console.log('minute   gate RSS (MB)   req/s   failed');
  while (Date.now() < endAt) {
    const [http] = await Promise.all([
      stack.worker.run({ kind: 'http', endpoint: stack.chat.endpoint, path: '/api/chat', body: CHAT_BODY, connections: 32, warmupSeconds: 0, seconds: 10 }),
      stack.worker.run({ kind: 'streams', endpoint: stack.stream.endpoint, streams: 50, lines: 50, intervalMs: 100, rampMs: 2_000, timeoutMs: 60_000 }),
    ]);
    const sample = { minute: (Date.now() - started) / 60_000, rss: rssBytes(stack.chat.pid), rate: http.ok / http.seconds, failed: failed(http) };
    samples.push(sample);
    console.log(`${sample.minute.toFixed(1).padStart(6)}   ${(sample.rss / MB).toFixed(1).padStart(13)}   ${sample.rate.toFixed(0).padStart(5)}   ${sample.failed}`);
  }
  // Growth is judged after warm-up: from the first sample past a quarter of the run to the last.
  const settled = samples[Math.floor(samples.length / 4)] ?? samples[0]!;
  const last = samples.at(-1)!;
  const totalFailed = samples.reduce((sum, s) => sum + s.failed, 0);
  console.log(`\nRSS ${(settled.rss / MB).toFixed(1)} MB after warm-up, ${(last.rss / MB).toFixed(1)} MB at the end; ${totalFailed} failed requests`);
  return totalFailed === 0 && last.rss <= settled.rss * FLAT_TOLERANCE;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '100000' },
      connections: { type: 'string', default: '256' },
      streams: { type: 'string', default: '1000' },
      minutes: { type: 'string' },
    },
  });
  const children = new Children();
  const tmp = mkdtempSync(join(os.tmpdir(), 'ollama-gate-load-'));
  let ok = false;
  try {
    const stack = await startStack(children, tmp);
    ok = values.minutes ? await soak(stack, Number(values.minutes)) : await load(stack, Number(values.requests), Number(values.connections), Number(values.streams));
  } finally {
    await children.stopAll();
    if (ok) rmSync(tmp, { recursive: true, force: true });
    else console.log(`logs kept in ${tmp}`);
  }
  process.exitCode = ok ? 0 : 1;
}

await main();
