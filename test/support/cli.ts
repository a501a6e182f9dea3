/**
 * The built CLI as a user runs it (`node dist/cli/ollama-gate.js`), for the tests of its commands
 * and of `serve` as its own process. `npm test` builds it first (`npm run build:cli`).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'ollama-gate.js');

/**
 * Tests talk to loopback only (no looking for Ollama on this machine's LAN addresses), never touch
 * the user's data dir, and read plain output.
 */
/**
 * Where the CLI runs: not the repository, as for a user who installed it and runs it from their
 * home (a cwd with the project's package.json hides what only works from the source tree).
 */
export const CLI_CWD = tmpdir();

export const CLI_ENV: NodeJS.ProcessEnv = { ...process.env, OLLAMA_GATE_LAN_CHECK: '0', OLLAMA_GATE_DATA_DIR: undefined, NO_COLOR: '1' };

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build it first with "npm run build:cli"`);
}

/** Runs a CLI command with `--data-dir` pointing at `dataDir`. */
export function runCli(dataDir: string, args: string[], env: NodeJS.ProcessEnv = CLI_ENV): CliRun {
  const result = spawnSync(process.execPath, [CLI, ...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 15_000, env, cwd: CLI_CWD });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a CLI command and returns its output, failing with that output when it does not exit 0. */
export function runCliOk(dataDir: string, args: string[], env?: NodeJS.ProcessEnv): string {
  const run = runCli(dataDir, args, env);
  if (run.code !== 0) throw new Error(`ollama-gate ${args.join(' ')} exited ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return run.stdout;
}

/** `ollama-gate serve` in its own process, its output collected line by line. */
export class ServeProcess {
  readonly output: string[] = [];
  private constructor(readonly child: ChildProcess) {
    const collect = (chunk: Buffer) => this.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
  }

  /** Starts `serve` on a free loopback port in front of `upstream` and waits until it listens. */
  static async start(
    dataDir: string,
    upstream: string,
    options: { args?: string[]; env?: NodeJS.ProcessEnv } = {},
  ): Promise<{ serve: ServeProcess; url: string }> {
    const args = [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--upstream', upstream, '--data-dir', dataDir, ...(options.args ?? [])];
    const serve = new ServeProcess(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? CLI_ENV, cwd: CLI_CWD }));
    const line = await serve.waitForLine(/Listening on (http:\/\/\S+)/, 10_000);
    return { serve, url: line.match(/Listening on (http:\/\/\S+)/)![1]! };
  }

  /** The first output line matching `pattern`; fails when the process exits or time runs out first. */
  async waitForLine(pattern: RegExp, timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.output.find((l) => pattern.test(l));
      if (line) return line;
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`no output line matching ${pattern}; got:\n${this.output.join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      this.child.once('exit', (code) => resolve(code));
      this.child.kill(signal);
    });
  }
}
