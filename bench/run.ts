/**
 * `npm run bench`: what the gate costs over a direct connection to Ollama, against the bare Node
 * proxies (node:http and undici behind) and against nginx.
 *
 * Processes: the upstreams (fake-server.ts), two gates (`ollama-gate serve`: one in front of the
 * fake Ollama, one in front of the line-stamping stream upstream), two more with two backends each
 * (the same upstream twice: target `gate2`, what routing among several Ollamas costs), the two bare
 * Node proxies (node-proxy.ts: node:http both ways; undici-proxy.ts: node:http in front, undici
 * behind, as the gate forwards), nginx with both upstreams as sites when it is installed, and the
 * load generator (load-worker.ts). Every measurement runs in rounds that rotate the order of the
 * targets, so drift over the run hits all of them alike.
 *
 *   npm run bench                  full run (a few minutes), writes bench/RESULTS.md
 *   npm run bench -- --quick       smoke run (~1 min), prints only
 *   npm run bench -- --profile     CPU profile of the gate under the 64-connection load (--connections N for another)
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NGINX, type Nginx, nginxInstalled, startNginx } from './nginx.js';
import { Children, ForeignLoad, RssSampler, cpuSeconds, rssBytes, rssParts, sleep } from './processes.js';
import { formatProfile, summarizeProfile } from './profile.js';
import type { Endpoint, StreamResult } from './protocol.js';
import {
  type Machine,
  type PerTarget,
  type Row,
  type TargetCheck,
  type TargetName,
  describeMachine,
  formatChecks,
  machineLines,
  renderTable,
} from './report.js';
import {
  CLI,
  type Gate,
  HOST,
  type LoadWorker,
  ROOT,
  answersSince,
  startGate,
  startNodeProxy,
  startUndiciProxy,
  startUpstreams,
  startWorker,
} from './stack.js';
import { percentile, sorted } from './stats.js';

const MB = 1_000_000;

interface Plan {
  rounds: number;
  /** pause after each measurement, so sockets and timers of one target settle before the next */
  settleMs: number;
  idleSettleMs: number;
  /**
   * `warmupSeconds`: unmeasured load before each measurement. A gate left quiet for 10 s after a
   * burst gives its heap back (IdleCompaction), and its next ~1,500 requests run partly unoptimised
   * code again; in the bench every gate is quiet while the other targets take their turns.
   */
  chat: { connections: number[]; warmupSeconds: number; seconds: number };
  /** `warmupLines`: each target first serves one unmeasured batch of this many lines per stream */
  delay: { streams: number; lines: number; intervalMs: number; rampMs: number; warmupLines: number };
  hold: { rounds: number; streams: number; lines: number; intervalMs: number; rampMs: number };
  profileSeconds: number;
  /** how many disturbed measurements may be repeated in one run */
  repeats: number;
  /** how long, in all, the run may wait for a quiet machine before measurements */
  quietWaitMs: number;
}

const FULL: Plan = {
  rounds: 3,
  settleMs: 500,
  idleSettleMs: 3_000,
  chat: { connections: [1, 64], warmupSeconds: 3, seconds: 5 },
  delay: { streams: 50, lines: 60, intervalMs: 20, rampMs: 20, warmupLines: 20 },
  hold: { rounds: 2, streams: 1_000, lines: 50, intervalMs: 100, rampMs: 1_000 },
  profileSeconds: 10,
  repeats: 8,
  quietWaitMs: 30_000,
};

const QUICK: Plan = {
  rounds: 1,
  settleMs: 200,
  idleSettleMs: 1_000,
  chat: { connections: [1, 64], warmupSeconds: 0.5, seconds: 1.5 },
  delay: { streams: 20, lines: 20, intervalMs: 20, rampMs: 20, warmupLines: 5 },
  hold: { rounds: 1, streams: 200, lines: 20, intervalMs: 100, rampMs: 200 },
  profileSeconds: 3,
  repeats: 0,
  quietWaitMs: 0,
};

const CHAT_BODY = JSON.stringify({
  model: 'llama3.2:latest',
  messages: [{ role: 'user', content: 'Why is the sky blue?' }],
  stream: false,
});

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Targets and checks
// ---------------------------------------------------------------------------------------------

interface Target {
  name: TargetName;
  chat: Endpoint;
  stream: Endpoint;
  /** the proxy's processes serving `chat` and `stream` (none for direct), for RSS and CPU */
  chatPids: () => number[];
  streamPids: () => number[];
  /** gate2's two gates, whose logs say which backend answered each request */
  routed?: { chat: Gate; stream: Gate };
}

/** The name gate2 gives its second backend (the default has none of its own). */
const SECOND_BACKEND = 'second';

function endpointOf(url: string, key: string): Endpoint {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port), key };
}

async function post(endpoint: Endpoint, key: string | undefined): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${endpoint.host}:${endpoint.port}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'x-api-key': key }) },
    body: CHAT_BODY,
  });
  return { status: res.status, body: await res.text() };
}

