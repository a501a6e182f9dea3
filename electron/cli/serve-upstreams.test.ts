/**
 * `ollama-gate serve` in front of several Ollamas, as the built CLI runs it: `--upstream` repeated or
 * `OLLAMA_GATE_UPSTREAM` as a comma list, the settings the running gate uses (read through its web
 * admin), what it pins, and the one-line usage errors.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, CLI_CWD, CLI_ENV, requireBuiltCli, runCli, runCliOk } from '../../test/support/cli.js';
import { type FakeModel, type FakeOllama, startFakeOllama } from '../../test/support/fake-ollama.js';
import type { BackendSetting, SettingsView } from '../shared/contract.js';
import { openStore } from './open-store.js';

const model = (name: string): FakeModel => ({ name, size: 1_000_000, family: 'llama', parameterSize: '1B', quantization: 'Q4_K_M' });
const backend = (name: string, url: string): BackendSetting => ({ name, url, enabled: true, weight: 1 });

/** A running `serve`: its output, its proxy's URL and a caller of its web admin's API. */
interface Running {
  child: ChildProcess;
  output: string[];
  url: string;
  call<T>(method: string, input?: unknown): Promise<{ ok: boolean; value?: T; error?: { code: string; message: string } }>;
}

/** Every `serve` started, for afterEach to stop. */
const running: ChildProcess[] = [];

/** `serve` on free loopback ports with only `args` and `env` saying where Ollama is; resolves once its admin link is printed. */
async function startServe(dataDir: string, args: string[], env: NodeJS.ProcessEnv = CLI_ENV): Promise<Running> {
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--admin-port', '0', '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
    cwd: CLI_CWD,
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  running.push(child);
  const line = async (pattern: RegExp): Promise<RegExpExecArray> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      for (const l of output) {
        const match = pattern.exec(l);
        if (match) return match;
      }
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no output line matching ${pattern}; got:\n${output.join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const url = (await line(/Listening on (http:\/\/\S+)/))[1]!;
  const login = new URL((await line(/Open the web admin: (http:\/\/\S+)/))[1]!);
  const call = async (method: string, input?: unknown) => {
    const res = await fetch(`${login.origin}/gate/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${login.searchParams.get('token')}`, 'content-type': 'application/json' },
      body: input === undefined ? '' : JSON.stringify(input),
    });
    return res.json();
  };
  return { child, output, url, call: call as Running['call'] };
}

beforeAll(requireBuiltCli);

