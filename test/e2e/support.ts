/** Shared by the browser tests: `ollama-gate serve` as its own process, and Debian's Chromium driven by playwright-core. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import type { GateResult } from '../../electron/shared/contract.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'index.js');
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');

/** Whether the browser tests can run; when not, they are skipped with this said once. */
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`${CHROMIUM} is missing: the browser tests are skipped (install it with: apt-get install -y chromium)`);

export interface Serve {
  /** the proxy, e.g. http://127.0.0.1:PORT */
  proxyUrl: string;
  /** the web admin, e.g. http://127.0.0.1:PORT/ */
  adminUrl: string;
  /** the admin URL that carries the token (empty with --no-admin) */
  loginUrl: string;
  token: string;
  /** where its keys and settings are: pass it to the next startServe to run "the same gate" again */
  dataDir: string;
  output: string[];
  stop(): Promise<void>;
}

/**
 * `ollama-gate serve` on free loopback ports with its own data dir, as a user runs it. The admin
 * gets a free port too, unless the arguments or OLLAMA_GATE_ADMIN_PORT say otherwise.
 */
export async function startServe(
  upstream: string,
  extraArgs: string[] = [],
  extraEnv: Record<string, string> = {},
  options: { dataDir?: string } = {},
): Promise<Serve> {
  const admin = !extraArgs.includes('--no-admin');
  const choosesAdminPort = extraArgs.includes('--admin-port') || 'OLLAMA_GATE_ADMIN_PORT' in extraEnv;
  // A data dir the caller brings outlives this process (a restart test reuses it); a fresh one is removed on stop.
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'gate-e2e-'));
  // An address or port set in the environment is left to it (a flag would win over it).
  const listenArgs = [...('OLLAMA_GATE_HOST' in extraEnv ? [] : ['--host', '127.0.0.1']), ...('OLLAMA_GATE_PORT' in extraEnv ? [] : ['--port', '0'])];
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, 'serve', ...listenArgs, ...(admin && !choosesAdminPort ? ['--admin-port', '0'] : []), '--upstream', upstream, '--data-dir', dataDir, ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OLLAMA_GATE_LAN_CHECK: '0', ...extraEnv } },
  );
  const output: string[] = [];
  const collect = (chunk: Buffer) => output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const proxyUrl = (await waitForLine(output, child, /Listening on (http:\/\/\S+)/))[1]!;
    if (!admin) {
      await waitForLine(output, child, /Ollama .* answers at/);
      return { proxyUrl, loginUrl: '', adminUrl: '', token: '', dataDir, output, stop };
    }
    const loginUrl = (await waitForLine(output, child, /Open the web admin: (http:\/\/\S+)/))[1]!;
    const login = new URL(loginUrl);
    return { proxyUrl, loginUrl, adminUrl: `${login.origin}/`, token: login.searchParams.get('token')!, dataDir, output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitForLine(output: string[], child: ChildProcess, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const line of output) {
      const match = line.match(pattern);
      if (match) return match;
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`serve printed no line matching ${pattern}; it said:\n${output.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Chromium with a fresh profile, headless, with the flags that work on machines without outside network access. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'gate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1120, height: 760 },
    locale: 'en-US',
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a value other than undefined, or fails with the last one seen. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A GateApi call straight to the admin of `serve`, for setting a scene faster than clicking: the admin's answer as it is. */
export async function adminCall<T>(serve: Serve, method: string, body?: unknown): Promise<GateResult<T>> {
  const response = await fetch(`${serve.adminUrl}gate/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${serve.token}`, 'content-type': 'application/json' },
    body: body === undefined ? '' : JSON.stringify(body),
  });
  return (await response.json()) as GateResult<T>;
}

/** The same call's value, failing with the gate's own message when it refuses. */
export async function adminValue<T>(serve: Serve, method: string, body?: unknown): Promise<T> {
  const result = await adminCall<T>(serve, method, body);
  if (!result.ok) throw new Error(`${method}: ${result.error.message}`);
  return result.value;
}

/** Console errors, page errors and CSP violations of `page` go to `problems`: a test ends by expecting none. */
export function collectProblems(page: Page, problems: string[]): void {
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
}