/** Every target answers the bench's request, and the proxies refuse it without the key. */
async function checkTargets(targets: Target[], worker: LoadWorker): Promise<void> {
  for (const t of targets) {
    const ok = await post(t.chat, t.chat.key);
    if (ok.status !== 200 || !ok.body.includes('"message"')) throw new Error(`${t.name}: POST /api/chat answered ${ok.status} ${ok.body.slice(0, 200)}`);
    if (t.name !== 'direct') {
      const none = await post(t.chat, undefined);
      const wrong = await post(t.chat, 'not-the-key');
      if (none.status !== 401 || (wrong.status !== 401 && wrong.status !== 403)) {
        throw new Error(`${t.name}: without a key got ${none.status}, with a wrong key ${wrong.status}`);
      }
    }
    const streams = await worker.run({ kind: 'streams', endpoint: t.stream, streams: 2, lines: 5, intervalMs: 2, rampMs: 0, timeoutMs: 10_000 });
    if (streams.completed !== 2) throw new Error(`${t.name}: test stream failed: ${streams.failures.join('; ')}`);
  }
}

const rotate = <T>(items: readonly T[], by: number): T[] => items.map((_, i) => items[(i + by) % items.length] as T);
const sumCpu = (pids: number[]): number => pids.reduce((total, pid) => total + cpuSeconds(pid), 0);
const sumRss = (pids: number[]): number => pids.reduce((total, pid) => total + rssBytes(pid), 0);

/** gate2's answers in a measurement (warm-up included), and how many its second backend gave. */
interface Routed {
  answers: number;
  bySecond: number;
}

