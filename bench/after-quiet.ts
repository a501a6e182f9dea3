/**
 * What a pause costs the gate: CPU per request at one connection while warm, then again right
 * after 13 s of quiet (long enough for IdleCompaction's two full collections to run), in 3 s steps.
 *
 *   npx tsx bench/after-quiet.ts      (needs the built CLI: npm run build:cli)
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Children, cpuSeconds } from './processes.js';
import { CLI, startGate, startUpstreams, startWorker } from './stack.js';

const STEP_SECONDS = 3;
const QUIET_MS = 13_000;
const BODY = JSON.stringify({ model: 'llama3.2:latest', messages: [{ role: 'user', content: 'Why is the sky blue?' }], stream: false });

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: npm run build:cli first`);
const tmp = mkdtempSync(join(os.tmpdir(), 'ollama-gate-after-quiet-'));
const children = new Children();
try {
  const { addresses } = await startUpstreams(children, tmp);
  const gate = await startGate(children, tmp, 'gate', addresses.fake);
  const worker = await startWorker(children, tmp);
  const step = async (label: string, connections: number) => {
    const before = cpuSeconds(gate.pid);
    const r = await worker.run({ kind: 'http', endpoint: gate.endpoint, path: '/api/chat', body: BODY, connections, warmupSeconds: 0, seconds: STEP_SECONDS });
    const us = ((cpuSeconds(gate.pid) - before) * 1e6) / r.ok;
    console.log(
      `${label.padEnd(26)} c=${String(connections).padEnd(3)} ${String(Math.round(r.ok / r.seconds)).padStart(6)} req/s  ${us.toFixed(0).padStart(5)} us CPU per request`,
    );
  };
  await step('warm-up', 64);
  for (let i = 1; i <= 3; i++) await step(`warm, step ${i}`, 1);
  console.log(`quiet for ${QUIET_MS / 1000} s…`);
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
  for (let i = 1; i <= 3; i++) await step(`after the quiet, step ${i}`, 1);
} finally {
  await children.stopAll();
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(0);
