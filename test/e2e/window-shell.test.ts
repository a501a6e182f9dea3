/**
 * The window's shell in Chromium against a real `ollama-gate serve`: the sidebar's status on every
 * page (the gate's and Ollama's), its icons, the narrow rail, the page losing its gate and finding
 * it again after `serve` restarts (by itself, or after its admin token was replaced), and the page a
 * browser without the admin token gets.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatePage } from '../../electron/shared/contract.js';
import { type FakeOllama, startFakeOllama } from '../support/fake-ollama.js';
import { CLI, SCREENSHOTS, type Serve, eventually, hasChromium, launchBrowser, startServe } from './support.js';

const PAGES: GatePage[] = ['overview', 'keys', 'sessions', 'logs', 'usage', 'settings'];
const NAV_NAMES = ['Overview', 'Keys', 'Sessions', 'Logs', 'Usage', 'Settings'];
const WIDE = { width: 1120, height: 760 };
const NARROW = { width: 720, height: 480 };
const SIZES = [WIDE, NARROW] as const;

/** A port nothing listens on now, so a restarted process can take the same one. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!hasChromium)('the window shell in Chromium', () => {
  let fake: FakeOllama;
  let ollamaPort: number;
  let adminPort: number;
  let dataDir: string;
  let serve: Serve;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let page: Page;
  /** CSP violations anywhere, and any console error while the gate is up */
  const problems: string[] = [];
  let expectingErrors = false;

  const start = () => startServe(fake.url, ['--admin-port', String(adminPort)], {}, { dataDir });

  async function open(name: GatePage): Promise<void> {
    await page.goto(`${serve.adminUrl}#/${name}`);
    await page.locator('main h1').first().waitFor();
  }

  async function setLanguage(locale: 'en' | 'zh-CN'): Promise<void> {
    await page.evaluate((value) => localStorage.setItem('ollama-gate.language', value), locale);
    await page.reload();
    await page.locator('main h1').first().waitFor();
    // Loaded: the gate serving and Ollama answering.
    for (const status of ['gate', 'ollama']) await page.locator(`.status-link[data-status="${status}"][data-tone="ok"]`).waitFor();
  }

  /** Nothing scrolls sideways: neither the document nor <main>. */
  async function expectNoSidewaysScroll(where: string): Promise<void> {
    const widths = await page.evaluate(() => {
      const main = document.querySelector('main')!;
      return { doc: [document.documentElement.scrollWidth, document.documentElement.clientWidth], main: [main.scrollWidth, main.clientWidth] };
    });
    expect(widths.doc[0], `${where}: document ${widths.doc.join(' > ')}`).toBeLessThanOrEqual(widths.doc[1]!);
    expect(widths.main[0], `${where}: main ${widths.main.join(' > ')}`).toBeLessThanOrEqual(widths.main[1]!);
  }

  const statusLink = (name: string) => page.getByRole('navigation').getByRole('link', { name });

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    ollamaPort = await freePort();
    fake = await startFakeOllama({ port: ollamaPort });
    adminPort = await freePort();
    dataDir = mkdtempSync(join(tmpdir(), 'gate-shell-'));
    serve = await start();
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('console', (message) => {
      const text = message.text();
      if (/Content Security Policy/i.test(text) || (message.type() === 'error' && !expectingErrors)) problems.push(`console: ${text}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.setViewportSize(WIDE);
    await page.goto(serve.loginUrl);
    await page.locator('main h1').first().waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows the gate’s and Ollama’s state on every page, with icons, at both sizes, and nothing scrolls sideways', async () => {
    for (const size of SIZES) {
      await page.setViewportSize(size);
      for (const name of PAGES) {
        await open(name);
        const gate = statusLink('Gate: Serving');
        const ollama = statusLink('Ollama: 0.12.6');
        for (const link of [gate, ollama]) {
          expect(await link.isVisible(), `${name} at ${size.width}`).toBe(true);
          expect(await link.getAttribute('href')).toBe('#/overview');
          expect(await link.locator('svg[aria-hidden="true"]').isVisible()).toBe(true);
        }
        expect(await gate.getAttribute('data-tone')).toBe('ok');
        await expectNoSidewaysScroll(`${name} at ${size.width}×${size.height}`);
      }

      // Each page link: an icon, and its name for screen readers (visible only when wide).
      for (const label of NAV_NAMES) {
        const link = page.getByRole('navigation').getByRole('link', { name: label, exact: true });
        expect(await link.locator('svg.nav-icon[aria-hidden="true"]').isVisible()).toBe(true);
        const text = await link.locator('.nav-text').boundingBox();
        if (size === WIDE) expect(text!.width).toBeGreaterThan(20);
        else expect(text!.width).toBeLessThanOrEqual(1);
        expect(await link.getAttribute('title')).toBe(label);
      }
      const sidebar = (await page.getByRole('navigation').boundingBox())!;
      if (size === NARROW) {
        // A rail: the page keeps the width.
        expect(sidebar.width).toBeLessThanOrEqual(64);
        expect(await page.locator('.brand-mark').isVisible()).toBe(true);
      } else expect(sidebar.width).toBeGreaterThan(180);
      // The status is a way to the overview.
      await open('keys');
      await statusLink('Ollama: 0.12.6').click();
      await eventually(async () => (page.url().endsWith('#/overview') ? true : undefined), 2_000, 'the status link opens the overview');
    }
    // The brand mark is the favicon too.
    expect(await page.locator('link[rel="icon"]').getAttribute('href')).toMatch(/favicon\.svg$/);
    expect((await page.request.get(`${serve.adminUrl}favicon.svg`)).headers()['content-type']).toBe('image/svg+xml');
    expect(problems).toEqual([]);
  });

  it('screenshots of the shell: English and Chinese, light and dark, wide and narrow', async () => {
    for (const locale of ['en', 'zh-CN'] as const) {
      await open('overview');
      await setLanguage(locale);
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        for (const size of SIZES) {
          await page.setViewportSize(size);
          await expectNoSidewaysScroll(`overview ${locale} ${scheme} ${size.width}`);
          const narrow = size === NARROW ? '-narrow' : '';
          await page.screenshot({ path: join(SCREENSHOTS, `window-shell-overview-${locale}-${scheme}${narrow}.png`) });
        }
      }
    }
    expect(await statusLink('网关：运行中').isVisible()).toBe(true);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize(WIDE);
    await setLanguage('en');
    expect(problems).toEqual([]);
  });

  it('says Ollama is unreachable within the health check interval when it stops, and its version when it is back', async () => {
    await open('keys');
    await fake.close();
    const stoppedAt = Date.now();
    await statusLink('Ollama: Unreachable').waitFor({ timeout: 10_000 });
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(await statusLink('Ollama: Unreachable').getAttribute('data-tone')).toBe('danger');
    expect(await statusLink('Gate: Serving').isVisible()).toBe(true);
    await page.setViewportSize(NARROW);
    await page.screenshot({ path: join(SCREENSHOTS, 'window-shell-ollama-down-en-light-narrow.png') });
    await page.setViewportSize(WIDE);
    await page.screenshot({ path: join(SCREENSHOTS, 'window-shell-ollama-down-en-light.png') });

    fake = await startFakeOllama({ port: ollamaPort });
    await statusLink('Ollama: 0.12.6').waitFor({ timeout: 40_000 });
  }, 90_000);

  it('shows the lost connection when serve stops; restarted on the same data folder, the page reconnects by itself and reloads what changed', async () => {
    await open('keys');
    expectingErrors = true;
    await serve.stop();
    const stoppedAt = Date.now();
    const lost = page.getByText('Lost connection to the gate — reconnecting…');
    await lost.waitFor({ timeout: 5_000 });
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    expect(await statusLink('Gate: Disconnected').isVisible()).toBe(true);
    expect(await statusLink('Gate: Serving').count()).toBe(0);
    expect(await statusLink('Ollama: Unknown').isVisible()).toBe(true);
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await expectNoSidewaysScroll(`disconnected at ${size.width}`);
      await page.screenshot({ path: join(SCREENSHOTS, `window-shell-disconnected-en-light${size === NARROW ? '-narrow' : ''}.png`) });
    }
    await page.setViewportSize(WIDE);

    // While the page is away: a key added from the command line, and a request through the gate.
    const added = JSON.parse(
      execFileSync(process.execPath, [CLI, 'keys', 'add', 'bob', '--data-dir', dataDir, '--json'], { encoding: 'utf8' }).trim().split('\n').at(-1)!,
    ) as { key: string };
    const previousLogin = serve.loginUrl;
    serve = await start();
    // The admin token is kept in the data folder: the same link, and the page's cookie still works.
    expect(serve.loginUrl).toBe(previousLogin);
    const tags = await fetch(`${serve.proxyUrl}/api/tags`, { headers: { authorization: `Bearer ${added.key}` } });
    expect(tags.status).toBe(200);

    // Nobody clicks anything: the backoff's next attempt finds the gate again.
    await lost.waitFor({ state: 'detached', timeout: 20_000 });
    await statusLink('Gate: Serving').waitFor();
    await page.getByRole('cell', { name: 'bob' }).first().waitFor({ timeout: 5_000 });
    await page.getByText('Reconnected to the gate').waitFor();
    // The log history is fetched again: the request made while away is there.
    await page.getByRole('navigation').getByRole('link', { name: 'Logs', exact: true }).click();
    await page.getByRole('option').filter({ hasText: '/api/tags' }).filter({ hasText: 'bob' }).first().waitFor({ timeout: 5_000 });
    expectingErrors = false;
  }, 90_000);

  it('after the admin token is replaced (its file deleted, serve restarted), the page says to open the new link and stops retrying; opened, it reconnects', async () => {
    await open('keys');
    expectingErrors = true;
    await serve.stop();
    rmSync(join(dataDir, 'admin-token'));
    const previousLogin = serve.loginUrl;
    serve = await start();
    expect(serve.loginUrl).not.toBe(previousLogin);

    const refused = page.getByText('The gate no longer accepts this page', { exact: false });
    await page.getByRole('button', { name: 'Try now' }).click();
    await refused.waitFor({ timeout: 5_000 });
    expect(await page.locator('.connection-banner').innerText()).toContain('ollama-gate serve');
    expect(await statusLink('Gate: Disconnected').isVisible()).toBe(true);
    for (const size of SIZES) {
      await page.setViewportSize(size);
      await expectNoSidewaysScroll(`refused at ${size.width}`);
      await page.screenshot({ path: join(SCREENSHOTS, `window-shell-refused-en-light${size === NARROW ? '-narrow' : ''}.png`) });
    }
    await page.setViewportSize(WIDE);
    // No endless retries: nothing is asked of the gate until the user acts.
    const requests = () => page.evaluate(() => performance.getEntriesByType('resource').length);
    const before = await requests();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await requests()).toBe(before);

    // The user opens the new link in another tab, and comes back to this one.
    const other = await browser.context.newPage();
    await other.goto(serve.loginUrl);
    await other.close();
    await page.getByRole('button', { name: 'Try again' }).click();
    await refused.waitFor({ state: 'detached', timeout: 5_000 });
    await statusLink('Gate: Serving').waitFor();
    expectingErrors = false;
  }, 90_000);

  it('a connection lost without a restart (the network, an SSH tunnel) comes back on its own, and what changed meanwhile shows', async () => {
    await open('keys');
    expectingErrors = true;
    await browser.context.setOffline(true);
    // The open event stream may outlive the network for a while; the next call does not.
    await page.getByRole('navigation').getByRole('link', { name: 'Sessions', exact: true }).click();
    const lost = page.getByText('Lost connection to the gate — reconnecting…');
    await lost.waitFor({ timeout: 5_000 });
    expect(await statusLink('Gate: Disconnected').isVisible()).toBe(true);
    execFileSync(process.execPath, [CLI, 'keys', 'add', 'carol', '--data-dir', dataDir], { encoding: 'utf8' });
    // Let an attempt or two fail first: the backoff keeps going on its own.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await lost.isVisible()).toBe(true);
    await browser.context.setOffline(false);
    await lost.waitFor({ state: 'detached', timeout: 20_000 });
    await statusLink('Gate: Serving').waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Keys', exact: true }).click();
    await page.getByRole('cell', { name: 'carol' }).first().waitFor({ timeout: 5_000 });
    expectingErrors = false;
  }, 60_000);

  it('a browser without the token gets a page that says how to get in, styled under the admin’s CSP', async () => {
    // The browser forgets the admin cookie: a visitor who never opened the link.
    await browser.context.clearCookies();
    const visitor = await browser.context.newPage();
    const cspProblems: string[] = [];
    visitor.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspProblems.push(message.text());
    });
    for (const scheme of ['light', 'dark'] as const) {
      await visitor.emulateMedia({ colorScheme: scheme });
      for (const size of SIZES) {
        await visitor.setViewportSize(size);
        const answer = await visitor.goto(serve.adminUrl);
        expect(answer!.status()).toBe(401);
        await visitor.getByRole('heading', { level: 1, name: 'This page needs the admin link' }).waitFor();
        expect(await visitor.locator('main').innerText()).toContain('ollama-gate serve');
        // The stylesheet applied (the page is a centred card), so the CSP let it in.
        expect(await visitor.evaluate(() => getComputedStyle(document.body).display)).toBe('grid');
        const widths = await visitor.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
        expect(widths[0]).toBeLessThanOrEqual(widths[1]!);
        await visitor.screenshot({ path: join(SCREENSHOTS, `window-shell-401-en-${scheme}${size === NARROW ? '-narrow' : ''}.png`) });
      }
    }
    // A browser that prefers Chinese (this profile's own locale is en-US).
    await visitor.route(serve.adminUrl, (route) => route.continue({ headers: { ...route.request().headers(), 'accept-language': 'zh-CN,zh;q=0.9' } }));
    await visitor.emulateMedia({ colorScheme: 'light' });
    await visitor.setViewportSize(WIDE);
    await visitor.goto(serve.adminUrl);
    await visitor.getByRole('heading', { level: 1, name: '此页面需要通过管理链接打开' }).waitFor();
    await visitor.screenshot({ path: join(SCREENSHOTS, 'window-shell-401-zh-CN-light.png') });
    expect(cspProblems).toEqual([]);
    await visitor.close();
  });
});