/** Adds what gate2's log counted to its totals; the text for the measurement's log line. */
function addRouted(totals: Routed, counted: { answers: number; byBackend: number } | undefined): string {
  if (!counted) return '';
  const { answers, byBackend } = counted;
  totals.answers += answers;
  totals.bySecond += byBackend;
  return `  ${pct(byBackend, answers)} by ${SECOND_BACKEND}`;
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

interface ChatTotals {
  /** req/s of each round */
  rounds: number[];
  ok: number;
  seconds: number;
  failures: number;
  latencies: number[];
  /** the proxy's CPU seconds (user + system) over warm-up and measurement */
  cpuSeconds: number;
  /** answers in warm-up and measurement, estimated: the measured rate over both */
  answers: number;
  routed: Routed;
}

interface StreamTotals {
  streams: number;
  completed: number;
  failures: Set<string>;
  lines: number;
  readsWithLines: number;
  mergedReads: number;
  delays: number[];
  cpuSeconds: number;
  peakRss: number;
  routed: Routed;
}

const emptyStreams = (): StreamTotals => ({
  streams: 0,
  completed: 0,
  failures: new Set(),
  lines: 0,
  readsWithLines: 0,
  mergedReads: 0,
  delays: [],
  cpuSeconds: 0,
  peakRss: 0,
  routed: { answers: 0, bySecond: 0 },
});

function addStreams(totals: StreamTotals, r: StreamResult): void {
  totals.streams += r.streams;
  totals.completed += r.completed;
  for (const f of r.failures) totals.failures.add(f);
  totals.lines += r.lines;
  totals.readsWithLines += r.readsWithLines;
  totals.mergedReads += r.mergedReads;
  for (const d of r.delaysMs) totals.delays.push(d);
}

interface Results {
  targets: TargetName[];
  chat: Map<string, ChatTotals>; // `${target}|${connections}`
  delay: Map<TargetName, StreamTotals>;
  hold: Map<TargetName, StreamTotals>;
  idleFresh: PerTarget;
  idleAfter: PerTarget;
  /** the fresh gates' RSS split into anonymous memory and mapped files (node binary, libraries) */
  gateIdleParts: string;
  /** on average, how many cores other processes on the machine kept busy while the bench measured */
  foreignCores: number;
  /** measurements done again because other processes disturbed them */
  repeats: number;
}

/** What every measurement needs, and the budget for repeating ones that other processes disturbed. */
interface Bench {
  plan: Plan;
  targets: Target[];
  worker: LoadWorker;
  results: Results;
  foreign: ForeignLoad;
  repeatsLeft: number;
  /** how long the run may still wait for other processes to calm down */
  waitLeftMs: number;
}

/** Others may use this many cores during a measurement before it is repeated (while the budget lasts). */
const FOREIGN_LIMIT = 0.25;

/**
 * Runs one measurement when the machine is quiet enough. If other processes took more than
 * FOREIGN_LIMIT cores meanwhile, it is measured once more (while the run's repeat budget lasts) and
 * the less disturbed of the two kept.
 */
async function measure<T>(bench: Bench, label: string, run: () => Promise<T>): Promise<{ value: T; others: string }> {
  let kept: { value: T; busy: number } | undefined;
  for (let attempt = 1; attempt <= 2; attempt++) {
    const waitStart = performance.now();
    if (bench.waitLeftMs > 0) await bench.foreign.waitQuiet(FOREIGN_LIMIT / 2, Math.min(2_000, bench.waitLeftMs));
    bench.waitLeftMs -= performance.now() - waitStart;
    const since = bench.foreign.start();
    const value = await run();
    const busy = since();
    await sleep(bench.plan.settleMs);
    if (!kept || busy < kept.busy) kept = { value, busy };
    if (busy <= FOREIGN_LIMIT || bench.repeatsLeft <= 0) break;
    if (attempt === 1) {
      bench.repeatsLeft--;
      bench.results.repeats++;
      log(`  ${label.trimEnd()}: other processes kept ${busy.toFixed(2)} cores busy, measuring again`);
    }
  }
  if (!kept) throw new Error('unreachable: a measurement ran at least once');
  return { value: kept.value, others: `others ${kept.busy.toFixed(2)} cores` };
}

async function measureChat(bench: Bench): Promise<void> {
  const { plan, results } = bench;
  for (let round = 0; round < plan.rounds; round++) {
    for (const connections of plan.chat.connections) {
      for (const t of rotate(bench.targets, round)) {
        const label = `chat   round ${round + 1}/${plan.rounds}  c=${String(connections).padEnd(3)} ${t.name.padEnd(7)}`;
        const {
          value: { result: r, cpu, counted },
          others,
        } = await measure(bench, label, async () => {
          const cpuBefore = sumCpu(t.chatPids());
          const counting = t.routed && answersSince(t.routed.chat, SECOND_BACKEND);
          const result = await bench.worker.run({
            kind: 'http',
            endpoint: t.chat,
            path: '/api/chat',
            body: CHAT_BODY,
            connections,
            warmupSeconds: plan.chat.warmupSeconds,
            seconds: plan.chat.seconds,
          });
          const cpu = sumCpu(t.chatPids()) - cpuBefore;
          return { result, cpu, counted: await counting?.() };
        });
        const key = `${t.name}|${connections}`;
        const totals = results.chat.get(key) ?? {
          rounds: [],
          ok: 0,
          seconds: 0,
          failures: 0,
          latencies: [],
          cpuSeconds: 0,
          answers: 0,
          routed: { answers: 0, bySecond: 0 },
        };
        const routed = addRouted(totals.routed, counted);
        totals.cpuSeconds += cpu;
        totals.answers += (r.ok / r.seconds) * (plan.chat.warmupSeconds + r.seconds);
        totals.rounds.push(r.ok / r.seconds);
        totals.ok += r.ok;
        totals.seconds += r.seconds;
        totals.failures += r.non2xx + r.errors + r.timeouts;
        for (const l of r.latenciesMs) totals.latencies.push(l);
        results.chat.set(key, totals);
        const lat = sorted(r.latenciesMs);
        log(
          `  ${label}${Math.round(r.ok / r.seconds)
            .toLocaleString('en-US')
            .padStart(8)} req/s  p50 ${percentile(lat, 50).toFixed(3)} ms` +
            `  p99 ${percentile(lat, 99).toFixed(3)} ms${routed}  (${others})` +
            (r.non2xx + r.errors + r.timeouts ? `  ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts` : ''),
        );
      }
    }
  }
}

async function measureStreams(bench: Bench, kind: 'delay' | 'hold'): Promise<void> {
  const { plan } = bench;
  const into = kind === 'delay' ? bench.results.delay : bench.results.hold;
  const shape = kind === 'delay' ? plan.delay : plan.hold;
  const rounds = kind === 'delay' ? plan.rounds : plan.hold.rounds;
  // gate2 is there for what routing costs per request and per line; a thousand held streams would
  // only repeat gate's memory figure with a second pool, at the cost of a longer run.
  const targets = kind === 'delay' ? bench.targets : bench.targets.filter((t) => !t.routed);
  if (kind === 'delay') {
    // Like the chat load's warm-up: the gate in front of the stream upstream has served only the
    // bench's check requests when this starts, while the bare proxies' code was warmed by the chat
    // load. Unmeasured, every target alike.
    for (const t of bench.targets) {
      const { streams, intervalMs, rampMs, warmupLines: lines } = plan.delay;
      await bench.worker.run({ kind: 'streams', endpoint: t.stream, streams, lines, intervalMs, rampMs, timeoutMs: rampMs + lines * intervalMs + 60_000 });
    }
    await sleep(plan.settleMs);
  }
  for (let round = 0; round < rounds; round++) {
    for (const t of rotate(targets, round)) {
      const label = `${kind.padEnd(6)} round ${round + 1}/${rounds}  x${String(shape.streams).padEnd(5)} ${t.name.padEnd(7)}`;
      const pids = t.streamPids();
      const { value, others } = await measure(bench, label, async () => {
        const cpuBefore = sumCpu(pids);
        const sampler = new RssSampler(pids);
        const counting = t.routed && answersSince(t.routed.stream, SECOND_BACKEND);
        const result = await bench.worker.run({
          kind: 'streams',
          endpoint: t.stream,
          streams: shape.streams,
          lines: shape.lines,
          intervalMs: shape.intervalMs,
          rampMs: shape.rampMs,
          timeoutMs: shape.rampMs + shape.lines * shape.intervalMs + 60_000,
        });
        return { result, peak: sampler.stop(), cpu: sumCpu(pids) - cpuBefore, counted: await counting?.() };
      });
      const { result: r, peak, cpu, counted } = value;
      const totals = into.get(t.name) ?? emptyStreams();
      addStreams(totals, r);
      const routed = addRouted(totals.routed, counted);
      totals.cpuSeconds += cpu;
      totals.peakRss = Math.max(totals.peakRss, peak);
      into.set(t.name, totals);
      const d = sorted(r.delaysMs);
      log(
        `  ${label} ${r.completed}/${r.streams} complete  delay p50 ${percentile(d, 50).toFixed(3)} ms  p99 ${percentile(d, 99).toFixed(3)} ms` +
          `  merged ${pct(r.mergedReads, r.readsWithLines)}${routed}` +
          (pids.length ? `  peak RSS ${(peak / MB).toFixed(1)} MB` : '') +
          `  (${others})` +
          (r.failures.length ? `  failures: ${r.failures.join('; ')}` : ''),
      );
    }
  }
}

const pct = (part: number, whole: number): string => (whole ? `${((100 * part) / whole).toFixed(2)}%` : '-');

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/** Each of `targets`' value, where it has one. */
function perTarget(targets: readonly TargetName[], f: (t: TargetName) => number | undefined): PerTarget {
  const values: PerTarget = {};
  for (const t of targets) {
    const v = f(t);
    if (v !== undefined) values[t] = v;
  }
  return values;
}

type PerFunction = (f: (t: TargetName) => number | undefined) => PerTarget;
type ChatOf = (t: TargetName) => ChatTotals | undefined;

/** Requests per second at `c` connections, per target. */
function chatRateRow(c: number, per: PerFunction, chat: ChatOf): Row {
  return {
    label: `chat c=${c}: req/s`,
    values: per((t) => {
      const x = chat(t);
      return x ? x.ok / x.seconds : undefined;
    }),
    digits: 0,
    compare: 'ratio',
  };
}

/** The proxy's CPU per answer at `c` connections (direct has no proxy). */
function chatCpuRow(c: number, per: PerFunction, chat: ChatOf): Row {
  return {
    label: `chat c=${c}: proxy CPU per request (us)`,
    values: per((t) => {
      const x = chat(t);
      return t === 'direct' || !x?.answers ? undefined : (x.cpuSeconds / x.answers) * 1e6;
    }),
    digits: 1,
    compare: 'ratio',
  };
}

function buildRows(plan: Plan, results: Results): Row[] {
  const per = (f: (t: TargetName) => number | undefined): PerTarget => perTarget(results.targets, f);
  const rows: Row[] = [];
  for (const c of plan.chat.connections) {
    const chat = (t: TargetName) => results.chat.get(`${t}|${c}`);
    const lat = new Map(results.targets.map((t) => [t, sorted(chat(t)?.latencies ?? [])]));
    rows.push(
      chatRateRow(c, per, chat),
      { label: `chat c=${c}: latency p50 (ms)`, values: per((t) => percentile(lat.get(t) ?? [], 50)), digits: 3, compare: 'diff', unit: 'ms' },
      { label: `chat c=${c}: latency p99 (ms)`, values: per((t) => percentile(lat.get(t) ?? [], 99)), digits: 3, compare: 'diff', unit: 'ms' },
      // What the proxy itself spends, whatever the others on the machine did: the cost the ratios above come from.
      chatCpuRow(c, per, chat),
    );
  }
  const streamRows = (label: string, map: Map<TargetName, StreamTotals>, withResources: boolean): void => {
    const delays = new Map(results.targets.map((t) => [t, sorted(map.get(t)?.delays ?? [])]));
    rows.push(
      {
        label: `${label}: completed`,
        values: per((t) => map.get(t)?.completed),
        digits: 0,
        compare: 'none',
        text: Object.fromEntries(results.targets.map((t) => [t, `${map.get(t)?.completed ?? 0}/${map.get(t)?.streams ?? 0}`])),
      },
      { label: `${label}: line delay p50 (ms)`, values: per((t) => percentile(delays.get(t) ?? [], 50)), digits: 3, compare: 'diff', unit: 'ms' },
      { label: `${label}: line delay p99 (ms)`, values: per((t) => percentile(delays.get(t) ?? [], 99)), digits: 3, compare: 'diff', unit: 'ms' },
      {
        label: `${label}: reads with merged lines (%)`,
        values: per((t) => {
          const x = map.get(t);
          return x?.readsWithLines ? (100 * x.mergedReads) / x.readsWithLines : undefined;
        }),
        digits: 2,
        compare: 'diff',
        unit: 'pp',
      },
    );
    if (withResources) {
      rows.push(
        // The bare proxies run through tsx, whose loader would be in their RSS.
        {
          label: `${label}: peak RSS (MB)`,
          values: per((t) => (t === 'direct' || t === 'node' || t === 'undici' ? undefined : (map.get(t)?.peakRss ?? 0) / MB)),
          digits: 1,
          compare: 'ratio',
        },
        {
          label: `${label}: CPU s per 100k lines`,
          values: per((t) => {
            const x = map.get(t);
            return t === 'direct' || !x?.lines ? undefined : (x.cpuSeconds / x.lines) * 100_000;
          }),
          digits: 2,
          compare: 'ratio',
        },
      );
    }
  };
  streamRows(`stream x${plan.delay.streams}`, results.delay, false);
  streamRows(`streams x${plan.hold.streams}`, results.hold, true);
  rows.push(
    { label: 'idle RSS, fresh (MB)', values: scale(results.idleFresh), digits: 1, compare: 'ratio' },
    { label: 'idle RSS, after the run (MB)', values: scale(results.idleAfter), digits: 1, compare: 'ratio' },
  );
  return rows;
}

/** What a second backend costs: gate2 against gate, in the measurements both take part in. */
function buildBackendRows(plan: Plan, results: Results): Row[] {
  const per = (f: (t: TargetName) => number | undefined): PerTarget => perTarget(['gate', 'gate2'], f);
  const bySecond = (routed: Routed | undefined) => (routed?.answers ? (100 * routed.bySecond) / routed.answers : undefined);
  const rows: Row[] = [];
  for (const c of plan.chat.connections) {
    const chat = (t: TargetName) => results.chat.get(`${t}|${c}`);
    // Over direct, as the targets are stated; between gate2 and gate direct cancels out.
    const added = (t: TargetName, q: number) => percentile(sorted(chat(t)?.latencies ?? []), q) - percentile(sorted(chat('direct')?.latencies ?? []), q);
    rows.push(
      chatRateRow(c, per, chat),
      { label: `chat c=${c}: added latency p50 (ms)`, values: per((t) => added(t, 50)), digits: 3, compare: 'diff', unit: 'ms' },
      { label: `chat c=${c}: added latency p99 (ms)`, values: per((t) => added(t, 99)), digits: 3, compare: 'diff', unit: 'ms' },
      chatCpuRow(c, per, chat),
      { label: `chat c=${c}: answered by ${SECOND_BACKEND} (%)`, values: per((t) => bySecond(chat(t)?.routed)), digits: 1, compare: 'none' },
    );
  }
  const delays = (t: TargetName) => sorted(results.delay.get(t)?.delays ?? []);
  const label = `stream x${plan.delay.streams}`;
  rows.push(
    { label: `${label}: line delay p50 (ms)`, values: per((t) => percentile(delays(t), 50)), digits: 3, compare: 'diff', unit: 'ms' },
    { label: `${label}: line delay p99 (ms)`, values: per((t) => percentile(delays(t), 99)), digits: 3, compare: 'diff', unit: 'ms' },
    { label: `${label}: answered by ${SECOND_BACKEND} (%)`, values: per((t) => bySecond(results.delay.get(t)?.routed)), digits: 1, compare: 'none' },
  );
  return rows;
}

/** The two figures asked of several backends: throughput at 64 connections and added latency at 1, two backends against one. */
function backendsSummary(results: Results): string {
  const rate = (t: TargetName) => {
    const x = results.chat.get(`${t}|64`);
    return x ? x.ok / x.seconds : Number.NaN;
  };
  const added = (t: TargetName) => {
    const p50 = (of: TargetName) => percentile(sorted(results.chat.get(`${of}|1`)?.latencies ?? []), 50);
    return p50(t) - p50('direct');
  };
  const diff = added('gate2') - added('gate');
  return (
    `two backends / one: throughput at 64 connections ${(rate('gate2') / rate('gate')).toFixed(2)}x (${rate('gate2').toFixed(0)} vs ${rate('gate').toFixed(0)} req/s); ` +
    `added latency p50 at 1 connection ${diff >= 0 ? '+' : ''}${diff.toFixed(3)} ms (${added('gate2').toFixed(3)} vs ${added('gate').toFixed(3)} ms over direct)`
  );
}

const BACKENDS_INTRO =
  `gate2 forwards to two backends: the fake Ollama twice, as the default and as "${SECOND_BACKEND}" (its stream twin: the stream upstream twice). ` +
  'So it does the routing work of several Ollamas (which backends have the model, requests in flight, a connection pool each) ' +
  'with the same upstream capacity as gate. It is measured in the same rounds as the other targets. ' +
  'Ratios are gate2 / gate; differences gate2 minus gate.';

const scale = (values: PerTarget): PerTarget => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v / MB]));

