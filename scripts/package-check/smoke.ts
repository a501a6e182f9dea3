/**
 * Runs the packaged main entry in plain Node, as Electron would run it, against the stub in
 * electron-stub.cjs: the app extracted from app.asar, `electron` installed beside it, the packaged
 * resources folder as process.resourcesPath and a fresh user-data folder. It must start the gate
 * on a real loopback port, put up the tray with its packaged image, open the window on the packaged
 * renderer (every file it references served by the app's own protocol handler), answer IPC as the
 * window would use it, and quit cleanly.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SmokeOptions {
  /** the extracted app.asar */
  appDir: string;
  /** what process.resourcesPath is in the packaged app (holds tray/) */
  resourcesDir: string;
  /** the Electron version the app was packaged for */
  electronVersion: string;
  timeoutMs?: number;
}

export interface SmokeResult {
  checks: Check[];
  /** the app's own output, for a failure report */
  output: string;
}

type StubEvent = { event: string } & Record<string, unknown>;

const STUB = join(import.meta.dirname, 'electron-stub.cjs');

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Installs the stub as node_modules/electron of the extracted app. */
export function installElectronStub(appDir: string, version: string): void {
  const directory = join(appDir, 'node_modules', 'electron');
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'package.json'), `${JSON.stringify({ name: 'electron', version, main: 'index.cjs' }, null, 2)}\n`);
  copyFileSync(STUB, join(directory, 'index.cjs'));
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(3000) });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    return { error: (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message };
  }
}

