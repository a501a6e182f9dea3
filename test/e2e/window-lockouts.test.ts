/**
 * Lockouts as an admin meets them: a client sends ten wrong keys through a real `ollama-gate serve`
 * in front of the fake Ollama, the Sessions page shows its address locked out with a countdown,
 * the Logs page says "locked out", in Chinese too, and Unlock lets the next good request through.
 * Chromium at the window's default size and at its smallest.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyWithSecret, LockoutView, LogEntry } from '../../electron/shared/contract.js';
import { type FakeOllama, startFakeOllama } from '../support/fake-ollama.js';
import { adminValue, collectProblems, eventually, hasChromium, launchBrowser, SCREENSHOTS, type Serve, startServe } from './support.js';

const DEFAULT = { width: 1120, height: 760 };
const SMALLEST = { width: 720, height: 480 };
const SIZES = [
  { size: DEFAULT, suffix: '' },
  { size: SMALLEST, suffix: '-narrow' },
];

describe.skipIf(!hasChromium)('lockouts in the window, in Chromium', () => {
  let fake: FakeOllama;
  let serve: Serve;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let page: Page;
  let secret: string;
  const problems: string[] = [];

  const gateCall = <T>(method: string, body?: unknown): Promise<T> => adminValue<T>(serve, method, body);

  async function open(name: 'sessions' | 'logs', language: 'en' | 'zh-CN' = 'en'): Promise<void> {
    await page.goto(`${serve.adminUrl}#/${name}`);
    await page.evaluate(`localStorage.setItem('ollama-gate.language', '${language}')`);
    await page.reload();
    await page.locator('main h1').first().waitFor();
  }

  /** Nothing scrolls sideways: not the page, not <main>. */
  async function expectNoSidewaysScroll(): Promise<void> {
    const overflow = await page.evaluate(() => {
      const wider = (element: Element | null) => (element ? element.scrollWidth - element.clientWidth : 0);
      return { page: wider(document.documentElement), main: wider(document.querySelector('main')) };
    });
    expect(overflow).toEqual({ page: 0, main: 0 });
  }

  const goodKey = () => fetch(`${serve.proxyUrl}/api/tags`, { headers: { Authorization: `Bearer ${secret}` } });

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    fake = await startFakeOllama();
    serve = await startServe(fake.url);
    ({ secret } = await gateCall<KeyWithSecret>('keys.create', { user: 'alice' }));
    browser = await launchBrowser();
    page = await browser.context.newPage();
    collectProblems(page, problems);
    await page.goto(serve.loginUrl);
    await page.locator('main h1').first().waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  it('explains lockouts while there are none, and links to their settings', async () => {
    await page.setViewportSize(DEFAULT);
    await open('sessions');
    const section = page.getByRole('region', { name: 'Locked out' });
    await section.getByText('No address is locked out or sending wrong keys.').waitFor();
    expect(await section.innerText()).toContain('After 10 wrong keys within 1 min, an address is refused for 5 min');
    await page.screenshot({ path: join(SCREENSHOTS, 'lockouts-empty-en-light.png') });
    await section.getByRole('link', { name: 'Lockout settings' }).click();
    await page.waitForURL(/#\/settings$/);
    // The settings it points to are there, labelled.
    for (const label of ['Wrong keys before lockout', 'Counting window (seconds)', 'Lockout (seconds)'])
      await page.getByLabel(label, { exact: true }).waitFor();
  });

  it('shows 127.0.0.1 locked out with a live countdown after ten wrong keys, at both sizes, without sideways scrolling', async () => {
    for (let i = 0; i < 10; i++) {
      const wrong = await fetch(`${serve.proxyUrl}/api/tags`, { headers: { Authorization: `Bearer og_wrong_key_number_${i}` } });
      expect(wrong.status).toBe(403);
    }
    // Locked out now: even the right key is refused, twice over.
    expect((await goodKey()).status).toBe(429);
    expect((await goodKey()).status).toBe(429);
    const listed = await gateCall<LockoutView[]>('lockouts.list');
    expect(listed).toMatchObject([{ ip: '127.0.0.1', failures: 10 }]);

    for (const { size, suffix } of SIZES) {
      await page.setViewportSize(size);
      await open('sessions');
      const row = page.getByRole('table', { name: 'Addresses locked out or sending wrong keys' }).getByRole('row').filter({ hasText: '127.0.0.1' });
      await row.waitFor();
      expect(await row.innerText()).toContain('Locked out');
      const countdown = row.getByLabel(/ left$/);
      const first = (await countdown.innerText()).trim();
      expect(first).toMatch(/^[45]:\d\d$/);
      // It counts down while the page is open.
      await eventually(async () => ((await countdown.innerText()).trim() !== first ? true : undefined), 3_000, 'the countdown moves');
      await row.getByRole('button', { name: 'Unlock 127.0.0.1' }).waitFor();
      await row.scrollIntoViewIfNeeded();
      await expectNoSidewaysScroll();
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        await page.screenshot({ path: join(SCREENSHOTS, `lockouts-sessions-en-${colorScheme}${suffix}.png`) });
      }
      await page.emulateMedia({ colorScheme: 'light' });
    }
  });

  it('says "locked out" on the Logs page for the refused requests, in English and in Chinese', async () => {
    await page.setViewportSize(DEFAULT);
    const logged = await eventually(
      async () => {
        const entries = await gateCall<LogEntry[]>('logs.recent');
        return entries.filter((e) => e.status === 429).length >= 2 ? entries : undefined;
      },
      5_000,
      'the refusals are logged',
    );
    const refused = logged.filter((e) => e.status === 429);
    for (const entry of refused) {
      expect(entry.error).toMatch(/^127\.0\.0\.1 is locked out after too many failed API keys; try again in \d+ s$/);
      expect(entry.reason).toMatchObject({ code: 'locked_out', params: { ip: '127.0.0.1' } });
    }

    for (const { language, says } of [
      { language: 'en', says: /127\.0\.0\.1 is locked out after too many wrong keys; try again in \d+ s/ },
      { language: 'zh-CN', says: /127\.0\.0\.1 因错误密钥过多已被锁定；请在 \d+ 秒后重试/ },
    ] as const) {
      await open('logs', language);
      const row = page.getByRole('listbox').getByRole('option').filter({ hasText: '429' }).first();
      await row.click();
      const detail = page.locator('.log-detail');
      await detail.waitFor();
      expect(await detail.innerText()).toMatch(says);
      await expectNoSidewaysScroll();
      await page.screenshot({ path: join(SCREENSHOTS, `lockouts-logs-${language}-light.png`) });
    }
    // The tenth wrong key says it started the lockout.
    await page.getByRole('listbox').getByRole('option').filter({ hasText: '403' }).first().click();
    expect(await page.locator('.log-detail').innerText()).toMatch(/API 密钥无效；错误密钥过多：127\.0\.0\.1 现已被锁定 300 秒/);
  });

  it('in Chinese, shows the lockout and unlocks it: the next request with the good key gets 200', async () => {
    for (const { size, suffix } of SIZES) {
      await page.setViewportSize(size);
      await open('sessions', 'zh-CN');
      const section = page.getByRole('region', { name: '已锁定' });
      const row = section.getByRole('row').filter({ hasText: '127.0.0.1' });
      await row.waitFor();
      expect(await row.innerText()).toContain('已锁定');
      await row.scrollIntoViewIfNeeded();
      await expectNoSidewaysScroll();
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        await page.screenshot({ path: join(SCREENSHOTS, `lockouts-sessions-zh-CN-${colorScheme}${suffix}.png`) });
      }
      await page.emulateMedia({ colorScheme: 'light' });
    }

    await page.setViewportSize(DEFAULT);
    const section = page.getByRole('region', { name: '已锁定' });
    await section.getByRole('button', { name: '解除 127.0.0.1 的锁定' }).click();
    await page.locator('.toasts').getByText('已解除 127.0.0.1 的锁定').waitFor();
    await section.getByText('没有被锁定或正在发送错误密钥的地址。').waitFor();
    expect((await goodKey()).status).toBe(200);
    expect(await gateCall<LockoutView[]>('lockouts.list')).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, 'lockouts-unlocked-zh-CN-light.png') });
    expect(problems).toEqual([]);
  });
});