/**
 * The performance targets, judged at the end of a full run:
 * - throughput at 64 connections >= 0.75 of nginx's and >= 0.95 of the bare undici proxy's;
 * - added latency at 1 connection <= 0.3 ms at p50 over direct;
 * - stream line delay p99 within 0.3 ms of the bare undici proxy's;
 * - 1,000 concurrent streams (all complete) under 150 MB RSS;
 * - idle headless RSS <= 80 MB.
 */
function checkTargetsMet(plan: Plan, results: Results): TargetCheck[] {
  const hasNginx = results.targets.includes('nginx');
  const rps = (t: TargetName) => {
    const x = results.chat.get(`${t}|64`);
    return x ? x.ok / x.seconds : Number.NaN;
  };
  const p = (values: number[] | undefined, q: number) => percentile(sorted(values ?? []), q);
  const checks: TargetCheck[] = [];

  const vsNginx = rps('gate') / rps('nginx');
  const vsUndici = rps('gate') / rps('undici');
  const undiciOk = vsUndici >= 0.95;
  checks.push({
    met: hasNginx ? vsNginx >= 0.75 && undiciOk : null,
    text:
      `throughput at 64 connections >= 0.75 of nginx and >= 0.95 of the bare undici proxy: gate ${rps('gate').toFixed(0)} req/s = ` +
      `${hasNginx ? `${vsNginx.toFixed(2)} of nginx (${rps('nginx').toFixed(0)}), ` : ''}${vsUndici.toFixed(2)} of undici (${rps('undici').toFixed(0)})` +
      (hasNginx ? '' : `; nginx not installed, undici part ${undiciOk ? 'met' : 'missed'}`),
  });

  const added = p(results.chat.get('gate|1')?.latencies, 50) - p(results.chat.get('direct|1')?.latencies, 50);
  checks.push({ met: added <= 0.3, text: `added latency at 1 connection <= 0.3 ms at p50: ${added >= 0 ? '+' : ''}${added.toFixed(3)} ms over direct` });

  const gateP99 = p(results.delay.get('gate')?.delays, 99);
  const undiciP99 = p(results.delay.get('undici')?.delays, 99);
  const p99Gap = gateP99 - undiciP99;
  checks.push({
    met: p99Gap <= 0.3,
    text:
      `stream line delay p99 within 0.3 ms of the bare undici proxy (x${plan.delay.streams} streams): ` +
      `gate ${gateP99.toFixed(3)} ms vs undici ${undiciP99.toFixed(3)} ms (${p99Gap >= 0 ? '+' : ''}${p99Gap.toFixed(3)} ms)`,
  });

  const hold = results.hold.get('gate');
  const peak = (hold?.peakRss ?? 0) / MB;
  const allDone = hold !== undefined && hold.completed === hold.streams;
  checks.push({
    met: plan.hold.streams < 1_000 ? null : allDone && peak < 150,
    text:
      `${plan.hold.streams} concurrent streams, all complete, under 150 MB RSS: ${hold?.completed ?? 0}/${hold?.streams ?? 0} complete, ` +
      `peak RSS ${peak.toFixed(1)} MB` +
      (plan.hold.streams < 1_000 ? ' (quick run: fewer than 1,000 streams, not judged)' : ''),
  });

  const idle = (results.idleFresh.gate ?? 0) / MB;
  checks.push({
    met: idle <= 80,
    text: `idle headless RSS <= 80 MB: ${idle.toFixed(1)} MB fresh (larger of the two gate processes), ${((results.idleAfter.gate ?? 0) / MB).toFixed(1)} MB idle after the run`,
  });
  return checks;
}

