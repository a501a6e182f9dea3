/**
 * The ways an operator runs the gate as a service: the systemd unit and the container recipe in
 * deploy/. Each is read as its tool reads it, and its command is started here exactly as written
 * (node and the install path mapped to this checkout), so what the recipe names is what runs.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_CWD, requireBuiltCli } from './support/cli.js';
import { type FakeOllama, startFakeOllama } from './support/fake-ollama.js';

const ROOT = join(import.meta.dirname, '..');
const UNIT = join(ROOT, 'deploy', 'ollama-gate.service');
const DOCKERFILE = join(ROOT, 'deploy', 'Dockerfile');

/** `Key=value` lines of a unit's sections (later lines of a key add to it, as systemd reads them). */
function unitDirectives(text: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
    const at = line.indexOf('=');
    const name = line.slice(0, at);
    directives.set(name, [...(directives.get(name) ?? []), line.slice(at + 1)]);
  }
  return directives;
}

/** The Dockerfile's final stage: its ENV, ENTRYPOINT and CMD. */
function finalStage(text: string): { env: Record<string, string>; entrypoint: string[]; cmd: string[]; workdir: string; copies: string[] } {
  const joined = text.replace(/\\\n\s*/g, ' ');
  const stages = joined.split(/^FROM /m);
  const last = stages.at(-1)!;
  const env: Record<string, string> = {};
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  let workdir = '/';
  const copies: string[] = [];
  for (const line of last.split('\n').map((l) => l.trim())) {
    if (line.startsWith('ENV ')) for (const [, name, value] of line.slice(4).matchAll(/(\w+)=(\S+)/g)) env[name!] = value!;
    if (line.startsWith('ENTRYPOINT ')) entrypoint = JSON.parse(line.slice(11));
    if (line.startsWith('CMD ')) cmd = JSON.parse(line.slice(4));
    if (line.startsWith('WORKDIR ')) workdir = line.slice(8).trim();
    if (line.startsWith('COPY --from=build ')) copies.push(line.split(/\s+/)[2]!);
  }
  return { env, entrypoint, cmd, workdir, copies };
}

/** The service's command as written, with node and the install folder of the recipe mapped to this checkout. */
function localCommand(argv: string[], installDir: string): { command: string; args: string[] } {
  const [node, ...args] = argv;
  expect(node === 'node' || node!.endsWith('/node'), `the command starts node itself, not a shell or npm: ${argv.join(' ')}`).toBe(true);
  return { command: process.execPath, args: args.map((arg) => (arg.startsWith(installDir) ? join(ROOT, arg.slice(installDir.length)) : arg)) };
}

interface Running {
  child: ChildProcess;
  output: string[];
  url: Promise<string>;
}

function start(command: { command: string; args: string[] }, env: Record<string, string>): Running {
  const child = spawn(command.command, command.args, {
    cwd: CLI_CWD,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, OLLAMA_GATE_LAN_CHECK: '0', NO_COLOR: '1', ...env },
  });
  const output: string[] = [];
  const url = new Promise<string>((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      const listening = output.join('\n').match(/Listening on (http:\/\/\S+)/);
      if (listening) resolve(listening[1]!);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening:\n${output.join('\n')}`)));
  });
  return { child, output, url };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function portIsClosed(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** A key made with the CLI in `dataDir`, as the operator would before pointing clients at the gate. */
function addKey(dataDir: string): string {
  const run = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'ollama-gate.js'), 'keys', 'add', 'ops', '--json', '--data-dir', dataDir], {
    encoding: 'utf8',
    cwd: CLI_CWD,
  });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!).key as string;
}

/**
 * SIGTERM while a stream is open, as `systemctl stop` or `docker stop` sends it to the command:
 * the stream finishes whole, the process exits 0 well within the stop timeout, the port is free.
 */
async function stopsCleanlyWhileStreaming(running: Running, key: string, fake: FakeOllama): Promise<void> {
  const url = await running.url;
  fake.behaviour.chunks = 8;
  fake.behaviour.chunkDelayMs = 150;
  const response = await fetch(`${url}/api/generate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'llama3.2', prompt: 'hi' }),
  });
  expect(response.status).toBe(200);
  await fake.waitForRequest((r) => r.path === '/api/generate');
  const signalledAt = Date.now();
  running.child.kill('SIGTERM');
  const body = await response.text();
  const lines = body
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { done: boolean });
  expect(lines).toHaveLength(9);
  expect(lines.at(-1)!.done).toBe(true);
  expect(await exited(running.child)).toEqual({ code: 0, signal: null });
  expect(Date.now() - signalledAt).toBeLessThan(10_000);
  expect(await portIsClosed(url)).toBe(true);
  expect(running.output.join('\n')).toMatch(/SIGTERM: shutting down/);
}

