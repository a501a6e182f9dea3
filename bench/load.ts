/**
 * `npm run load`: the gate under sustained load, for RELIABILITY.md. Every process is separate
 * (fake Ollama, gates, load generator), all on 127.0.0.1, and all stopped when it ends.
 *
 *   npm run load                           200 strangers holding half-sent 15 MiB bodies (memory
 *                                          bounded, key holders still served), then 100,000 requests
 *                                          at 256 connections, twice (memory must stay flat), then
 *                                          1,000 concurrent streams
 *   npm run load -- --requests 20000       a shorter run
 *   npm run soak -- 10                     mixed load for 10 minutes, RSS reported over time
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Children, RssSampler, rssBytes, sleep } from './processes.js';
import { percentile, sorted } from './stats.js';
import type { HttpLoadResult } from './protocol.js';
import { type Gate, type LoadWorker, startGate, startUpstreams, startWorker } from './stack.js';

const MB = 1_000_000;
const CHAT_BODY = JSON.stringify({ model: 'llama3.2:latest', messages: [{ role: 'user', content: 'Why is the sky blue?' }], stream: false });
/** Memory is flat when a second, identical batch leaves RSS at most this much above the first. */
const FLAT_TOLERANCE = 1.1;
/** How long after a batch its memory is read a second time: past the gate's 10 s of quiet and its two collections. */
const QUIET_MS = 13_000;

interface Stack {
  chat: Gate;
  stream: Gate;
  /** a gate of its own for the strangers, so its idle memory is a fresh gate's */
  strangers: Gate;
  worker: LoadWorker;
}

async function startStack(children: Children, tmp: string): Promise<Stack> {
  const { addresses } = await startUpstreams(children, tmp);
  const worker = await startWorker(children, tmp);
  const [chat, stream, strangers] = await Promise.all([
    startGate(children, tmp, 'gate', addresses.fake),
    startGate(children, tmp, 'gate-stream', addresses.stream),
    startGate(children, tmp, 'gate-strangers', addresses.fake),
  ]);
  return { chat, stream, strangers, worker };
}

function chatLoad(stack: Stack, connections: number, amount: number): Promise<HttpLoadResult> {
  return stack.worker.run({
    kind: 'http',
    endpoint: stack.chat.endpoint,
    path: '/api/chat',
    body: CHAT_BODY,
    connections,
    warmupSeconds: 0,
    seconds: 0,
    amount,
  });
}

const failed = (r: HttpLoadResult) => r.non2xx + r.errors + r.timeouts;

type Check = [what: string, ok: boolean, detail: string];

/** How much more memory 200 strangers may make an idle gate hold, and how slow they may make a key holder. */
const STRANGER_RSS_LIMIT = 150 * MB;
const STRANGER_P99_LIMIT_MS = 250;

/**
 * Strangers (no key) each declare a 15 MiB body and stall, all at once, while a key holder keeps
 * asking: half send 7.5 MiB of it, more than the gate reads of a body before it knows the key;
 * the other half 900 KiB, less than that, so the gate holds them until the shared budget is full.
 * The gate may hold little of them, and must go on answering the key holder.
 */