/** Conditions worth knowing when reading the figures: load from elsewhere, spread between rounds, memory split. */
function notes(plan: Plan, results: Results): string[] {
  const lines = [
    `Other processes kept ${results.foreignCores.toFixed(2)} of ${os.availableParallelism()} cores busy on average while the bench measured` +
      (results.foreignCores > 0.1 ? ' - the machine was not quiet, so the figures are noisier than usual' : '') +
      `; ${results.repeats} measurements were repeated (keeping the less disturbed attempt) because others took over ${FOREIGN_LIMIT} cores during them` +
      ' (the per-measurement log says how busy others kept the machine during each measurement that was kept).',
    `Idle RSS when fresh: ${results.gateIdleParts}.`,
  ];
  for (const c of plan.chat.connections) {
    const perRound = results.targets.map((t) => `${t} ${(results.chat.get(`${t}|${c}`)?.rounds ?? []).map((r) => r.toFixed(0)).join(' / ')}`);
    lines.push(`chat c=${c} req/s per round: ${perRound.join('; ')}.`);
  }
  for (const [key, totals] of results.chat) {
    if (totals.failures) lines.push(`chat ${key.replace('|', ' c=')}: ${totals.failures} requests failed (non-2xx, errors or timeouts).`);
  }
  for (const [kind, map] of [
    ['stream delay', results.delay],
    ['held streams', results.hold],
  ] as const) {
    for (const [target, totals] of map) {
      if (totals.failures.size) lines.push(`${kind}, ${target}: ${[...totals.failures].join('; ')}.`);
    }
  }
  return lines;
}