describe('deploy/', () => {
  let fake: FakeOllama;
  let dataDir: string;
  let running: Running | undefined;

  beforeEach(async () => {
    requireBuiltCli();
    fake = await startFakeOllama();
    dataDir = mkdtempSync(join(tmpdir(), 'gate-deploy-'));
  });
  afterEach(async () => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill('SIGKILL');
      await exited(running.child);
    }
    running = undefined;
    await fake.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('the systemd unit', () => {
    const unit = readFileSync(UNIT, 'utf8');
    const directives = unitDirectives(unit);
    const execStart = directives.get('ExecStart')![0]!.split(/\s+/);

    it('runs the gate as its own user, its data in a private StateDirectory, hardened', () => {
      expect(directives.get('User')).toEqual(['ollama-gate']);
      expect(directives.get('StateDirectory')).toEqual(['ollama-gate']);
      expect(directives.get('StateDirectoryMode')).toEqual(['0700']);
      const environment = directives.get('Environment')!;
      expect(environment).toContain('OLLAMA_GATE_DATA_DIR=/var/lib/ollama-gate');
      for (const setting of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'CapabilityBoundingSet=']) {
        const [name, value] = setting.split('=');
        expect(directives.get(name!), setting).toEqual([value]);
      }
      // V8's JIT needs writable executable memory: this setting would kill node at start.
      expect(directives.has('MemoryDenyWriteExecute')).toBe(false);
      expect(directives.get('KillSignal')).toEqual(['SIGTERM']);
      expect(Number(directives.get('TimeoutStopSec')![0])).toBeGreaterThan(10);
    });

    it("starts the gate's own entry point, which exists after the build and is executable", () => {
      expect(execStart.slice(1)).toEqual(['/opt/ollama-gate/dist/cli/ollama-gate.js', 'serve']);
      const entry = join(ROOT, 'dist', 'cli', 'ollama-gate.js');
      accessSync(entry, constants.X_OK);
      expect(readFileSync(entry, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    });

    it.skipIf(!existsSync('/usr/bin/systemd-analyze'))(
      'passes systemd-analyze verify (paths mapped to this machine), which does catch a broken command',
      () => {
        const dir = mkdtempSync(join(tmpdir(), 'gate-unit-'));
        try {
          const mapped = join(dir, 'ollama-gate.service');
          writeFileSync(mapped, unit.replace('/usr/bin/node /opt/ollama-gate', `${process.execPath} ${ROOT}`));
          const verified = spawnSync('systemd-analyze', ['verify', mapped], { encoding: 'utf8' });
          expect(verified.stderr.trim()).toBe('');
          expect(verified.status).toBe(0);
          // The same check on a unit whose node is missing fails: the verify above means something.
          writeFileSync(mapped, unit.replace('/usr/bin/node', '/nonexistent/node'));
          expect(spawnSync('systemd-analyze', ['verify', mapped], { encoding: 'utf8' }).status).not.toBe(0);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );

    it('its command, run with its environment, serves and drains an open stream on SIGTERM', async () => {
      const key = addKey(dataDir);
      const env = Object.fromEntries(directives.get('Environment')!.map((pair) => pair.split('=', 2) as [string, string]));
      running = start(localCommand(execStart, '/opt/ollama-gate'), {
        ...env,
        OLLAMA_GATE_DATA_DIR: dataDir,
        OLLAMA_GATE_HOST: '127.0.0.1',
        OLLAMA_GATE_PORT: '0',
        OLLAMA_GATE_UPSTREAM: fake.url,
        OLLAMA_GATE_ADMIN_PORT: '0',
      });
      await stopsCleanlyWhileStreaming(running, key, fake);
    });
  });

  describe('the container recipe', () => {
    const stage = finalStage(readFileSync(DOCKERFILE, 'utf8'));

    it('copies what `npm run build:server` makes, and its entry point is the gate itself, with the admin off (inside a container its loopback reaches no one)', () => {
      expect(stage.copies).toEqual(expect.arrayContaining(['/src/dist/cli', '/src/dist/renderer', '/src/node_modules']));
      expect(stage.entrypoint).toEqual(['node', '/app/dist/cli/ollama-gate.js']);
      expect(stage.cmd).toEqual(['serve', '--no-admin']);
      expect(stage.env.OLLAMA_GATE_DATA_DIR).toBe('/data');
      expect(stage.env.OLLAMA_GATE_HOST).toBe('0.0.0.0');
      expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts['build:server']).toContain('build:cli');
    });

    it('its entry point and command, run with its environment, serve and drain an open stream on SIGTERM', async () => {
      const key = addKey(dataDir);
      running = start(localCommand([...stage.entrypoint, ...stage.cmd], '/app'), {
        ...stage.env,
        OLLAMA_GATE_DATA_DIR: dataDir,
        OLLAMA_GATE_HOST: '127.0.0.1',
        OLLAMA_GATE_PORT: '0',
        OLLAMA_GATE_UPSTREAM: fake.url,
      });
      await stopsCleanlyWhileStreaming(running, key, fake);
    });
  });
});