describe('ollama-gate serve with several --upstream', () => {
  let dataDir: string;
  let ollamas: FakeOllama[];
  /** the default (llama3.2), big (qwen2.5:72b) and two more (phi3) named after their host, 127.0.0.1 */
  let main: FakeOllama;
  let big: FakeOllama;
  let third: FakeOllama;
  let fourth: FakeOllama;

  beforeAll(async () => {
    ollamas = await Promise.all([
      startFakeOllama({ models: [model('llama3.2:latest')] }),
      startFakeOllama({ models: [model('qwen2.5:72b')] }),
      startFakeOllama({ models: [model('phi3:latest')] }),
      startFakeOllama({ models: [model('phi3:latest')] }),
    ]);
    [main, big, third, fourth] = ollamas as [FakeOllama, FakeOllama, FakeOllama, FakeOllama];
  });
  afterAll(async () => {
    await Promise.all(ollamas.map((fake) => fake.close()));
  });
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'gate-upstreams-'));
  });
  afterEach(async () => {
    await Promise.all(
      running.splice(0).map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    for (const fake of ollamas) fake.reset();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('forwards to the first as the default and to each further one as a backend, named or after its host, all pinned by --upstream', async () => {
    const created = JSON.parse(runCliOk(dataDir, ['keys', 'add', 'alice', '--json']).trim().split('\n').at(-1)!) as { key: string };
    const serve = await startServe(dataDir, ['--upstream', main.url, '--upstream', `big=${big.url}`, '--upstream', third.url, '--upstream', fourth.url]);

    expect(serve.output.join('\n')).toContain(`forwarding to ${main.url} (default), big ${big.url}, 127.0.0.1 ${third.url}, 127.0.0.1-2 ${fourth.url}`);
    const settings = await serve.call<SettingsView>('settings.get');
    expect(settings.ok).toBe(true);
    expect(settings.value!.proxy.upstream).toBe(main.url);
    expect(settings.value!.proxy.backends).toEqual([backend('big', big.url), backend('127.0.0.1', third.url), backend('127.0.0.1-2', fourth.url)]);
    expect(settings.value!.pinned).toEqual(
      expect.arrayContaining([
        { field: 'upstream', by: '--upstream' },
        { field: 'backends', by: '--upstream' },
      ]),
    );
    // Pinned: the admin may not change them for this run, and they are not written to the store.
    const change = await serve.call('settings.update', { proxy: { backends: [] } });
    expect(change.ok).toBe(false);
    expect(change.error!.message).toContain('set by --upstream for this run');
    expect(readFileSync(join(dataDir, 'gate.json'), 'utf8')).not.toContain(big.url);

    // The gate forwards to them: once probed, a model only big has goes to big.
    const deadline = Date.now() + 10_000;
    let health: { backends?: Array<{ name: string; reachable: boolean; models: number }> } = {};
    while (Date.now() < deadline) {
      health = (await (await fetch(`${serve.url}/health`)).json()) as typeof health;
      if (health.backends?.every((b) => b.reachable && b.models > 0)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(health.backends?.map((b) => b.name)).toEqual(['default', 'big', '127.0.0.1', '127.0.0.1-2']);
    const answer = await fetch(`${serve.url}/api/generate`, {
      method: 'POST',
      headers: { 'x-api-key': created.key, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen2.5:72b', prompt: 'hi', stream: false }),
    });
    expect(answer.status).toBe(200);
    expect(big.requests.filter((r) => r.path === '/api/generate')).toHaveLength(1);
    expect(main.requests.filter((r) => r.path === '/api/generate')).toHaveLength(0);
  });

  it('reads OLLAMA_GATE_UPSTREAM as a comma-separated list, pinned by that variable', async () => {
    const serve = await startServe(dataDir, [], { ...CLI_ENV, OLLAMA_GATE_UPSTREAM: `${main.url}, big=${big.url},${third.url}` });
    const settings = (await serve.call<SettingsView>('settings.get')).value!;
    expect(settings.proxy.upstream).toBe(main.url);
    expect(settings.proxy.backends).toEqual([backend('big', big.url), backend('127.0.0.1', third.url)]);
    expect(settings.pinned).toEqual(
      expect.arrayContaining([
        { field: 'upstream', by: 'OLLAMA_GATE_UPSTREAM' },
        { field: 'backends', by: 'OLLAMA_GATE_UPSTREAM' },
      ]),
    );
    expect(serve.output.join('\n')).toContain(`forwarding to ${main.url} (default), big ${big.url}, 127.0.0.1 ${third.url}`);
  });

  it('prefers --upstream to the variable', async () => {
    const serve = await startServe(dataDir, ['--upstream', main.url, '--upstream', `big=${big.url}`], {
      ...CLI_ENV,
      OLLAMA_GATE_UPSTREAM: `${third.url},other=${fourth.url}`,
    });
    const settings = (await serve.call<SettingsView>('settings.get')).value!;
    expect(settings.proxy.upstream).toBe(main.url);
    expect(settings.proxy.backends).toEqual([backend('big', big.url)]);
    expect(settings.pinned.filter((p) => p.field === 'upstream' || p.field === 'backends').map((p) => p.by)).toEqual(['--upstream', '--upstream']);
  });

  it('with one --upstream pins the default alone: the stored backends stay, and stay editable', async () => {
    const store = openStore(dataDir);
    store.updateSettings({ backends: [{ ...backend('big', big.url), weight: 3 }] });
    store.close();
    const serve = await startServe(dataDir, ['--upstream', main.url]);
    expect(serve.output.join('\n')).toContain(`forwarding to ${main.url} (default), big ${big.url}`);
    const before = (await serve.call<SettingsView>('settings.get')).value!;
    expect(before.proxy.upstream).toBe(main.url);
    expect(before.proxy.backends).toEqual([{ ...backend('big', big.url), weight: 3 }]);
    expect(before.pinned).toContainEqual({ field: 'upstream', by: '--upstream' });
    expect(before.pinned.map((p) => p.field)).not.toContain('backends');
    const change = await serve.call<SettingsView>('settings.update', { proxy: { backends: [{ ...backend('big', big.url), enabled: false }] } });
    expect(change.ok, JSON.stringify(change.error)).toBe(true);
    expect((await serve.call<SettingsView>('settings.get')).value!.proxy.backends).toEqual([{ ...backend('big', big.url), enabled: false }]);
  });

  it('says what is wrong in one line and exits 2: a name on the default, a bad URL or name, a name twice', () => {
    const refused = (args: string[], message: string, env: NodeJS.ProcessEnv = CLI_ENV) => {
      const run = runCli(dataDir, ['serve', '--no-admin', ...args], env);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(`ollama-gate: ${message}\nSee: ollama-gate serve --help\n`);
    };
    refused(
      ['--upstream', 'main=http://127.0.0.1:11434'],
      '--upstream: the first Ollama is the default and takes no name ("main="); name only the ones after it, as in --upstream http://127.0.0.1:11434 --upstream big=http://10.0.0.7:11434',
    );
    refused(
      ['--upstream', 'http://127.0.0.1:11434', '--upstream', '10.0.0.7:11434'],
      '--upstream must be an http(s) URL such as http://127.0.0.1:11434, not "10.0.0.7:11434"',
    );
    refused(
      ['--upstream', 'http://127.0.0.1:11434', '--upstream', 'big=ftp://10.0.0.7'],
      '--upstream "big=ftp://10.0.0.7": the URL after "big=" must be an http(s) URL such as http://127.0.0.1:11434, not "ftp://10.0.0.7"',
    );
    refused(
      ['--upstream', 'http://127.0.0.1:11434', '--upstream', 'big=http://10.0.0.7:11434', '--upstream', 'Big=http://10.0.0.8:11434'],
      '--upstream names two Ollamas "big" and "Big" (case does not count): each needs a name of its own',
    );
    refused(
      ['--upstream', 'http://127.0.0.1:11434', '--upstream', 'gpu box=http://10.0.0.7:11434'],
      '--upstream "gpu box=http://10.0.0.7:11434": "gpu box" is not a backend name: a name of letters, digits, ".", "_" or "-", up to 40 characters',
    );
    refused(
      ['--upstream', 'http://127.0.0.1:11434', '--upstream', 'all=http://10.0.0.7:11434'],
      '--upstream "all=http://10.0.0.7:11434": "all" is not a backend name: "default" and "all" are taken',
    );
    refused([], 'OLLAMA_GATE_UPSTREAM must be an http(s) URL such as http://127.0.0.1:11434, not "nope"', {
      ...CLI_ENV,
      OLLAMA_GATE_UPSTREAM: 'http://127.0.0.1:11434,nope',
    });
  });

  it('says in serve --help that --upstream repeats, takes NAME=URL, and that OLLAMA_GATE_UPSTREAM is a comma list', () => {
    const help = runCliOk(dataDir, ['serve', '--help']);
    expect(help).toContain('--upstream [NAME=]URL');
    expect(help).toMatch(/Repeat it/);
    expect(help).toMatch(/OLLAMA_GATE_UPSTREAM: a\s+comma-separated\s+list/);
  });
});
