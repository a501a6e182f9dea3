/**
 * The keys page as a user sees it, in Debian's Chromium against a real `ollama-gate serve` in
 * front of the fake Ollama, at the window's default size and at its smallest: with realistic keys
 * (long names and labels, several model patterns, limits and expiries on every key) each row's
 * actions stay reachable without scrolling sideways, and each of them works.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyView, KeyWithSecret } from '../../electron/shared/contract.js';
import { type FakeOllama, startFakeOllama } from '../support/fake-ollama.js';
import { adminValue, collectProblems, eventually, hasChromium, launchBrowser, SCREENSHOTS, type Serve, startServe } from './support.js';

const SIZES = [
  { width: 1120, height: 760, suffix: '' },
  { width: 720, height: 480, suffix: '-narrow' },
] as const;

const DAY = 86_400_000;

/** Keys as a small team has them. */
const KEYS = [
  {
    user: 'maximilian.schneider-oberhausen',
    name: 'ThinkPad X1 Carbon (Gen 11), Frankfurt office, 3rd floor',
    models: ['llama3*', 'qwen2.5:72b-instruct-q4_K_M', 'deepseek-r1:*', 'nomic-embed-text', 'mistral-nemo:12b'],
    rpm: 120,
    concurrency: 4,
    dailyTokens: 2_000_000,
    expiresAt: Date.now() + 90 * DAY,
  },
  {
    user: '王小明 wang.xiaoming',
    name: '实验室工作站 GPU-02（深度学习组）',
    models: ['qwen2.5:*', 'deepseek-r1:14b', 'nomic-embed-text'],
    rpm: 60,
    concurrency: 2,
    dailyTokens: 500_000,
    expiresAt: Date.now() + 30 * DAY,
  },
  {
    user: 'ci-pipeline-integration-tests',
    name: 'GitHub Actions self-hosted runner build-agent-07',
    scope: 'full',
    models: ['llama3.2:latest', 'nomic-embed-text', 'all-minilm:latest', 'qwen2.5:7b'],
    rpm: 600,
    concurrency: 8,
    dailyTokens: 10_000_000,
    expiresAt: Date.now() + 7 * DAY,
  },
  {
    user: 'open-webui-family-server',
    name: 'Open WebUI on the living-room NUC',
    models: ['llama3*', 'qwen2.5:7b', 'mistral-nemo:12b', 'gemma2:9b'],
    rpm: 30,
    concurrency: 1,
    dailyTokens: 200_000,
    expiresAt: Date.now() + 365 * DAY,
  },
  {
    user: 'anna-lena.mueller-luedenscheidt',
    name: 'MacBook Pro 16" (M3 Max), home office, Lüdenscheid',
    models: ['deepseek-r1:*', 'qwen2.5-coder:32b-instruct-q5_K_M', 'codellama:*', 'llama3.1:70b-instruct-q3_K_S'],
    rpm: 45,
    concurrency: 2,
    dailyTokens: 1_500_000,
    expiresAt: Date.now() + 14 * DAY,
    enabled: false,
  },
  {
    user: 'jonathan.rodriguez-villanueva',
    name: 'Jupyter notebook on the analytics cluster (node 14)',
    models: ['llama3*', 'nomic-embed-text', 'mxbai-embed-large', 'snowflake-arctic-embed:335m', 'all-minilm:l6-v2'],
    rpm: 20,
    concurrency: 1,
    dailyTokens: 300_000,
    expiresAt: Date.now() + 2 * DAY,
  },
];