function resultsMarkdown(
  machine: Machine,
  command: string,
  started: Date,
  seconds: number,
  plan: Plan,
  results: Results,
  table: string,
  backendsTable: string,
  checks: string,
): string {
  return `# Benchmark results

Generated by \`${command}\` on ${started.toISOString()} (took ${seconds.toFixed(0)} s). See [README.md](README.md) for what is measured.

## Machine

${machineLines(machine)
  .map((l) => `- ${l}`)
  .join('\n')}

## Results

Ratios are gate / other; differences are gate minus other (ms, or percentage points for merged reads).

\`\`\`
${table}
\`\`\`

## Several backends

${BACKENDS_INTRO}

\`\`\`
${backendsSummary(results)}

${backendsTable}
\`\`\`

## Targets

\`\`\`
${checks}
\`\`\`

## Notes

${notes(plan, results)
  .map((l) => `- ${l}`)
  .join('\n')}

<details><summary>Log of every measurement</summary>

\`\`\`
${transcript.filter((l) => l.startsWith('  ')).join('\n')}
\`\`\`

</details>

## Method

- Interleaved: ${plan.rounds} rounds; in each, every target is measured in turn, the order rotating per round.
- Chat: \`POST /api/chat\` (\`"stream":false\`, X-API-Key) through autocannon, ${plan.chat.warmupSeconds} s warm-up then
  ${plan.chat.seconds} s per target, connection count and round. Latency percentiles pool every 200 answer of all rounds,
  timed per response in the load generator (autocannon's own histogram keeps whole milliseconds only).
  Proxy CPU per request: the proxy's utime + stime from /proc over warm-up and measurement, divided by the answers
  of both (the warm-up's counted at the measured rate). On a 2-core machine shared by load generator, upstream and
  proxy, this cost is what decides the throughput ratios.
- Stream delay: ${plan.delay.streams} concurrent streams of ${plan.delay.lines} lines every ${plan.delay.intervalMs} ms, ${plan.rounds} rounds, after one unmeasured
  batch of ${plan.delay.warmupLines} lines per stream through every target (as the chat load's warm-up); each line carries
  the upstream's \`process.hrtime.bigint()\` at write time (CLOCK_MONOTONIC, common to all processes), subtracted from the
  client's reading at the socket read. A merged read is one socket read that delivered two or more complete lines.
- Held streams: ${plan.hold.streams} concurrent streams (started over ${plan.hold.rampMs} ms) of ${plan.hold.lines} lines every ${plan.hold.intervalMs} ms,
  ${plan.hold.rounds} rounds; RSS of the proxy (nginx: master + worker) sampled every 50 ms from /proc; CPU from /proc/PID/stat
  (utime + stime) over the run, divided by the lines the client received.
- Two gate processes run side by side: one in front of the fake Ollama (chat), one in front of the stamping stream
  upstream (streams); the held-stream and RSS figures are the second's, idle RSS the larger of the two.
- gate2: two more gate processes, each started with its upstream twice (\`--upstream URL --upstream ${SECOND_BACKEND}=URL\`)
  and measured once /health shows both backends reachable with models; they take part in the chat and stream-delay
  rounds, not in the held streams. The share answered by ${SECOND_BACKEND} counts the \`backend=${SECOND_BACKEND}\` lines in their logs.
- node: bench/node-proxy.ts, a bare Node proxy (node:http both ways, keep-alive, the same key check as nginx and nothing
  else), run through tsx (its RSS is not shown: the loader's would be in it). What the gate costs over it is the gate's
  own work; what it costs over nginx is Node's HTTP stack.
- undici: bench/undici-proxy.ts, the same with undici behind (node:http server in front, one undici \`Pool\` per upstream,
  keep-alive, \`pool.dispatch\` with a controller handler, backpressure both ways, the same key check and nothing else),
  run through tsx (RSS not shown). The gate forwards with undici, so this is its floor: what the gate costs over it is
  the gate's own work.
- nginx: one worker, \`map $http_x_api_key\` (401 unless the key matches), \`proxy_buffering off\`, HTTP/1.1 upstream
  keep-alive, access log on (the gate logs every request too).
`;
}