const isInside = (path: string, directory: string) => {
  const rel = relative(directory, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};

export async function runSmoke({ appDir, resourcesDir, electronVersion, timeoutMs = 20_000 }: SmokeOptions): Promise<SmokeResult> {
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const manifest = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { main: string; version: string; productName: string };

  installElectronStub(appDir, electronVersion);
  const userData = mkdtempSync(join(tmpdir(), 'ollama-gate-smoke-data-'));
  const [port, deadUpstream] = [await freePort(), await freePort()];
  // Loopback only, and an Ollama that is not there: the gate must come up without one.
  writeFileSync(
    join(userData, 'gate.json'),
    `${JSON.stringify({ keys: [], settings: { host: '127.0.0.1', port, upstream: `http://127.0.0.1:${deadUpstream}` } }, null, 2)}\n`,
  );

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ELECTRON_STUB_APP_PATH: appDir,
    ELECTRON_STUB_RESOURCES: resourcesDir,
    ELECTRON_STUB_USER_DATA: userData,
    ELECTRON_STUB_VERSION: electronVersion,
    OLLAMA_GATE_DATA_DIR: userData,
  };
  // Plain Node: none of tsx's loaders, nothing the calling shell adds.
  delete env.NODE_OPTIONS;
  delete env.VITE_DEV_SERVER_URL;
  const child = fork(join(appDir, manifest.main), [], { cwd: appDir, env, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });

  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const events: StubEvent[] = [];
  child.on('message', (message) => events.push(message as StubEvent));
  // Set from the child's exit event; read through a function so TypeScript does not narrow it away.
  let exited: { code: number | null; signal: string | null } | undefined;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const exit = () => exited;

  const find = (name: string) => events.find((event) => event.event === name);
  const last = (name: string) => events.findLast((event) => event.event === name);
  const fatal = () => events.find((event) => ['error-box', 'uncaught', 'load-failed'].includes(event.event));
  const deadline = Date.now() + timeoutMs;
  const gateUrl = `http://127.0.0.1:${port}`;

  try {
    // Up: the gate answers, the tray has its first state, the window loaded its page.
    let info: Awaited<ReturnType<typeof get>> = { error: 'not tried' };
    while (Date.now() < deadline && !exit() && !fatal()) {
      info = await get(`${gateUrl}/`);
      if ('status' in info && info.status === 200 && find('loaded') && last('tray-tooltip') && last('tray-menu')) break;
      await sleep(100);
    }
    const problem = fatal();
    check(
      'main entry runs in plain Node',
      Boolean(find('ready')) && !problem && !exit(),
      problem
        ? `${problem.event}: ${JSON.stringify(problem)}`
        : exit()
          ? `exited early (${exit()?.code ?? exit()?.signal})`
          : 'started: no error dialog, no uncaught error',
    );
    if (!find('ready') || exit()) return { checks, output };

    const version = 'status' in info ? (JSON.parse(info.body || '{}') as { version?: string }).version : undefined;
    check(
      'gate listens and answers GET /',
      'status' in info && info.status === 200 && version === manifest.version,
      'status' in info ? `${gateUrl}/ -> ${info.status}, version ${String(version)}` : `${gateUrl}/: ${info.error}`,
    );

    type ImageEvent = { path: string; empty: boolean; size: { width: number; height: number } } & StubEvent;
    const images = events.filter((event) => event.event === 'tray' || event.event === 'tray-image') as ImageEvent[];
    const tooltip = last('tray-tooltip')?.text as string | undefined;
    check(
      'tray shows its packaged images',
      images.length > 0 && images.every((image) => !image.empty && isInside(image.path, join(resourcesDir, 'tray'))),
      images.length
        ? images.map((image) => `${relative(resourcesDir, image.path)} ${image.empty ? 'EMPTY' : `${image.size.width}x${image.size.height}`}`).join(', then ')
        : 'no tray created',
    );
    check('tray tooltip names the version', Boolean(tooltip?.startsWith(`${manifest.productName} ${manifest.version}`)), JSON.stringify(tooltip));

    const window = find('window') as ({ preload: string; preloadExists: boolean; webPreferences: Record<string, unknown> } & StubEvent) | undefined;
    check(
      'window gets the packaged preload, isolated and sandboxed',
      Boolean(
        window?.preloadExists &&
        window.webPreferences.contextIsolation === true &&
        window.webPreferences.sandbox === true &&
        window.webPreferences.nodeIntegration === false,
      ),
      window ? `${relative(appDir, window.preload)}${window.preloadExists ? '' : ' MISSING'}` : 'no window created',
    );
    const loaded = find('loaded') as
      ({ url: string; files: Array<{ url: string; status: number; type: string | null; bytes: number }> } & StubEvent) | undefined;
    const files = loaded?.files ?? [];
    check(
      'window loads the packaged renderer through app:// and shows',
      Boolean(loaded?.url.startsWith('app://') && files.length >= 2 && files.every((file) => file.status === 200) && find('window-shown')),
      loaded
        ? `${loaded.url}: ${files.map((file) => `${file.url.replace(/^app:\/\/[^/]+\//, '')} ${file.status}`).join(', ')}${find('window-shown') ? '' : '; never shown'}`
        : 'nothing loaded',
    );

    // The window's own calls, through the IPC handlers the app registered.
    const appInfo = await invoke(child, events, 'gate:app.info');
    const shown = appInfo.result as { ok: boolean; value?: { version: string; host: string } } | undefined;
    check(
      'IPC app.info gives the version',
      shown?.ok === true && shown.value?.version === manifest.version,
      shown?.ok ? `${shown.value?.version} (${shown.value?.host})` : JSON.stringify(appInfo.result ?? appInfo.error),
    );

    const created = await invoke(child, events, 'gate:keys.create', { user: 'package-check' });
    const secret = (created.result as { ok: boolean; value?: { secret: string } } | undefined)?.value?.secret;
    const without = await get(`${gateUrl}/api/tags`);
    const withKey = secret ? await get(`${gateUrl}/api/tags`, { authorization: `Bearer ${secret}` }) : { error: 'no key' };
    check(
      'a key made over IPC opens the gate',
      'status' in without && without.status === 401 && 'status' in withKey && withKey.status !== 401 && withKey.status !== 403,
      `without key ${'status' in without ? without.status : without.error}; with key ${'status' in withKey ? `${withKey.status} (no Ollama behind it)` : withKey.error}`,
    );
    await until(() => (last('tray-menu')?.labels as string[] | undefined)?.includes('package-check') ?? false, 3000);
    check('tray menu lists the new key', (last('tray-menu')?.labels as string[] | undefined)?.includes('package-check') ?? false, 'package-check');

    // Quit as the tray's Quit does: the app closes the gate and exits.
    child.send({ type: 'quit' });
    const end = await until(exit, 10_000);
    const quit = find('quit');
    const resources = (quit?.resources as string[] | undefined) ?? [];
    const after = await get(`${gateUrl}/`);
    check(
      'quit closes the gate and exits',
      end?.code === 0 && Boolean(quit) && !resources.includes('TCPServerWrap') && 'error' in after,
      end ? `exit ${end.code ?? end.signal}; left open: ${resources.join(', ') || 'nothing'}` : 'still running after 10 s',
    );
    const late = fatal();
    if (late) check('no errors while running', false, JSON.stringify(late));
    return { checks, output };
  } finally {
    if (!exit()) {
      child.kill('SIGKILL');
      await until(exit, 2000);
    }
    rmSync(userData, { recursive: true, force: true });
  }
}

let nextInvoke = 1;
async function invoke(child: ChildProcess, events: StubEvent[], channel: string, ...args: unknown[]): Promise<{ result?: unknown; error?: string }> {
  const id = nextInvoke++;
  child.send({ type: 'invoke', id, channel, args });
  const answer = await until(() => events.find((event) => event.event === 'invoked' && event.id === id), 5000);
  if (!answer) return { error: `no answer to ${channel}` };
  return { result: answer.result, error: answer.error as string | undefined };
}

async function until<T>(test: () => T, timeoutMs: number): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = test();
    if (value || Date.now() > end) return value || undefined;
    await sleep(50);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