describe.skipIf(!hasChromium)('the keys page in Chromium', () => {
  let fake: FakeOllama;
  let serve: Serve;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let page: Page;
  /** every secret the gate handed out: none may show up anywhere but its own secret dialog */
  const secrets: string[] = [];
  /** console errors, page errors and CSP violations: there must be none */
  const problems: string[] = [];

  const gateCall = <T>(method: string, body?: unknown): Promise<T> => adminValue<T>(serve, method, body);

  async function createKey(fields: Record<string, unknown>): Promise<KeyWithSecret> {
    const created = await gateCall<KeyWithSecret>('keys.create', fields);
    secrets.push(created.secret);
    return created;
  }

  const findKey = async (user: string) => (await gateCall<KeyView[]>('keys.list')).find((key) => key.user === user);

  async function openKeys(size: { width: number; height: number }): Promise<void> {
    await page.setViewportSize(size);
    // A fresh page each time (a hash change alone would keep whatever a failed test left open).
    await page.goto('about:blank');
    await page.goto(`${serve.adminUrl}#/keys`);
    await page.locator('.keys-table tbody tr').first().waitFor();
  }

  /** Elements wider than their box (the page, <main>, the table's card, an open dialog): there must be none. */
  const sideways = () =>
    page.evaluate<
      string[]
    >(`[document.documentElement, document.querySelector('main'), document.querySelector('.keys-wrap'), ...document.querySelectorAll('dialog[open]')]
      .filter((el) => el && el.scrollWidth > el.clientWidth)
      .map((el) => el.tagName.toLowerCase() + '.' + el.className + ' ' + el.scrollWidth + ' > ' + el.clientWidth)`);

  /** Whether the whole box is inside the window (and, horizontally, inside <main>). */
  async function inWindow(locator: Locator): Promise<string | null> {
    const box = await locator.boundingBox();
    const viewport = page.viewportSize()!;
    if (!box) return 'not rendered';
    return box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width + 0.5 && box.y + box.height <= viewport.height + 0.5
      ? null
      : `${JSON.stringify(box)} outside ${JSON.stringify(viewport)}`;
  }

  const row = (user: string) => page.locator('.keys-table tbody tr').filter({ has: page.getByRole('button', { name: user, exact: true }) });
  const menuButton = (user: string) => page.getByRole('button', { name: `Actions for the key of ${user}` });

  async function openMenu(user: string): Promise<Locator> {
    await menuButton(user).click();
    const menu = page.getByRole('menu');
    await menu.waitFor();
    return menu;
  }

  const focusedText = () => page.evaluate<string>('document.activeElement?.textContent ?? ""');
  const focusedLabel = () => page.evaluate<string>('document.activeElement?.getAttribute("aria-label") ?? ""');

  beforeAll(async () => {
    fake = await startFakeOllama({
      models: [
        { name: 'llama3.2:latest', size: 2_019_393_189, family: 'llama', parameterSize: '3.2B', quantization: 'Q4_K_M' },
        { name: 'llama3.1:8b', size: 4_920_753_328, family: 'llama', parameterSize: '8.0B', quantization: 'Q4_K_M' },
        { name: 'qwen2.5:7b', size: 4_683_087_332, family: 'qwen2', parameterSize: '7.6B', quantization: 'Q4_K_M' },
        { name: 'qwen2.5:72b-instruct-q4_K_M', size: 47_415_724_032, family: 'qwen2', parameterSize: '72.7B', quantization: 'Q4_K_M' },
        { name: 'deepseek-r1:14b', size: 8_988_112_040, family: 'qwen2', parameterSize: '14.8B', quantization: 'Q4_K_M' },
        { name: 'nomic-embed-text:latest', size: 274_302_450, family: 'nomic-bert', parameterSize: '137M', quantization: 'F16' },
      ],
    });
    serve = await startServe(fake.url);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    collectProblems(page, problems);
    await page.goto(serve.loginUrl);
    await page.locator('main h1').first().waitFor();
    await page.evaluate(`localStorage.setItem('ollama-gate.language', 'en')`);
    for (const { enabled, ...fields } of KEYS) {
      const { key, secret } = await createKey(fields);
      if (enabled === false) await gateCall('keys.setEnabled', { id: key.id, enabled: false });
      // Some use, so "last used" and "today" have something to show.
      if (enabled !== false)
        await fetch(`${serve.proxyUrl}/api/chat`, {
          method: 'POST',
          headers: { authorization: `Bearer ${secret}` },
          body: JSON.stringify({
            model: key.models.includes('qwen2.5:*') ? 'qwen2.5:7b' : 'llama3.2',
            messages: [{ role: 'user', content: 'Hello' }],
            stream: false,
          }),
        }).then((response) => response.text());
    }
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
  });

  for (const size of SIZES) {
    const at = `${size.width}x${size.height}`;

    it(`at ${at}: nothing scrolls sideways, and every row shows its user, its switch and its menu`, async () => {
      await openKeys(size);
      expect(await page.locator('.keys-table tbody tr').count()).toBeGreaterThanOrEqual(6);
      expect(await sideways()).toEqual([]);
      for (const { user } of KEYS) {
        const line = row(user);
        await line.scrollIntoViewIfNeeded();
        for (const part of [line.locator('td.col-user'), line.getByRole('switch'), menuButton(user)])
          expect(await inWindow(part), `${user} at ${at}`).toBeNull();
        // The model summary stays inside its own cell.
        const cell = await line.locator('td.col-models').boundingBox();
        const chips = await line.locator('td.col-models ul').boundingBox();
        expect(chips!.x + chips!.width, user).toBeLessThanOrEqual(cell!.x + cell!.width + 0.5);
        expect(
          await line.locator('td.col-models ul').evaluate((ul: { scrollWidth: number; clientWidth: number }) => ul.scrollWidth <= ul.clientWidth + 1),
          user,
        ).toBe(true);
      }
      // The whole allow-list is a hover away.
      expect(await row(KEYS[0]!.user).locator('td.col-models ul').getAttribute('title')).toBe(KEYS[0]!.models.join(', '));
      // Low-value columns fold away in a narrow window instead of the table scrolling.
      expect(await page.locator('th.col-created').isVisible()).toBe(false);
      expect(await page.locator('th.col-limits').isVisible()).toBe(size.width > 1000);

      // Each row's menu opens inside the window, with all its items, and Escape gives the focus back.
      for (const { user } of KEYS) {
        await row(user).scrollIntoViewIfNeeded();
        const menu = await openMenu(user);
        expect(await menu.getByRole('menuitem').allTextContents()).toEqual([
          'Details',
          'Edit',
          'How to connect',
          'Rotate…',
          user.startsWith('anna') ? 'Enable' : 'Disable',
          'Delete…',
        ]);
        expect(await inWindow(menu), `${user}'s menu at ${at}`).toBeNull();
        expect(await sideways()).toEqual([]);
        await page.keyboard.press('Escape');
        await menu.waitFor({ state: 'detached' });
        expect(await focusedLabel()).toBe(`Actions for the key of ${user}`);
      }
    });

    it(`at ${at}: edit, rotate, connect, disable and delete through the menu, by mouse and by keyboard`, async () => {
      const tag = size.width;
      const victim = await createKey({
        user: `delete-me-${tag}`,
        name: 'an old laptop nobody uses',
        models: ['llama3*'],
        rpm: 10,
        concurrency: 1,
        dailyTokens: 1000,
        expiresAt: Date.now() + DAY,
      });
      const rotating = await createKey({
        user: `rotate-me-${tag}`,
        name: 'a key that leaked into a chat',
        models: ['llama3*', 'qwen2.5:7b'],
        rpm: 10,
        concurrency: 1,
        dailyTokens: 1000,
        expiresAt: Date.now() + DAY,
      });
      await openKeys(size);

      // Edit, by mouse: a new label, saved, said so.
      const editUser = KEYS[3]!.user;
      await row(editUser).scrollIntoViewIfNeeded();
      await (await openMenu(editUser)).getByRole('menuitem', { name: 'Edit' }).click();
      const form = page.getByRole('dialog', { name: 'Edit key' });
      await form.getByLabel('Label', { exact: true }).fill(`Open WebUI, NUC in the hallway (${tag})`);
      expect(await sideways()).toEqual([]);
      await form.getByRole('button', { name: 'Save' }).click();
      await form.waitFor({ state: 'detached' });
      await page
        .locator('.toast')
        .filter({ hasText: `Saved the key of ${editUser}` })
        .waitFor();
      expect((await findKey(editUser))!.name).toBe(`Open WebUI, NUC in the hallway (${tag})`);
      expect(await row(editUser).textContent()).toContain(`NUC in the hallway (${tag})`);

      // Rotate, by keyboard: Enter opens the menu, arrows reach Rotate…, Enter, Tab to Rotate, Enter.
      await row(rotating.key.user).scrollIntoViewIfNeeded();
      await menuButton(rotating.key.user).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('menu').waitFor();
      expect(await focusedText()).toBe('Details');
      for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
      expect(await focusedText()).toBe('Rotate…');
      await page.keyboard.press('Enter');
      const confirm = page.getByRole('dialog', { name: `Rotate the key of ${rotating.key.user}?` });
      await confirm.waitFor();
      expect(await focusedText()).toBe('Cancel');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      const shown = page.getByRole('dialog', { name: `New secret for ${rotating.key.user}` });
      await shown.waitFor();
      const secret = (await shown.locator('.secret').textContent())!.trim();
      secrets.push(secret);
      expect(secret).not.toBe(rotating.secret);
      expect(await sideways()).toEqual([]);
      await page
        .locator('.toast')
        .filter({ hasText: `New secret for ${rotating.key.user}` })
        .waitFor();

      // Escape, uncopied, asks; however often it is pressed, the secret is never lost.
      await page.keyboard.press('Escape');
      const ask = page.getByRole('dialog', { name: 'Close without copying?' });
      await ask.waitFor();
      expect(await ask.textContent()).toContain('You have not copied this key. It will not be shown again. Close anyway?');
      expect(await focusedText()).toBe('Go back');
      for (let i = 0; i < 8; i++) {
        await page.keyboard.press('Escape');
        await page.waitForTimeout(60);
        expect(await shown.isVisible(), `after ${i + 2} presses of Escape`).toBe(true);
      }
      if (await ask.isVisible()) await page.keyboard.press('Escape');
      await ask.waitFor({ state: 'detached' });
      expect(await shown.locator('.secret').textContent()).toBe(secret);
      // Copied: Escape closes it at once, and the focus is back on the row's menu button.
      await shown.getByRole('button', { name: 'Copy: The new key' }).click();
      await shown.getByRole('button', { name: 'Copied: The new key' }).waitFor();
      await page.keyboard.press('Escape');
      await shown.waitFor({ state: 'detached' });
      expect(await ask.count()).toBe(0);
      await eventually(
        async () => ((await focusedLabel()) === `Actions for the key of ${rotating.key.user}` ? true : undefined),
        2_000,
        'the focus returns to the menu button',
      );
      expect(await page.content()).not.toContain(secret);
      // The gate took the new secret and refuses the old one.
      const tags = (key: string) => fetch(`${serve.proxyUrl}/api/tags`, { headers: { authorization: `Bearer ${key}` } }).then((response) => response.status);
      expect(await tags(rotating.secret)).toBe(403);
      expect(await tags(secret)).toBe(200);

      // How to connect, later, by keyboard: every client, a placeholder, never a secret.
      await menuButton(rotating.key.user).focus();
      await page.keyboard.press('ArrowDown');
      await page.getByRole('menu').waitFor();
      await page.keyboard.press('h');
      expect(await focusedText()).toBe('How to connect');
      await page.keyboard.press('Enter');
      const connect = page.getByRole('dialog', { name: `How to connect as ${rotating.key.user}` });
      await connect.waitFor();
      // (the rotated key's prefix: a new secret has a new one)
      expect(await connect.textContent()).toContain(`the one that starts with ${(await findKey(rotating.key.user))!.prefix}…`);
      const tabs = connect.getByRole('tab');
      expect(await tabs.count()).toBe(7);
      for (let i = 0; i < 7; i++) {
        await tabs.nth(i).click();
        const code = (await connect.locator('pre.code').textContent())!;
        expect(code).toContain('YOUR_KEY');
        expect(code).toContain(serve.proxyUrl);
        for (const known of secrets) expect(code).not.toContain(known);
      }
      expect(await sideways()).toEqual([]);
      await page.keyboard.press('Escape');
      await connect.waitFor({ state: 'detached' });

      // Disable from the menu; the switch follows, and the gate refuses the key.
      await (await openMenu(rotating.key.user)).getByRole('menuitem', { name: 'Disable' }).click();
      await eventually(async () => ((await row(rotating.key.user).getByRole('switch').isChecked()) ? undefined : true), 2_000, 'the switch turns off');
      await page
        .locator('.toast')
        .filter({ hasText: `Disabled the key of ${rotating.key.user}` })
        .waitFor();
      expect((await findKey(rotating.key.user))!.enabled).toBe(false);
      expect(await tags(secret)).toBe(403);
      await (await openMenu(rotating.key.user)).getByRole('menuitem', { name: 'Enable' }).click();
      await eventually(async () => ((await row(rotating.key.user).getByRole('switch').isChecked()) ? true : undefined), 2_000, 'the switch turns on');

      // Details, from the user's name: every field.
      await row(KEYS[0]!.user).getByRole('button', { name: KEYS[0]!.user, exact: true }).click();
      const details = page.getByRole('dialog', { name: `Key of ${KEYS[0]!.user}` });
      await details.waitFor();
      const text = await details.innerText();
      for (const part of [KEYS[0]!.name, ...KEYS[0]!.models, '120', '4', '2,000,000', 'Inference']) expect(text).toContain(part);
      expect(await sideways()).toEqual([]);
      await details.getByRole('button', { name: 'Close' }).click();
      await details.waitFor({ state: 'detached' });

      // Delete, by mouse: cancelled first, then confirmed.
      await row(victim.key.user).scrollIntoViewIfNeeded();
      await (await openMenu(victim.key.user)).getByRole('menuitem', { name: 'Delete…' }).click();
      const sure = page.getByRole('dialog', { name: `Delete the key of ${victim.key.user}?` });
      await sure.getByRole('button', { name: 'Cancel' }).click();
      await sure.waitFor({ state: 'detached' });
      expect(await findKey(victim.key.user)).toBeDefined();
      await (await openMenu(victim.key.user)).getByRole('menuitem', { name: 'Delete…' }).click();
      await sure.getByRole('button', { name: 'Delete' }).click();
      await row(victim.key.user).waitFor({ state: 'detached' });
      await page
        .locator('.toast')
        .filter({ hasText: `Deleted the key of ${victim.key.user}` })
        .waitFor();
      expect(await findKey(victim.key.user)).toBeUndefined();
      expect(await tags(victim.secret)).toBe(403);
      // Tidy up for the next size and the pictures.
      await gateCall('keys.remove', { id: rotating.key.id });
    });

    it(`at ${at}: a new key's allow-list from the picker, and its secret guarded until copied`, async () => {
      await openKeys(size);
      await page.getByRole('button', { name: 'New key' }).click();
      const form = page.getByRole('dialog', { name: 'New key' });
      const user = `picker-${size.width}`;
      await form.getByLabel('User', { exact: true }).fill(user);
      const box = form.getByRole('combobox', { name: 'Allowed models' });
      await box.fill('qwen');
      const options = form.getByRole('listbox', { name: 'Installed models' }).getByRole('option');
      const offered = await options.allTextContents();
      expect([...offered].sort()).toEqual(['Add “qwen”', 'qwen2.5:72b-instruct-q4_K_M72.7B · Q4_K_M', 'qwen2.5:7b7.6B · Q4_K_M']);
      expect(offered.at(-1)).toBe('Add “qwen”');
      // By keyboard: down to the 72b model, Enter.
      for (let i = 0; i < offered.findIndex((text) => text.startsWith('qwen2.5:72b')); i++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await box.fill('deepseek-r1:*');
      await page.keyboard.press('Enter');
      await box.fill('nomic');
      await options.filter({ hasText: 'nomic-embed-text' }).click();
      await box.fill('llama3*, gemma2');
      // Escape closes the suggestions, not the dialog.
      await page.keyboard.press('Escape');
      await form.getByRole('listbox').waitFor({ state: 'detached' });
      expect(await form.isVisible()).toBe(true);
      await form.getByRole('button', { name: 'Remove deepseek-r1:*' }).click();
      expect(await sideways()).toEqual([]);
      await form.getByRole('button', { name: 'Create key' }).click();
      const shown = page.getByRole('dialog', { name: `Key created for ${user}` });
      await shown.waitFor();
      secrets.push((await shown.locator('.secret').textContent())!.trim());
      expect((await findKey(user))!.models).toEqual(['qwen2.5:72b-instruct-q4_K_M', 'nomic-embed-text:latest', 'llama3*', 'gemma2']);
      await page
        .locator('.toast')
        .filter({ hasText: `Key created for ${user}` })
        .waitFor();
      // Its own button, uncopied, asks too; Close anyway closes.
      await shown.getByRole('button', { name: 'I have copied it' }).click();
      const ask = page.getByRole('dialog', { name: 'Close without copying?' });
      await ask.waitFor();
      expect(await sideways()).toEqual([]);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, `keys-uncopied-en-light${size.suffix}.png`) });
      await ask.getByRole('button', { name: 'Close anyway' }).click();
      await shown.waitFor({ state: 'detached' });
      expect(await page.getByRole('dialog').count()).toBe(0);
      await gateCall('keys.remove', { id: (await findKey(user))!.id });
    });
  }

  it('writes pictures of the page, a row menu, the details, how to connect and the form, in both languages and themes', async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const combos = [
      ...(['en', 'zh-CN'] as const).flatMap((language) => (['light', 'dark'] as const).map((scheme) => ({ language, scheme, size: SIZES[0] }))),
      { language: 'en' as const, scheme: 'light' as const, size: SIZES[1] },
      { language: 'zh-CN' as const, scheme: 'dark' as const, size: SIZES[1] },
    ];
    const user = KEYS[0]!.user;
    for (const { language, scheme, size } of combos) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.evaluate(`localStorage.setItem('ollama-gate.language', '${language}')`);
      await openKeys(size);
      await eventually(
        async () => ((await page.evaluate<string>('document.documentElement.lang')) === language ? true : undefined),
        2_000,
        'the language changes',
      );
      const shot = async (what: string) => {
        expect(await sideways(), `${what} ${language} ${scheme}${size.suffix}`).toEqual([]);
        await page.screenshot({ path: join(SCREENSHOTS, `keys-${what}-${language}-${scheme}${size.suffix}.png`) });
      };
      await page.waitForTimeout(150);
      await shot('page');
      await row(KEYS[1]!.user).locator('.row-menu-button').click();
      await page.getByRole('menu').waitFor();
      await shot('menu');
      await page.keyboard.press('Escape');
      await row(user).locator('.key-user').click();
      await page.getByRole('dialog').waitFor();
      await shot('details');
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      await row(user).locator('.row-menu-button').click();
      await page.getByRole('menuitem').nth(2).click();
      await page.getByRole('dialog').waitFor();
      await page.getByRole('dialog').getByRole('tab').nth(1).click();
      await shot('connect');
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      await row(user).locator('.row-menu-button').click();
      await page.getByRole('menuitem').nth(1).click();
      const form = page.getByRole('dialog');
      await form.waitFor();
      await form.locator('.model-combo input').fill('qw');
      await form.getByRole('listbox').waitFor();
      await shot('form');
      await page.keyboard.press('Escape');
      await page.keyboard.press('Escape');
      await form.waitFor({ state: 'detached' });
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.evaluate(`localStorage.setItem('ollama-gate.language', 'en')`);
  });

  it('ran without a console error, a page error or a CSP violation', () => {
    expect(problems).toEqual([]);
  });
});
