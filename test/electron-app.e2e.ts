/**
 * End to end through the real desktop app: Electron itself (not the stub of `npm run
 * package:check`), driven by Playwright's Electron support, with the gate in front of the fake
 * Ollama. It needs Electron's binary and a display, so it runs in CI on Linux (.github/workflows/
 * ci.yml), not on machines that cannot download Electron; vitest does not pick it up (*.e2e.ts).
 *
 *   npm run build && xvfb-run -a node --import tsx --test test/electron-app.e2e.ts
 *
 * By default it starts the built app (`electron .`); OLLAMA_GATE_E2E_APP=<executable> starts a
 * packaged one instead (release/linux-unpacked/ollama-gate-desktop after `electron-builder --dir`).
 * Screenshots go to test-results/electron/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { type ElectronApplication, type Page, _electron as electron } from 'playwright-core';
import { type FakeOllama, startFakeOllama } from './support/fake-ollama.js';

const ROOT = join(import.meta.dirname, '..');
const SHOTS = join(ROOT, 'test-results', 'electron');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

let ollama: FakeOllama;
let app: ElectronApplication;
let page: Page;
let userData: string;
let gateUrl: string;
let secret = '';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  ollama = await startFakeOllama();
  const port = await freePort();
  gateUrl = `http://127.0.0.1:${port}`;
  // A user-data folder of its own: a first run, on a free loopback port, in front of the fake.
  userData = mkdtempSync(join(tmpdir(), 'ollama-gate-e2e-'));
  writeFileSync(join(userData, 'gate.json'), JSON.stringify({ keys: [], settings: { host: '127.0.0.1', port, upstream: ollama.url } }));
  const env = { ...process.env, OLLAMA_GATE_DATA_DIR: userData, LANG: 'en_US.UTF-8' } as Record<string, string>;
  delete env.VITE_DEV_SERVER_URL;
  const packaged = process.env.OLLAMA_GATE_E2E_APP;
  app = await electron.launch({
    ...(packaged ? { executablePath: resolve(ROOT, packaged), args: ['--lang=en-US'] } : { args: [ROOT, '--lang=en-US'] }),
    cwd: ROOT,
    env,
    timeout: 60_000,
  });
  app.process().stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[electron] ${chunk.toString()}`));
  page = await app.firstWindow();
  await page.waitForLoadState('domcontentloaded');
});

after(async () => {
  if (app) {
    // The app lives in the tray: closing means quitting, which stops the gate first.
    const exited = new Promise((resolve) => app.process().once('exit', resolve));
    await app.evaluate(({ app: electronApp }) => electronApp.quit()).catch(() => {});
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (app.process().exitCode === null) app.process().kill('SIGKILL');
  }
  await ollama?.close();
  if (userData) rmSync(userData, { recursive: true, force: true });
});

// node:test runs top-level tests in order and reports their failures itself; the promise each
// `test()` returns only says when it finished, so it is dropped on purpose.
void test('a first run opens the window at the new-key form, with the version shown', async () => {
  await page.getByRole('heading', { name: 'New key' }).waitFor({ timeout: 20_000 });
  await page.getByText(`Desktop app · v${version}`).waitFor();
  assert.equal(await app.evaluate(({ app: electronApp }) => electronApp.getVersion()), version);
  await page.getByRole('button', { name: 'Cancel' }).click();
});

void test('the Overview shows the gate serving', async () => {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Overview' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  await page.getByRole('status').filter({ hasText: 'Serving' }).waitFor({ timeout: 15_000 });
  await page.getByText(gateUrl.replace('http://', '')).first().waitFor();
  await page.screenshot({ path: join(SHOTS, 'overview.png') });
});

void test('a key created in the window opens the gate', async () => {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Keys' }).click();
  await page.getByRole('button', { name: 'New key' }).click();
  await page.getByLabel('User', { exact: true }).fill('e2e');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByRole('heading', { name: 'Key created for e2e' }).waitFor();
  secret = ((await page.getByLabel('The new key', { exact: true }).textContent()) ?? '').trim();
  assert.match(secret, /^\S{20,}$/);
  await page.screenshot({ path: join(SHOTS, 'key-created.png') });
  await page.getByRole('button', { name: 'I have copied it' }).click();

  const refused = await fetch(`${gateUrl}/api/tags`);
  assert.equal(refused.status, 401);
  const answered = await fetch(`${gateUrl}/api/tags`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(answered.status, 200);
  const { models } = (await answered.json()) as { models: Array<{ name: string }> };
  assert.ok(models.length > 0, 'the fake Ollama lists its models through the gate');
  const forwarded = await ollama.waitForRequest((request) => request.path === '/api/tags');
  assert.equal(forwarded.headers.authorization, undefined, 'the key is not passed on to Ollama');
});

void test("the request shows in the window's live log", async () => {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Logs' }).click();
  await page.getByText('/api/tags').first().waitFor({ timeout: 10_000 });
  await page.screenshot({ path: join(SHOTS, 'logs.png') });
});
