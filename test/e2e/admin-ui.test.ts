/**
 * The window as a user sees it: the built renderer in Debian's Chromium, served by the headless
 * admin of a real `ollama-gate serve` in front of the fake Ollama, driven by real clients.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatePage, KeyWithSecret } from '../../electron/shared/contract.js';
import { en } from '../../renderer/src/i18n/en.js';
import { zhCN } from '../../renderer/src/i18n/zh-CN.js';
import { type FakeOllama, startFakeOllama } from '../support/fake-ollama.js';
import { adminValue, collectProblems, eventually, hasChromium, launchBrowser, SCREENSHOTS, type Serve, startServe } from './support.js';

const PAGES: GatePage[] = ['overview', 'keys', 'sessions', 'logs', 'usage', 'settings'];
/** The desktop window's default size; its minimum is 720x480. */
const VIEWPORT = { width: 1120, height: 760 };
const NARROW = { width: 720, height: 480 };

describe.skipIf(!hasChromium)('the web admin in Chromium', () => {
  let fake: FakeOllama;
  let serve: Serve;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let page: Page;
  /** console errors, page errors and CSP violations: there must be none */
  const problems: string[] = [];

  /** A GateApi call straight to the admin, for setting the scene faster than clicking. */
  const gateCall = <T>(method: string, body?: unknown): Promise<T> => adminValue<T>(serve, method, body);

  async function open(name: GatePage): Promise<void> {
    await page.goto(`${serve.adminUrl}#/${name}`);
    await page.locator('main h1').first().waitFor();
  }

  beforeAll(async () => {
    fake = await startFakeOllama();
    serve = await startServe(fake.url);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    collectProblems(page, problems);
    await page.goto(serve.loginUrl);
    // The token became a cookie, and left the address bar.
    expect(page.url()).toBe(serve.adminUrl);
    await page.locator('main h1').first().waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  it('creates a key in the UI; a real client using it appears in the live log within a second; disabled in the UI, the client gets 403', async () => {
    await open('keys');
    await page.getByRole('button', { name: 'New key' }).click();
    const form = page.getByRole('dialog', { name: 'New key' });
    await form.getByLabel('User', { exact: true }).fill('alice');
    await form.getByLabel('Label', { exact: true }).fill('laptop');
    await form.getByRole('button', { name: 'Create key' }).click();

    const shown = page.getByRole('dialog', { name: 'Key created for alice' });
    const secret = (await shown.locator('.secret').textContent())!.trim();
    expect(secret).toMatch(/^og_[A-Za-z0-9_-]{20,}$/);
    // The snippets carry the secret and the gate's URL, ready to paste.
    await shown.getByRole('tab', { name: 'ollama-js' }).click();
    const snippet = await shown.locator('pre[data-snippet="ollama-js"]').textContent();
    expect(snippet).toContain(`Authorization: 'Bearer ${secret}'`);
    expect(snippet).toContain(serve.proxyUrl);
    await shown.getByRole('button', { name: 'Copy: The new key' }).click();
    await shown.getByRole('button', { name: 'Copied: The new key' }).waitFor();
    await shown.getByRole('button', { name: 'I have copied it' }).click();
    await shown.waitFor({ state: 'detached' });
    // Shown once: nowhere on the page any more.
    expect(await page.content()).not.toContain(secret);
    const toggle = page.getByRole('switch', { name: /^Key of alice/ });
    expect(await toggle.isChecked()).toBe(true);

    await page.getByRole('link', { name: 'Logs' }).click();
    await page.getByRole('listbox', { name: 'Requests, newest first' }).waitFor();
    const client = new Ollama({ host: serve.proxyUrl, headers: { Authorization: `Bearer ${secret}` } });
    const reply = await client.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hello' }], stream: false });
    expect(reply.message.content.length).toBeGreaterThan(0);
    const answeredAt = Date.now();
    const row = page.getByRole('option').filter({ hasText: '/api/chat' }).filter({ hasText: 'alice' });
    await row.first().waitFor({ timeout: 1_000 });
    expect(Date.now() - answeredAt).toBeLessThan(1_000);
    expect(await row.first().textContent()).toContain('200');

    // Its detail: timings, bytes, tokens and outcome.
    await row.first().click();
    const detail = page.getByRole('complementary', { name: 'Request' });
    await detail.waitFor();
    const text = await detail.innerText();
    for (const label of ['Duration', 'First byte after', 'Received', 'Sent', 'Prompt tokens', 'Completion tokens', 'Outcome']) expect(text).toContain(label);
    expect(text).toContain('Completed');
    expect(text).toContain('llama3.2');
    expect(text).not.toContain(secret);

    await page.getByRole('link', { name: 'Keys' }).click();
    await toggle.click();
    await eventually(async () => ((await toggle.isChecked()) ? undefined : true), 2_000, 'the switch turns off');
    const status = await eventually(
      async () => {
        const code = await client.list().then(
          () => 200,
          (error: { status_code?: number }) => error.status_code ?? 0,
        );
        return code === 403 ? code : undefined;
      },
      1_000,
      'the disabled key is refused',
    );
    expect(status).toBe(403);
  });

  it('lists an IP trusted through POST /auth in Sessions; revoked in the UI, a keyless request gets 401', async () => {
    const { secret } = await gateCall<KeyWithSecret>('keys.create', { user: 'bob' });
    const auth = await fetch(`${serve.proxyUrl}/auth`, { method: 'POST', body: JSON.stringify({ api_key: secret }) });
    expect(auth.status).toBe(200);
    expect((await fetch(`${serve.proxyUrl}/api/tags`)).status).toBe(200);

    await open('sessions');
    // The intro says how many addresses one key may trust (the gate's maxSessionsPerKey, 32 by default).
    expect(await page.locator('.lead').textContent()).toContain('Each key may trust at most 32 addresses; a new one ends the least recently used.');
    // The trusted addresses' table: the lockouts table below may list 127.0.0.1 for a wrong key too.
    const row = page.getByRole('table', { name: 'Trusted addresses' }).getByRole('row').filter({ hasText: '127.0.0.1' });
    await row.waitFor();
    expect(await row.textContent()).toContain('bob');
    await page.getByRole('button', { name: 'Revoke trust in 127.0.0.1' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await fetch(`${serve.proxyUrl}/api/tags`)).status).toBe(401);
  });

  it('validates settings with clear messages, shows the gate’s own refusals by field, and applies changes live', async () => {
    await open('settings');
    const ttl = page.getByLabel('IP session lifetime (seconds)');
    await ttl.fill('-5');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('Whole seconds from 0 to 2592000 (30 days).').waitFor();
    await ttl.fill('7200');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('Applied.').waitFor();
    const settings = await gateCall<{ proxy: { sessionTtlSeconds: number } }>('settings.get');
    expect(settings.proxy.sessionTtlSeconds).toBe(7200);

    // A value only the gate refuses (an origin longer than it keeps): its reason, under the field.
    const cors = page.getByLabel('CORS origins');
    await cors.fill(`http://${'a'.repeat(300)}.example`);
    await page.getByRole('button', { name: 'Apply' }).click();
    const reason = page.locator('.field.invalid').filter({ has: cors }).locator('.error-text');
    await reason.waitFor();
    expect(await reason.textContent()).toMatch(/300/);
    await page.getByRole('button', { name: 'Undo changes' }).click();

    // A limit, typed in MiB: checked against the gate's range, stored in bytes, applied at once.
    const inspect = page.getByLabel('Body read for model and key (MiB)');
    expect(await inspect.inputValue()).toBe('16');
    await inspect.fill('0.5');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('MiB from 1 to 1024.').waitFor();
    await page.getByRole('button', { name: 'Undo changes' }).click();
    const largest = page.getByLabel('Largest request body (MiB)');
    expect(await largest.inputValue()).toBe('0');
    await largest.fill('0.01');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('Applied.').waitFor();
    const limited = await gateCall<{ proxy: { maxBodyBytes: number; maxInspectBytes: number } }>('settings.get');
    expect(limited.proxy).toMatchObject({ maxBodyBytes: Math.round(0.01 * 1024 * 1024), maxInspectBytes: 16 * 1024 * 1024 });
    const { secret } = await gateCall<KeyWithSecret>('keys.create', { user: 'erin' });
    const chat = (content: string) =>
      fetch(`${serve.proxyUrl}/api/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}` },
        body: JSON.stringify({ model: 'llama3.2', stream: false, messages: [{ role: 'user', content }] }),
      });
    const tooLarge = await chat('x'.repeat(20_000));
    expect(tooLarge.status).toBe(413);
    await tooLarge.arrayBuffer();
    expect((await chat('Hello')).status).toBe(200);
    await largest.fill('0');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('Applied.').waitFor();
    expect((await gateCall<{ proxy: { maxBodyBytes: number } }>('settings.get')).proxy.maxBodyBytes).toBe(0);
    // Launch at login exists only in the desktop app.
    expect(await page.getByLabel('Launch at login').count()).toBe(0);
  });

  it('moves by keyboard: skip link, navigation, focus on the new page, and rows of the log', async () => {
    await open('overview');
    await page.reload();
    await page.locator('main h1').first().waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string | undefined>('document.activeElement?.textContent')).toBe('Skip to content');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string | undefined>('document.activeElement?.textContent')).toBe('Overview');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string | undefined>('document.activeElement?.textContent')).toBe('Logs');
    await page.keyboard.press('Enter');
    await eventually(
      async () => ((await page.evaluate<string | undefined>('document.activeElement?.tagName')) === 'H1' ? true : undefined),
      2_000,
      'focus moves to the heading',
    );
    expect(page.url()).toMatch(/#\/logs$/);
    await page.getByRole('listbox', { name: 'Requests, newest first' }).focus();
    await page.keyboard.press('Home');
    await page.getByRole('complementary', { name: 'Request' }).waitFor();
    expect(await page.getByRole('listbox', { name: 'Requests, newest first' }).getByRole('option', { selected: true }).count()).toBe(1);
    await page.keyboard.press('Escape');
    await page.getByRole('complementary', { name: 'Request' }).waitFor({ state: 'detached' });
  });

  it('writes a screenshot of every page in both languages and both themes, at 1120x760 and 720x480, with nothing untranslated and nothing scrolling sideways', async () => {
    await setTheScene();
    mkdirSync(SCREENSHOTS, { recursive: true });
    const untranslated = new Set(
      Object.entries(en)
        .filter(([key, text]) => zhCN[key as keyof typeof en] !== text)
        .map(([, text]) => text as string),
    );
    const leftovers: string[] = [];
    const sideways: string[] = [];
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      for (const language of ['en', 'zh-CN'] as const) {
        await page.locator('.language-switch select').selectOption(language);
        await eventually(
          async () => ((await page.evaluate<string>('document.documentElement.lang')) === language ? true : undefined),
          2_000,
          'the language changes',
        );
        // The page scrolls inside <main>: grow the window to the content so the picture holds all of it.
        const shot = async (name: string, whole = true, size = VIEWPORT) => {
          await page.setViewportSize(size);
          await page.waitForTimeout(50);
          // Nothing scrolls sideways, at the default size nor at the smallest.
          const overflow = await page.evaluate<number[]>(
            "[document.documentElement, document.querySelector('main')].map((e) => e.scrollWidth - e.clientWidth)",
          );
          if (overflow.some((px) => px > 0)) sideways.push(`${name} ${size.width}x${size.height} ${language} ${colorScheme}: ${overflow.join('/')} px`);
          const height = whole
            ? await page.evaluate<number>("(main => Math.ceil(main.getBoundingClientRect().top) + main.scrollHeight)(document.querySelector('main'))")
            : size.height;
          await page.setViewportSize({ width: size.width, height: Math.min(Math.max(height, size.height), 6_000) });
          const suffix = size === NARROW ? '-narrow' : '';
          await page.screenshot({ path: join(SCREENSHOTS, `${name}-${language}-${colorScheme}${suffix}.png`) });
          await page.setViewportSize(VIEWPORT);
        };
        for (const name of PAGES) {
          await open(name);
          if (name === 'logs') await page.getByRole('listbox').getByRole('option').first().click();
          if (name === 'overview') {
            // (no QR code: this gate listens on 127.0.0.1 only, which a phone cannot open)
            await page.locator('.proxy-card .url-list').first().waitFor();
            await page.locator('.test-card button[type="submit"]').click();
            await page.locator('.test-result').waitFor();
          }
          if (name === 'usage') await page.locator('rect.bar').first().waitFor();
          await page.waitForTimeout(150);
          await shot(name);
          await shot(name, false, NARROW);
          if (language === 'zh-CN' && colorScheme === 'light')
            leftovers.push(...(await visibleTexts(page)).filter((text) => untranslated.has(text)).map((text) => `${name}: ${text}`));
        }
        await open('keys');
        await page.locator('.page-header .button.primary').click();
        await page.getByRole('dialog').waitFor();
        await shot('keys-new', false);
        await page.keyboard.press('Escape');
        await page.getByRole('dialog').waitFor({ state: 'detached' });
        await page.locator('tr', { hasText: 'dave' }).locator('.row-menu-button').click();
        await page.getByRole('menuitem').nth(3).click();
        await page.getByRole('dialog').locator('.button.primary').click();
        await page.getByRole('dialog').locator('.secret').waitFor();
        await shot('keys-secret', false);
        await page.getByRole('dialog').locator('.secret-row .button').click();
        await page
          .getByRole('dialog')
          .locator('.secret-row .button', { hasText: language === 'en' ? 'Copied' : '已复制' })
          .waitFor();
        await page.getByRole('dialog').locator('.dialog-actions .button.primary').click();
        await page.getByRole('dialog').waitFor({ state: 'detached' });
      }
    }
    expect(leftovers).toEqual([]);
    expect(sideways).toEqual([]);
  });

  it('holds ten thousand live rows, renders only those in view, and scrolls through them without freezing', async () => {
    await open('logs');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.locator('.language-switch select').selectOption('en');
    const started = Date.now();
    let sent = 0;
    // Keyless requests are the cheapest to log: 401 at once, Ollama never asked.
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (sent < 10_000) {
          sent++;
          await (await fetch(`${serve.proxyUrl}/api/tags?n=${sent}`)).arrayBuffer();
        }
      }),
    );
    await page.getByText('Showing 10,000 of 10,000 requests').waitFor({ timeout: 20_000 });
    console.info(`10,000 requests sent and shown in ${Date.now() - started} ms`);
    const list = page.getByRole('listbox', { name: 'Requests, newest first' });
    expect(await list.getByRole('option').count()).toBeLessThan(80);
    // Scroll from top to bottom in 60 steps, one frame each, timing the frames.
    const scroll = await page.evaluate<{ median: number; worst: number; rows: number; last: string }>(`(async () => {
      const list = document.querySelector('.log-scroll');
      const gaps = [];
      for (let step = 0; step <= 60; step++) {
        const before = performance.now();
        list.scrollTop = (list.scrollHeight - list.clientHeight) * step / 60;
        await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
        gaps.push(performance.now() - before);
      }
      gaps.sort((a, b) => a - b);
      const rows = [...list.querySelectorAll('[role=option]')];
      const bottom = rows.reduce((a, b) => (a.getBoundingClientRect().top > b.getBoundingClientRect().top ? a : b));
      return { median: gaps[30], worst: gaps[60], rows: rows.length, last: bottom.textContent };
    })()`);
    console.info(`scrolling 10,000 rows: median ${scroll.median.toFixed(1)} ms per step, worst ${scroll.worst.toFixed(1)} ms, ${scroll.rows} rows in the DOM`);
    expect(scroll.rows).toBeLessThan(80);
    // Frame times belong to a benchmark, not a test on a shared machine: this only catches a list that freezes.
    expect(scroll.median).toBeLessThan(1_000);
    // The bottom of the list is the oldest request still held.
    expect(scroll.last).toMatch(/\/api\/tags\?n=\d+/);
  });

  it('ran without a console error, a page error or a CSP violation', () => {
    expect(problems).toEqual([]);
  });

  /** Keys of every kind, requests of every outcome, a session: something to look at on every page. */
  async function setTheScene(): Promise<void> {
    const carol = await gateCall<KeyWithSecret>('keys.create', {
      user: 'carol',
      name: 'workstation',
      models: ['llama3*', 'qwen2.5:7b'],
      rpm: 60,
      concurrency: 2,
      dailyTokens: 200_000,
      expiresAt: Date.now() + 30 * 86_400_000,
    });
    const dave = await gateCall<KeyWithSecret>('keys.create', { user: 'dave', scope: 'full' });
    const chat = (key: string, model: string) =>
      fetch(`${serve.proxyUrl}/api/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }], stream: false }),
      }).then((r) => r.text());
    for (let i = 0; i < 3; i++) await chat(carol.secret, 'qwen2.5:7b');
    await chat(dave.secret, 'llama3.2');
    await fetch(`${serve.proxyUrl}/api/tags`, { headers: { authorization: 'Bearer og_not_a_real_key_at_all_000000' } });
    await fetch(`${serve.proxyUrl}/api/tags`);
    await fetch(`${serve.proxyUrl}/api/show`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dave.secret}` },
      body: JSON.stringify({ model: 'missing' }),
    });
    await fetch(`${serve.proxyUrl}/auth`, { method: 'POST', body: JSON.stringify({ api_key: carol.secret }) });
  }
});

/**
 * Every piece of text a user can see or hear: text nodes, labels, placeholders, titles. (A string,
 * because it runs in the page and this file is type-checked without the DOM's types.)
 */
function visibleTexts(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const texts = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent.trim();
      if (text) texts.push(text);
    }
    for (const element of document.querySelectorAll('[aria-label], [placeholder], [title]')) {
      for (const name of ['aria-label', 'placeholder', 'title']) {
        const value = (element.getAttribute(name) || '').trim();
        if (value) texts.push(value);
      }
    }
    return texts;
  })()`);
}
