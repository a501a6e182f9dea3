/**
 * The Logs page as a user diagnoses from it: real clients through a real `ollama-gate serve` in
 * front of the fake Ollama, the window in Chromium at its default size and at its smallest.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyWithSecret, LogEntry } from '../../electron/shared/contract.js';
import { type FakeOllama, startFakeOllama } from '../support/fake-ollama.js';
import { adminValue, collectProblems, eventually, hasChromium, launchBrowser, SCREENSHOTS, type Serve, startServe } from './support.js';

const DEFAULT = { width: 1120, height: 760 };
const SMALLEST = { width: 720, height: 480 };

describe.skipIf(!hasChromium)('the Logs page in Chromium', () => {
  let fake: FakeOllama;
  let serve: Serve;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let page: Page;
  const problems: string[] = [];

  const gateCall = <T>(method: string, body?: unknown): Promise<T> => adminValue<T>(serve, method, body);

  async function openLogs(): Promise<Locator> {
    await page.goto(`${serve.adminUrl}#/logs`);
    await page.locator('main h1').first().waitFor();
    const list = page.getByRole('listbox');
    await list.getByRole('option').nth(4).waitFor();
    return list;
  }

  /** Nothing scrolls sideways: not the page, not <main>, not the list. */
  async function expectNoSidewaysScroll(): Promise<void> {
    const overflow = await page.evaluate(() => {
      const wider = (element: Element | null) => (element ? element.scrollWidth - element.clientWidth : 0);
      return {
        page: wider(document.documentElement),
        main: wider(document.querySelector('main')),
        list: wider(document.querySelector('.log-scroll')),
        head: wider(document.querySelector('.log-head')),
      };
    });
    expect(overflow).toEqual({ page: 0, main: 0, list: 0, head: 0 });
  }

  /** The header cells the list shows at this size, by their column class. */
  async function visibleColumns(): Promise<string[]> {
    return page.evaluate(() =>
      [...document.querySelectorAll('.log-head > span')]
        .filter((cell) => getComputedStyle(cell).display !== 'none' && cell.getBoundingClientRect().width > 0)
        .map((cell) => cell.className.split(' ')[0]!.replace('c-', '')),
    );
  }

  beforeAll(async () => {
    fake = await startFakeOllama();
    serve = await startServe(fake.url);
    const { secret } = await gateCall<KeyWithSecret>('keys.create', { user: 'alice' });
    await gateCall<KeyWithSecret>('keys.create', { user: 'bob' });

    // Real traffic: the ollama client, the OpenAI client, curl, a wrong key, a model Ollama lacks.
    const ollama = new Ollama({ host: serve.proxyUrl, headers: { Authorization: `Bearer ${secret}` } });
    await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hello' }], stream: false });
    await ollama.generate({ model: 'qwen2.5:7b', prompt: 'Hi', stream: false });
    await expect(ollama.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'Hello' }], stream: false })).rejects.toThrow(/not found/);
    const openai = new OpenAI({ baseURL: `${serve.proxyUrl}/v1`, apiKey: secret, maxRetries: 0 });
    await openai.chat.completions.create({ model: 'qwen2.5:7b', messages: [{ role: 'user', content: 'Hi' }] });
    const wrong = await fetch(`${serve.proxyUrl}/api/tags`, {
      headers: { Authorization: 'Bearer og_thisisnotakeythisisnotakey00', 'User-Agent': 'curl/8.5.0' },
    });
    expect(wrong.status).toBe(403);
    const tags = await fetch(`${serve.proxyUrl}/api/tags`, { headers: { Authorization: `Bearer ${secret}`, 'User-Agent': 'python-requests/2.31.0' } });
    expect(tags.status).toBe(200);
    await eventually(async () => ((await gateCall<LogEntry[]>('logs.recent')).length >= 6 ? true : undefined), 5_000, 'the requests are logged');

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

  it('at 1120x760 shows time, outcome, request, user, model, client and duration, and tells who refused', async () => {
    await page.setViewportSize(DEFAULT);
    const list = await openLogs();
    expect(await visibleColumns()).toEqual(expect.arrayContaining(['time', 'outcome', 'request', 'user', 'model', 'client', 'duration']));
    await expectNoSidewaysScroll();

    // The ollama client's chat: its model and the client by a short name, completed.
    const chat = list.getByRole('option').filter({ has: page.locator('.c-model', { hasText: /^llama3\.2$/ }) });
    expect(await chat.locator('.c-client').innerText()).toMatch(/^ollama-js \d+\.\d+$/);
    expect(await chat.locator('.c-client').getAttribute('title')).toMatch(/^ollama-js\/\d+\.\d+\.\d+ \(/);
    expect(await chat.locator('.outcome-badge').innerText()).toMatch(/Completed\s*·\s*200/);
    expect(await chat.locator('.c-user').innerText()).toBe('alice');

    // The OpenAI client, by its own name.
    const openai = list.getByRole('option').filter({ hasText: '/v1/chat/completions' });
    expect(await openai.locator('.c-client').innerText()).toMatch(/^OpenAI\/JS \d+\.\d+$/);

    // A model the fake Ollama does not have: Ollama's refusal, not "Completed".
    const missing = list.getByRole('option').filter({ has: page.locator('.c-model', { hasText: 'no-such-model' }) });
    const missingBadge = missing.locator('.outcome-badge');
    expect(await missingBadge.innerText()).toMatch(/Ollama refused\s*·\s*404/);
    expect(await missingBadge.getAttribute('class')).toContain('ollamaRefused');

    // A wrong key: the gate's refusal, in its own colour.
    const refused = list.getByRole('option').filter({ has: page.locator('.c-client', { hasText: 'curl 8.5' }) });
    const refusedBadge = refused.locator('.outcome-badge');
    expect(await refusedBadge.innerText()).toMatch(/Refused by gate\s*·\s*403/);
    const colours = await page.evaluate(() => {
      const colour = (selector: string) => getComputedStyle(document.querySelector(selector)!).color;
      return { gate: colour('.outcome-badge.gateRefused'), ollama: colour('.outcome-badge.ollamaRefused'), ok: colour('.outcome-badge.completed') };
    });
    expect(new Set(Object.values(colours)).size).toBe(3);

    // The details carry the full User-Agent and who answered.
    await missing.click();
    const detail = page.getByRole('complementary', { name: 'Request' });
    const text = await detail.innerText();
    expect(text).toMatch(/Client \(User-Agent\)\s+ollama-js\/\d+\.\d+\.\d+ \(/);
    expect(text).toContain('Ollama itself');
    expect(text).toContain('Ollama refused');
    await expectNoSidewaysScroll();
    await page.keyboard.press('Escape');

    // The search finds requests by client.
    await page.getByLabel('Search').fill('python-requests');
    await eventually(async () => ((await list.getByRole('option').count()) === 1 ? true : undefined), 2_000, 'one python-requests row');
    expect(await list.getByRole('option').locator('.c-client').innerText()).toBe('python-requests 2.31');
    await page.getByLabel('Search').fill('');
  });

  it('at 720x480 folds columns away rather than scrolling sideways, and still says who refused', async () => {
    await page.setViewportSize(SMALLEST);
    const list = await openLogs();
    await expectNoSidewaysScroll();
    const columns = await visibleColumns();
    expect(columns.slice(0, 3)).toEqual(['time', 'outcome', 'request']);
    expect(columns).not.toContain('tokens');
    // Every visible cell of every row lies inside the list.
    const outside = await page.evaluate(() => {
      const list = document.querySelector('.log-scroll')!.getBoundingClientRect();
      return [...document.querySelectorAll('.log-rows .log-row > span')].filter((cell) => {
        const box = cell.getBoundingClientRect();
        return box.width > 0 && (box.left < list.left - 0.5 || box.right > list.right + 0.5);
      }).length;
    });
    expect(outside).toBe(0);
    expect(await list.locator('.outcome-badge.gateRefused').first().innerText()).toContain('403');
    expect(await list.locator('.outcome-badge.ollamaRefused').first().innerText()).toContain('404');
    // What folded away is in the details.
    await list.locator('.log-row', { has: page.locator('.outcome-badge.ollamaRefused') }).click();
    const detail = page.getByRole('complementary', { name: 'Request' });
    const text = await detail.innerText();
    expect(text).toContain('no-such-model');
    expect(text).toMatch(/ollama-js\/\d/);
    await expectNoSidewaysScroll();
    mkdirSync(SCREENSHOTS, { recursive: true });
    await detail.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, 'logs-detail-en-light-narrow.png') });
    await page.keyboard.press('Escape');
  });

  it('sets how many requests are kept across restarts on the Settings page', async () => {
    for (const [size, suffix] of [
      [DEFAULT, ''],
      [SMALLEST, '-narrow'],
    ] as const) {
      await page.setViewportSize(size);
      await page.goto(`${serve.adminUrl}#/settings`);
      await page.reload();
      const field = page.getByLabel('Requests kept across restarts');
      await field.waitFor();
      expect(await field.inputValue()).toBe('1000');
      await field.fill('250');
      await page.getByRole('button', { name: 'Apply' }).click();
      await eventually(
        async () => ((await gateCall<{ proxy: { logHistoryEntries: number } }>('settings.get')).proxy.logHistoryEntries === 250 ? true : undefined),
        3_000,
        'the setting is saved',
      );
      await field.evaluate((element) => element.scrollIntoView({ block: 'center' }));
      await page.screenshot({ path: join(SCREENSHOTS, `logs-history-setting-en-light${suffix}.png`) });
      await gateCall('settings.update', { proxy: { logHistoryEntries: 1000 } });
      await page.reload();
      await page.getByLabel('Requests kept across restarts').waitFor();
      // Out of range: the form says so and sends nothing.
      await page.getByLabel('Requests kept across restarts').fill('10001');
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.getByText('A whole number from 0 to 10000 (0 keeps none).').waitFor();
      expect((await gateCall<{ proxy: { logHistoryEntries: number } }>('settings.get')).proxy.logHistoryEntries).toBe(1000);
      const wider = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(wider).toBeLessThanOrEqual(0);
    }
  });

  it('writes screenshots in both languages and themes, at both sizes', async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    for (const language of ['en', 'zh-CN'] as const) {
      await page.evaluate((value) => localStorage.setItem('ollama-gate.language', value), language);
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        for (const [size, suffix] of [
          [DEFAULT, ''],
          [SMALLEST, '-narrow'],
        ] as const) {
          await page.setViewportSize(size);
          const list = await openLogs();
          await page.reload();
          await list.getByRole('option').nth(4).waitFor();
          await eventually(
            async () => ((await page.evaluate(() => document.documentElement.lang)) === language ? true : undefined),
            2_000,
            'the language applies',
          );
          if (language === 'zh-CN') {
            expect(await list.locator('.outcome-badge.gateRefused').first().innerText()).toContain('被网关拒绝');
            if (size === DEFAULT) expect(await list.locator('.outcome-badge.ollamaRefused').first().innerText()).toContain('Ollama 拒绝');
          }
          await expectNoSidewaysScroll();
          await page.screenshot({ path: join(SCREENSHOTS, `logs-page-${language}-${colorScheme}${suffix}.png`) });
          if (size === DEFAULT) {
            await list.locator('.log-row', { has: page.locator('.outcome-badge.ollamaRefused') }).click();
            await page.getByRole('complementary').waitFor();
            await expectNoSidewaysScroll();
            await page.screenshot({ path: join(SCREENSHOTS, `logs-detail-${language}-${colorScheme}.png`) });
            await page.keyboard.press('Escape');
          }
        }
      }
    }
    await page.evaluate(() => localStorage.setItem('ollama-gate.language', 'en'));
    await page.emulateMedia({ colorScheme: 'light' });
    expect(problems).toEqual([]);
  });
});