async function strangers(gate: Gate, count: number): Promise<Check[]> {
  const { host, port, key } = gate.endpoint;
  const idle = rssBytes(gate.pid);
  const keyed = async (n: number): Promise<Float64Array> => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      const res = await fetch(`http://${host}:${port}/api/chat`, { method: 'POST', headers: { 'x-api-key': key }, body: CHAT_BODY });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`a key holder got ${res.status} while strangers stalled`);
      times.push(performance.now() - started);
    }
    return sorted(times);
  };
  const before = await keyed(50);
  const sampler = new RssSampler([gate.pid]);
  const declared = 15 * 1024 * 1024;
  const sent = [Buffer.alloc(declared / 2, 'x'), Buffer.alloc(900 * 1024, 'x')];
  const answers = new Map<string, number>();
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        new Promise<Socket>((resolve) => {
          // Each from an address of its own (Linux answers all of 127/8), as strangers on a network are.
          const localAddress = process.platform === 'linux' ? `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}` : undefined;
          const socket = connect({ port, host, localAddress }, () => {
            socket.write(`POST /api/chat HTTP/1.1\r\nHost: gate\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
            socket.write(sent[i % 2]!);
            resolve(socket);
          });
          socket.once('data', (data: Buffer) => {
            const status = /^HTTP\/1\.1 (\d{3})/.exec(data.toString('latin1'))?.[1] ?? 'other';
            answers.set(status, (answers.get(status) ?? 0) + 1);
          });
          socket.on('error', () => undefined);
        }),
    ),
  );
  await sleep(1_000);
  const during = await keyed(50);
  await sleep(2_000);
  const peak = sampler.stop();
  for (const socket of sockets) socket.destroy();
  const stillOpen = count - [...answers.values()].reduce((a, b) => a + b, 0);
  const answered = [...answers].map(([status, n]) => `${n}x ${status}`).join(', ');
  const outcome = `${answered || 'no answers'}${stillOpen ? `, ${stillOpen} held` : ''}`;
  console.log(`strangers: ${outcome}; gate RSS peak ${(peak / MB).toFixed(1)} MB (idle ${(idle / MB).toFixed(1)} MB)`);
  const p = (times: Float64Array, q: number) => percentile(times, q).toFixed(2);
  return [
    [
      `${count} strangers holding half-sent 15 MiB bodies: the gate stays under ${STRANGER_RSS_LIMIT / MB} MB above idle`,
      peak - idle < STRANGER_RSS_LIMIT,
      `peak ${(peak / MB).toFixed(1)} MB, ${((peak - idle) / MB).toFixed(1)} MB above idle; strangers: ${outcome}`,
    ],
    [
      `meanwhile a key holder is answered promptly (p99 <= ${STRANGER_P99_LIMIT_MS} ms)`,
      percentile(during, 99) <= STRANGER_P99_LIMIT_MS,
      `50 sequential chats: p50 ${p(during, 50)} ms, p99 ${p(during, 99)} ms; before the strangers p50 ${p(before, 50)} ms, p99 ${p(before, 99)} ms`,
    ],
  ];
}

async function load(stack: Stack, requests: number, connections: number, streams: number): Promise<boolean> {
  const checks: Check[] = [];
  await sleep(1_000);
  const idle = rssBytes(stack.chat.pid);

  const batches: Array<{ result: HttpLoadResult; rss: number; quietRss: number; seconds: number }> = [];
  for (let batch = 1; batch <= 2; batch++) {
    const started = performance.now();
    const result = await chatLoad(stack, connections, requests);
    const seconds = (performance.now() - started) / 1000;
    await sleep(2_000); // let sockets close
    const rss = rssBytes(stack.chat.pid);
    // The gate hands a burst's heap back once it has been quiet 10 s (IdleCompaction).
    await sleep(QUIET_MS - 2_000);
    batches.push({ result, rss, quietRss: rssBytes(stack.chat.pid), seconds });
    console.log(
      `batch ${batch}: ${result.ok} ok, ${failed(result)} failed in ${seconds.toFixed(1)} s; gate RSS ${(rss / MB).toFixed(1)} MB 2 s later, ${(batches.at(-1)!.quietRss / MB).toFixed(1)} MB once quiet`,
    );
  }
  const [first, second] = batches as [(typeof batches)[0], (typeof batches)[0]];
  checks.push([
    `${requests} requests at ${connections} connections, twice: no errors`,
    failed(first.result) + failed(second.result) === 0 && first.result.ok === requests && second.result.ok === requests,
    `${first.result.ok} + ${second.result.ok} ok, ${failed(first.result) + failed(second.result)} failed`,
  ]);
  const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
  checks.push([
    `memory flat: RSS once quiet after the second batch <= ${FLAT_TOLERANCE}x after the first`,
    second.quietRss <= first.quietRss * FLAT_TOLERANCE,
    `idle ${mb(idle)}; 2 s after batch 1 ${mb(first.rss)}, after batch 2 ${mb(second.rss)}; quiet ${QUIET_MS / 1000} s after batch 1 ${mb(first.quietRss)}, after batch 2 ${mb(second.quietRss)}`,
  ]);

  const sampler = new RssSampler([stack.stream.pid]);
  const result = await stack.worker.run({
    kind: 'streams',
    endpoint: stack.stream.endpoint,
    streams,
    lines: 20,
    intervalMs: 100,
    rampMs: 1_000,
    timeoutMs: 60_000,
  });
  const peak = sampler.stop();
  checks.push(...(await strangers(stack.strangers, 200)));
  checks.push([
    `${streams} concurrent streams all complete`,
    result.completed === streams,
    `${result.completed}/${streams} complete, peak gate RSS ${(peak / MB).toFixed(1)} MB${result.failures.length ? `; failures: ${result.failures.slice(0, 3).join('; ')}` : ''}`,
  ]);

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
    console.log(
      `${sample.minute.toFixed(1).padStart(6)}   ${(sample.rss / MB).toFixed(1).padStart(13)}   ${sample.rate.toFixed(0).padStart(5)}   ${sample.failed}`,
    );
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
    ok = values.minutes
      ? await soak(stack, Number(values.minutes))
      : await load(stack, Number(values.requests), Number(values.connections), Number(values.streams));
  } finally {
    await children.stopAll();
    if (ok) rmSync(tmp, { recursive: true, force: true });
    else console.log(`logs kept in ${tmp}`);
  }
  process.exitCode = ok ? 0 : 1;
}

await main();