// ---------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------

/** Everything logged, for the per-measurement section of RESULTS.md. */
const transcript: string[] = [];

function log(line: string): void {
  transcript.push(line);
  process.stdout.write(`${line}\n`);
}

async function benchmark(plan: Plan, quick: boolean, children: Children, tmp: string): Promise<void> {
  const started = new Date();
  const t0 = performance.now();
  const haveNginx = nginxInstalled();
  const machine = describeMachine(haveNginx ? '' : 'not installed');

  log(
    'Starting the upstreams, two gates, two more with two backends each, the bare node:http and undici proxies' +
      (haveNginx ? ', nginx' : '') +
      ' and the load generator…',
  );
  const { addresses } = await startUpstreams(children, tmp);
  const gateChat = await startGate(children, tmp, 'gate-chat', addresses.fake);
  const gateStream = await startGate(children, tmp, 'gate-stream', addresses.stream);
  // The same upstream under a second name: the routing work of two backends, the upstream capacity of one.
  const gate2Chat = await startGate(children, tmp, 'gate2-chat', addresses.fake, { moreUpstreams: [`${SECOND_BACKEND}=${addresses.fake}`] });
  const gate2Stream = await startGate(children, tmp, 'gate2-stream', addresses.stream, { moreUpstreams: [`${SECOND_BACKEND}=${addresses.stream}`] });
  let nginx: Nginx | undefined;
  if (haveNginx) {
    nginx = await startNginx(
      children,
      join(tmp, 'nginx'),
      [
        { name: 'chat', upstreamPort: Number(new URL(addresses.fake).port) },
        { name: 'stream', upstreamPort: Number(new URL(addresses.stream).port) },
      ],
      [gateChat.endpoint.key],
    );
    machine.nginx = nginx.version;
  } else {
    log(`  note: ${NGINX} not found, so nginx is skipped (Debian: apt-get install nginx)`);
  }
  const nodeProxy = await startNodeProxy(children, tmp, gateChat.endpoint.key, [addresses.fake, addresses.stream]);
  const undiciProxy = await startUndiciProxy(children, tmp, gateChat.endpoint.key, [addresses.fake, addresses.stream]);
  const worker = await startWorker(children, tmp);

  const targets: Target[] = [
    { name: 'direct', chat: endpointOf(addresses.fake, 'unused'), stream: endpointOf(addresses.stream, 'unused'), chatPids: () => [], streamPids: () => [] },
    { name: 'gate', chat: gateChat.endpoint, stream: gateStream.endpoint, chatPids: () => [gateChat.pid], streamPids: () => [gateStream.pid] },
    // Next to gate, so the rotating order measures the two one after the other in most rounds.
    {
      name: 'gate2',
      chat: gate2Chat.endpoint,
      stream: gate2Stream.endpoint,
      chatPids: () => [gate2Chat.pid],
      streamPids: () => [gate2Stream.pid],
      routed: { chat: gate2Chat, stream: gate2Stream },
    },
    {
      name: 'node',
      chat: { host: HOST, port: nodeProxy.ports[0] ?? 0, key: gateChat.endpoint.key },
      stream: { host: HOST, port: nodeProxy.ports[1] ?? 0, key: gateChat.endpoint.key },
      chatPids: () => [nodeProxy.pid],
      streamPids: () => [nodeProxy.pid],
    },
    {
      name: 'undici',
      chat: { host: HOST, port: undiciProxy.ports[0] ?? 0, key: gateChat.endpoint.key },
      stream: { host: HOST, port: undiciProxy.ports[1] ?? 0, key: gateChat.endpoint.key },
      chatPids: () => [undiciProxy.pid],
      streamPids: () => [undiciProxy.pid],
    },
  ];
  if (nginx) {
    const ports = nginx.ports;
    const key = gateChat.endpoint.key;
    const pids = nginx.pids;
    targets.push({
      name: 'nginx',
      chat: { host: HOST, port: ports.get('chat') ?? 0, key },
      stream: { host: HOST, port: ports.get('stream') ?? 0, key },
      chatPids: pids,
      streamPids: pids,
    });
  }
  await sleep(plan.idleSettleMs);
  const idleOf = (pid: number) => ({ rss: rssBytes(pid), ...rssParts(pid) });
  const idleChat = idleOf(gateChat.pid);
  const idleStream = idleOf(gateStream.pid);
  const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
  const results: Results = {
    targets: targets.map((t) => t.name),
    chat: new Map(),
    delay: new Map(),
    hold: new Map(),
    idleFresh: { gate: Math.max(idleChat.rss, idleStream.rss) },
    idleAfter: {},
    gateIdleParts: [idleChat, idleStream]
      .map((x, i) => `${i ? 'gate-stream' : 'gate-chat'} ${mb(x.rss)} (anonymous ${mb(x.anon)}, mapped files ${mb(x.file)})`)
      .join(', '),
    foreignCores: 0,
    repeats: 0,
  };
  if (nginx) results.idleFresh.nginx = sumRss(nginx.pids());
  log(`  idle RSS: ${results.gateIdleParts}` + (nginx ? `; nginx ${mb(results.idleFresh.nginx ?? 0)}` : ''));

  // What the rest of the machine does meanwhile: other work on 2 cores skews every figure.
  const foreign = new ForeignLoad(() => sumCpu(children.pids()) + (process.cpuUsage().user + process.cpuUsage().system) / 1e6);
  const bench: Bench = { plan, targets, worker, results, foreign, repeatsLeft: plan.repeats, waitLeftMs: plan.quietWaitMs };
  const overall = foreign.start();

  await checkTargets(targets, worker);
  log('Chat, non-streaming:');
  await measureChat(bench);
  log('Stream line delay:');
  await measureStreams(bench, 'delay');
  log('Many concurrent streams:');
  await measureStreams(bench, 'hold');
  results.foreignCores = overall();
  log(
    `  other processes on this machine kept ${results.foreignCores.toFixed(2)} of ${os.availableParallelism()} cores busy meanwhile; ${results.repeats} measurements repeated`,
  );

  await sleep(plan.idleSettleMs + 2_000);
  results.idleAfter.gate = Math.max(rssBytes(gateChat.pid), rssBytes(gateStream.pid));
  if (nginx) results.idleAfter.nginx = sumRss(nginx.pids());

  const seconds = (performance.now() - t0) / 1000;
  const table = renderTable(
    buildRows(plan, results),
    results.targets.filter((t) => t !== 'gate2'),
  );
  const backendsTable = renderTable(buildBackendRows(plan, results), ['gate', 'gate2'], 'gate2', ['gate']);
  const checks = formatChecks(checkTargetsMet(plan, results));
  const command = commandLine();
  log('');
  log(machineLines(machine).join('\n'));
  log(`Date: ${started.toISOString()}   Command: ${command}   Took: ${seconds.toFixed(0)} s`);
  log('');
  log(table);
  log('');
  log('Several backends (gate2: the gate with two):');
  log(backendsSummary(results));
  log(backendsTable);
  log('');
  log(checks);
  log('');
  log(notes(plan, results).join('\n'));
  if (quick) {
    log('\n(quick run: bench/RESULTS.md is left as it was)');
  } else {
    writeFileSync(join(ROOT, 'bench/RESULTS.md'), resultsMarkdown(machine, command, started, seconds, plan, results, table, backendsTable, checks));
    log('\nWrote bench/RESULTS.md');
  }
}

