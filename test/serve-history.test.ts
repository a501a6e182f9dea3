/**
 * The request log survives a restart: a real `ollama-gate serve` logs what the real `ollama` client
 * asked, is stopped, started again on the same data folder, and its web admin's `logs.recent` still
 * answers with those requests, numbered on from them.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../electron/shared/contract.js';
import { ServeProcess, requireBuiltCli, runCliOk } from './support/cli.js';
import { type FakeOllama, startFakeOllama } from './support/fake-ollama.js';

interface Running {
  serve: ServeProcess;
  url: string;
  /** a GateApi call to the web admin */
  call<T>(method: string, body?: unknown): Promise<T>;
}

async function start(dataDir: string, upstream: string): Promise<Running> {
  const { serve, url } = await ServeProcess.start(dataDir, upstream, { args: ['--admin-port', '0'] });
  const login = new URL((await serve.waitForLine(/Open the web admin: (http:\/\/\S+)/, 10_000)).match(/Open the web admin: (http:\/\/\S+)/)![1]!);
  const token = login.searchParams.get('token')!;
  const call = async <T>(method: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${login.origin}/gate/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? '' : JSON.stringify(body),
    });
    const result = (await response.json()) as { ok: true; value: T } | { ok: false; error: { message: string } };
    if (!result.ok) throw new Error(`${method}: ${result.error.message}`);
    return result.value;
  };
  return { serve, url, call };
}

describe('the request log across a restart of ollama-gate serve', () => {
  let dataDir: string;
  let fake: FakeOllama;
  let running: Running | undefined;

  beforeEach(async () => {
    requireBuiltCli();
    dataDir = mkdtempSync(join(tmpdir(), 'gate-history-'));
    fake = await startFakeOllama();
  });
  afterEach(async () => {
    await running?.serve.stop('SIGKILL');
    running = undefined;
    await fake.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('still answers logs.recent with the requests the real ollama client made before the restart', async () => {
    const key = (JSON.parse(runCliOk(dataDir, ['keys', 'add', 'alice', '--json']).trim().split('\n').at(-1)!) as { key: string }).key;
    running = await start(dataDir, fake.url);
    const ollama = new Ollama({ host: running.url, headers: { Authorization: `Bearer ${key}` } });
    await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'hello' }], stream: false });
    await ollama.generate({ model: 'qwen2.5:7b', prompt: 'hello', stream: false });
    await expect(ollama.show({ model: 'no-such-model' })).rejects.toThrow(/not found/);
    const before = await running.call<LogEntry[]>('logs.recent');
    expect(before.map((e) => e.path)).toEqual(['/api/chat', '/api/generate', '/api/show']);

    // SIGTERM: a clean stop writes what is pending.
    expect(await running.serve.stop('SIGTERM')).toBe(0);
    const file = join(dataDir, 'request-history-serve.jsonl');
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toContain(key);

    running = await start(dataDir, fake.url);
    const after = await running.call<LogEntry[]>('logs.recent');
    expect(after).toEqual(before);
    expect(after.map((e) => [e.model, e.user, e.status, e.answeredBy])).toEqual([
      ['llama3.2', 'alice', 200, 'ollama'],
      ['qwen2.5:7b', 'alice', 200, 'ollama'],
      ['no-such-model', 'alice', 404, 'ollama'],
    ]);
    expect(after.every((e) => /^ollama-js\/\d/.test(e.client ?? ''))).toBe(true);

    // New requests are numbered on from the old ones.
    const res = await fetch(`${running.url}/api/tags`, { headers: { Authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    let newer: LogEntry[] = [];
    for (let i = 0; i < 100 && newer.length === 0; i++) {
      newer = await running.call<LogEntry[]>('logs.recent', { after: before.at(-1)!.seq });
      if (newer.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(newer.map((e) => [e.seq, e.path])).toEqual([[before.at(-1)!.seq + 1, '/api/tags']]);
  });
});