/** One gate under the 64-connection chat load with `node --cpu-prof`, then its hottest functions. */
async function profile(plan: Plan, connections: number, children: Children, tmp: string): Promise<void> {
  const profileDir = join(tmp, 'cpu-profile');
  const { addresses } = await startUpstreams(children, tmp);
  const gate = await startGate(children, tmp, 'gate-profiled', addresses.fake, { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDir] });
  const worker = await startWorker(children, tmp);
  log(`Profiling the gate (pid ${gate.pid}) under ${connections} connection${connections === 1 ? '' : 's'} for ${plan.profileSeconds} s…`);
  const r = await worker.run({
    kind: 'http',
    endpoint: gate.endpoint,
    path: '/api/chat',
    body: CHAT_BODY,
    connections,
    warmupSeconds: 1,
    seconds: plan.profileSeconds,
  });
  log(`  ${Math.round(r.ok / r.seconds)} req/s during the profile (profiling slows the gate down)`);
  await children.stop(gate.child, 15_000); // the profile is written as the process exits
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('the gate wrote no .cpuprofile (did it exit on SIGTERM?)');
  const kept = join(os.tmpdir(), `ollama-gate-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  copyFileSync(join(profileDir, file), kept);
  log('');
  log(formatProfile(summarizeProfile(kept, ROOT)));
  log(`\nRaw profile (open in Chrome DevTools > Performance, or speedscope): ${kept}`);
}

function commandLine(): string {
  const args = process.argv.slice(2).join(' ');
  return process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args ? ` -- ${args}` : ''}` : `npx tsx bench/run.ts${args ? ` ${args}` : ''}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      connections: { type: 'string', default: '64' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    log('usage: npm run bench [-- --quick] [-- --profile [--connections N]]   (see bench/README.md)');
    return;
  }
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p tsconfig.build.json), or use npm run bench`);
  const plan = values.quick ? QUICK : FULL;
  const tmp = mkdtempSync(join(os.tmpdir(), 'ollama-gate-bench-'));
  const children = new Children();
  const interrupted = (signal: string) => {
    process.stderr.write(`\n${signal}: stopping the bench (logs in ${tmp})\n`);
    process.exit(130); // the 'exit' handler signals every child
  };
  process.once('SIGINT', () => interrupted('SIGINT'));
  process.once('SIGTERM', () => interrupted('SIGTERM'));
  let failed = false;
  try {
    if (values.profile) await profile(plan, Number(values.connections), children, tmp);
    else await benchmark(plan, values.quick, children, tmp);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await children.stopAll();
    if (failed) process.stderr.write(`bench failed; the processes' logs are in ${tmp}\n`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
