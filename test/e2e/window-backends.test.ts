/**
 * Several Ollamas behind one gate, in Debian's Chromium against a real `ollama-gate serve`: the
 * default fake Ollama and a second one ("big") added through the admin API with settings.update,
 * beside one that is down and one turned off. The Overview's Backends card shows each with its
 * state and models, Settings lists them (and adds and removes one through the form), the log and
 * the usage say which backend answered; every page fits 1120x760 and 720x480, with screenshots.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendView, GatePage, KeyWithSecret, LogEntry, SettingsView } from '../../electron/shared/contract.js';
import { type FakeOllama, startFakeOllama } from '../support/fake-ollama.js';
import { adminValue, collectProblems, eventually, hasChromium, launchBrowser, SCREENSHOTS, type Serve, startServe } from './support.js';

const SIZES = [
  { width: 1120, height: 760, suffix: '' },
  { width: 720, height: 480, suffix: '-narrow' },
] as const;
type Size = (typeof SIZES)[number];
const LOOKS = [
  { locale: 'en', colorScheme: 'light' },
  { locale: 'en', colorScheme: 'dark' },
  { locale: 'zh-CN', colorScheme: 'light' },
  { locale: 'zh-CN', colorScheme: 'dark' },
] as const;
type Look = (typeof LOOKS)[number];

/** A loopback port nothing listens on: a backend there is down (connection refused). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!hasChromium)('several backends in Chromium', () => {
  let fake: FakeOllama;
  let big: FakeOllama;
  let goneUrl: string;
  let serve: Serve;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let page: Page;
  const problems: string[] = [];

  async function open(name: GatePage): Promise<void> {
    await page.goto(`${serve.adminUrl}#/${name}`);
    await page.locator('main h1').first().waitFor();
  }
  async function resize(size: Size): Promise<void> {
    await page.setViewportSize({ width: size.width, height: size.height });
  }
  async function look({ locale, colorScheme }: Look): Promise<void> {
    await page.emulateMedia({ colorScheme });
    await page.evaluate(`localStorage.setItem('ollama-gate.language', ${JSON.stringify(locale)})`);
    await page.reload();
    await page.locator('main h1').first().waitFor();
    await eventually(async () => ((await page.evaluate<string>('document.documentElement.lang')) === locale ? true : undefined), 3_000, 'the language changes');
  }

  /** Nothing scrolls sideways: not the page, not <main>, not a table, not the log. */
  async function expectNoSidewaysScroll(where: string): Promise<void> {
    const overflow = await page.evaluate<string[]>(`(() => {
      const wide = [];
      const check = (name, element) => { if (element && element.scrollWidth > element.clientWidth) wide.push(name + ': ' + element.scrollWidth + ' > ' + element.clientWidth); };
      check('document', document.documentElement);
      check('main', document.querySelector('main'));
      check('log', document.querySelector('.log-scroll'));
      check('log head', document.querySelector('.log-head'));
      document.querySelectorAll('main .table-wrap').forEach((wrap, i) => check('table ' + i, wrap));
      document.querySelectorAll('main .backend-tile, main .backend-row').forEach((box, i) => check('backend ' + i, box));
      return wide;
    })()`);
    expect(overflow, where).toEqual([]);
  }

  /** The whole page (the window grown to the content), or one element, as test-results/screenshots/<name>-<locale>-<scheme>[-narrow].png. */
  async function screenshot(name: string, { locale, colorScheme }: Look, size: Size, element?: Locator): Promise<void> {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const path = join(SCREENSHOTS, `${name}-${locale}-${colorScheme}${size.suffix}.png`);
    // Grown to the content first, so nothing sticky (the Apply bar) lies over the part pictured.
    const height = await page.evaluate<number>("(main => Math.ceil(main.getBoundingClientRect().top) + main.scrollHeight)(document.querySelector('main'))");
    await page.setViewportSize({ width: size.width, height: Math.min(Math.max(height, size.height), 5_000) });
    await (element ?? page).screenshot({ path });
    await resize(size);
  }

  const tile = (name: string) => page.locator('.backends-card .backend-tile', { has: page.locator('h3', { hasText: new RegExp(`^${name}$`) }) });

  beforeAll(async () => {
    [fake, big] = await Promise.all([
      startFakeOllama({
        models: [
          { name: 'llama3.2:latest', size: 2019393189, family: 'llama', parameterSize: '3.2B', quantization: 'Q4_K_M' },
          { name: 'all-minilm:latest', size: 45960996, family: 'bert', parameterSize: '23M', quantization: 'F16' },
        ],
      }),
      startFakeOllama({
        version: '0.13.0',
        models: [
          { name: 'qwen2.5:72b', size: 47415714906, family: 'qwen2', parameterSize: '72.7B', quantization: 'Q4_K_M' },
          { name: 'llama3.3:70b', size: 42520413916, family: 'llama', parameterSize: '70.6B', quantization: 'Q4_K_M' },
          { name: 'deepseek-r1:32b', size: 19851337728, family: 'qwen2', parameterSize: '32.8B', quantization: 'Q4_K_M' },
        ],
      }),
    ]);
    goneUrl = `http://127.0.0.1:${await closedPort()}`;
    serve = await startServe(fake.url);

    // The second Ollama, one that is down and one turned off, added as the window would: live, through settings.update.
    const before = await adminValue<SettingsView>(serve, 'settings.get');
    expect(before.pinned.map((pin) => pin.field)).not.toContain('backends');
    await adminValue<SettingsView>(serve, 'settings.update', {
      proxy: {
        backends: [
          { name: 'big', url: big.url, enabled: true, weight: 2 },
          { name: 'gone', url: goneUrl, enabled: true, weight: 1 },
          { name: 'spare', url: 'http://127.0.0.1:9', enabled: false, weight: 1 },
        ],
      },
    });
    await eventually(
      async () => {
        const list = await adminValue<BackendView[]>(serve, 'backends.list');
        const byName = new Map(list.map((backend) => [backend.name, backend]));
        return byName.get('big')?.health?.reachable && byName.get('gone')?.health?.reachable === false ? list : undefined;
      },
      15_000,
      'the new backends are checked',
    );

    // Traffic to both: a model only big has, one only the default has, and the merged model list.
    const { secret } = await adminValue<KeyWithSecret>(serve, 'keys.create', { user: 'carol', name: 'workstation' });
    const headers = { authorization: `Bearer ${secret}` };
    for (const model of ['qwen2.5:72b', 'qwen2.5:72b', 'llama3.2']) {
      const chat = await fetch(`${serve.proxyUrl}/api/chat`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }], stream: false }),
      });
      expect(chat.status, model).toBe(200);
      await chat.text();
    }
    const tags = await fetch(`${serve.proxyUrl}/api/tags`, { headers });
    const names = ((await tags.json()) as { models: Array<{ name: string }> }).models.map((model) => model.name);
    expect(names).toEqual(expect.arrayContaining(['llama3.2:latest', 'qwen2.5:72b', 'deepseek-r1:32b']));
    const logged = await eventually(
      async () => {
        const entries = await adminValue<LogEntry[]>(serve, 'logs.recent');
        return entries.length >= 4 ? entries : undefined;
      },
      5_000,
      'the requests are logged',
    );
    expect(logged.map((entry) => entry.backend)).toEqual(['big', 'big', 'default', 'all']);

    browser = await launchBrowser();
    page = await browser.context.newPage();
    collectProblems(page, problems);
    await page.goto(serve.loginUrl);
    await page.locator('main h1').first().waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await Promise.all([fake?.close(), big?.close()]);
  });

  it('the Overview lists every backend with its state, version, models, what is loaded and its load', async () => {
    // big has loaded the model it answered with: wait until a check has seen it.
    await eventually(
      async () => {
        const list = await adminValue<BackendView[]>(serve, 'backends.list');
        return list.find((backend) => backend.name === 'big')?.health?.loaded.some((model) => model.name === 'qwen2.5:72b') ? true : undefined;
      },
      15_000,
      'big reports qwen2.5:72b loaded',
    );
    for (const size of SIZES) {
      await resize(size);
      await open('overview');
      const card = page.getByRole('region', { name: 'Backends' });
      await card.waitFor();
      expect(await card.locator('.card-header .badge').innerText()).toBe('2 of 3 up');
      expect(await card.locator('.backend-tile h3').allInnerTexts()).toEqual(['default', 'big', 'gone', 'spare']);

      const fallback = tile('default');
      expect(await fallback.locator('.badge').innerText()).toBe('Up');
      expect(await fallback.locator('.backend-tile-url').innerText()).toBe(fake.url);
      expect(await fallback.innerText()).toMatch(/Models\s+2/);
      expect(await fallback.locator('.backend-models summary').innerText()).toBe('Installed models (2)');

      const second = tile('big');
      expect(await second.locator('.badge').innerText()).toBe('Up');
      expect(await second.locator('.backend-tile-url').innerText()).toBe(big.url);
      const text = await second.innerText();
      expect(text).toMatch(/Version\s+0\.13\.0/);
      expect(text).toMatch(/Models\s+3/);
      expect(text).toMatch(/In flight\s+0/);
      expect(text).toMatch(/Weight\s+2/);
      expect(await second.locator('.backend-loaded code').allInnerTexts()).toContain('qwen2.5:72b');
      // (the list stays open from the wider size: a hash change keeps the page)
      if (!(await second.locator('.backend-models').evaluate((details) => (details as HTMLDetailsElement).open)))
        await second.locator('.backend-models summary').click();
      expect(await second.locator('.backend-models code').allInnerTexts()).toEqual(['deepseek-r1:32b', 'llama3.3:70b', 'qwen2.5:72b']);

      const gone = tile('gone');
      expect(await gone.locator('.badge').innerText()).toBe('Down');
      expect(await gone.locator('.banner.error').innerText()).toContain(goneUrl);
      expect(await tile('spare').locator('.badge').innerText()).toBe('Disabled');

      // The card below is the default's.
      await page.getByRole('heading', { name: 'Ollama: default' }).waitFor();
      await expectNoSidewaysScroll(`overview at ${size.width}x${size.height}`);
    }
  });

  it('shows requests in flight on a backend while they run, read again every few seconds', async () => {
    await resize(SIZES[0]);
    await open('overview');
    await tile('big').waitFor();
    const { secret } = await adminValue<KeyWithSecret>(serve, 'keys.create', { user: 'dave' });
    big.behaviour.firstByteDelayMs = 8_000;
    const slow = fetch(`${serve.proxyUrl}/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}` },
      body: JSON.stringify({ model: 'llama3.3:70b', messages: [{ role: 'user', content: 'Hi' }], stream: false }),
    }).then((response) => response.text());
    try {
      await eventually(async () => (/In flight\s+1/.test(await tile('big').innerText()) ? true : undefined), 7_000, 'one request in flight on big');
    } finally {
      big.behaviour.firstByteDelayMs = 0;
      await slow;
    }
  });

  it('Settings lists the backends after the default; one added in the form is checked, applied live, and removed again', async () => {
    for (const size of SIZES) {
      await resize(size);
      await open('settings');
      const section = page.getByRole('group', { name: 'Backends' });
      await section.waitFor();
      const rows = section.getByRole('group');
      expect(await rows.evaluateAll((groups) => groups.map((group) => group.getAttribute('aria-label')))).toEqual([
        'Backend default',
        'Backend big',
        'Backend gone',
        'Backend spare',
      ]);
      expect(await section.getByRole('group', { name: 'Backend default' }).innerText()).toContain(fake.url);
      const second = section.getByRole('group', { name: 'Backend big' });
      expect(await second.getByLabel('URL').inputValue()).toBe(big.url);
      expect(await second.getByLabel('Weight').inputValue()).toBe('2');
      expect(await second.getByLabel('Enabled').isChecked()).toBe(true);
      expect(await section.getByRole('group', { name: 'Backend spare' }).getByLabel('Enabled').isChecked()).toBe(false);
      expect(await section.innerText()).toContain('X-Gate-Backend: NAME');
      await expectNoSidewaysScroll(`settings at ${size.width}x${size.height}`);
    }

    // Added through the form: a taken name is refused on its field before anything is sent.
    await resize(SIZES[0]);
    const section = page.getByRole('group', { name: 'Backends' });
    await section.getByRole('button', { name: 'Add backend' }).click();
    const fresh = section.getByRole('group', { name: 'New backend 4' });
    await fresh.getByLabel('Name').fill('all');
    const added = section.getByRole('group', { name: 'Backend all' });
    await added.getByLabel('URL').fill(big.url);
    await page.getByRole('button', { name: 'Apply' }).click();
    await added.getByText('“default” and “all” are taken: choose another name.').waitFor();
    await expectNoSidewaysScroll('settings with an error');
    await added.getByLabel('Name').fill('extra');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('Settings applied').waitFor();
    const applied = await adminValue<SettingsView>(serve, 'settings.get');
    expect(applied.proxy.backends.map((backend) => backend.name)).toEqual(['big', 'gone', 'spare', 'extra']);
    await eventually(
      async () => ((await adminValue<BackendView[]>(serve, 'backends.list')).find((b) => b.name === 'extra')?.health?.reachable ? true : undefined),
      15_000,
      'extra is checked',
    );
    await open('overview');
    await tile('extra').locator('.badge', { hasText: 'Up' }).waitFor();

    await open('settings');
    await page.getByRole('group', { name: 'Backend extra' }).getByRole('button', { name: 'Remove extra' }).click();
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(
      async () => ((await adminValue<SettingsView>(serve, 'settings.get')).proxy.backends.length === 3 ? true : undefined),
      3_000,
      'extra is removed',
    );
  });

  it('the log says which backend answered, in a column at both sizes and in the details', async () => {
    for (const size of SIZES) {
      await resize(size);
      await open('logs');
      const list = page.getByRole('listbox');
      await list.getByRole('option').nth(3).waitFor();
      expect(await page.locator('.log-head .c-backend').isVisible()).toBe(true);
      const cells = await list.locator('.c-backend').allInnerTexts();
      expect(cells).toEqual(expect.arrayContaining(['big', 'default', 'all']));
      const row = list
        .getByRole('option')
        .filter({ has: page.locator('.c-backend', { hasText: /^big$/ }) })
        .first();
      await row.click();
      const detail = page.getByRole('complementary', { name: 'Request' });
      expect(await detail.innerText()).toMatch(/Backend\s+big/);
      await expectNoSidewaysScroll(`logs at ${size.width}x${size.height}`);
      await page.keyboard.press('Escape');
    }
  });

  it('usage counts each backend’s requests, and each key’s by backend', async () => {
    for (const size of SIZES) {
      await resize(size);
      await open('usage');
      const region = page.getByRole('region', { name: 'Per backend' });
      await region.waitFor();
      const lines = await region
        .locator('tbody tr')
        .evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td')].slice(0, 2).map((cell) => cell.textContent)));
      expect(lines).toEqual(
        expect.arrayContaining([
          ['big', expect.stringMatching(/^\d+$/)],
          ['default', expect.stringMatching(/^\d+$/)],
          ['all', '1'],
        ]),
      );
      expect(lines[0]![0]).toBe('default');
      await page
        .getByRole('region', { name: 'Per key', exact: true })
        .getByText(/^By backend: default \d+ · big \d+ · all 1$/)
        .waitFor();
      await expectNoSidewaysScroll(`usage at ${size.width}x${size.height}`);
    }
  });

  it('writes screenshots of the Backends card, the Settings section, the log and the usage, in both languages and themes, at both sizes', async () => {
    for (const size of SIZES) {
      await resize(size);
      for (const shot of LOOKS) {
        await open('overview');
        await look(shot);
        await tile('big').locator('.backend-loaded code').first().waitFor();
        await screenshot('backends-overview', shot, size);
        await open('settings');
        await page.locator('.backend-list .backend-row').nth(3).waitFor();
        await screenshot('backends-settings', shot, size, page.locator('fieldset.card', { has: page.locator('.backend-list') }));
        await open('logs');
        await page.getByRole('listbox').getByRole('option').nth(3).waitFor();
        await screenshot('backends-logs', shot, size);
        await page
          .getByRole('listbox')
          .getByRole('option')
          .filter({ has: page.locator('.c-backend', { hasText: /^big$/ }) })
          .first()
          .click();
        await page.locator('.log-detail').waitFor();
        await screenshot('backends-logs-detail', shot, size);
        await page.keyboard.press('Escape');
        await open('usage');
        await page.locator('.usage-backends tbody tr').first().waitFor();
        await screenshot('backends-usage', shot, size);
      }
    }
    await look({ locale: 'en', colorScheme: 'light' });
  });

  it('shows backends pinned by a repeated --upstream read-only, naming the flag, beside the Backends card', async () => {
    const pinned = await startServe(fake.url, ['--upstream', `big=${big.url}`]);
    try {
      const view = await adminValue<SettingsView>(pinned, 'settings.get');
      expect(view.pinned).toEqual(expect.arrayContaining([{ field: 'backends', by: '--upstream' }]));
      await page.goto(pinned.loginUrl);
      await page.locator('main h1').first().waitFor();
      for (const size of SIZES) {
        await resize(size);
        await page.goto(`${pinned.adminUrl}#/settings`);
        const section = page.getByRole('group', { name: 'Backends' });
        await section.waitFor();
        expect(await section.locator('.pinned-note').innerText()).toBe('Set by --upstream for this run.');
        const row = section.getByRole('group', { name: 'Backend big' });
        expect(await row.getByLabel('URL').inputValue()).toBe(big.url);
        for (const label of ['Name', 'URL', 'Weight']) expect(await row.getByLabel(label).getAttribute('readonly')).not.toBeNull();
        expect(await row.getByLabel('Enabled').isDisabled()).toBe(true);
        expect(await section.getByRole('button').count()).toBe(0);
        await expectNoSidewaysScroll(`pinned settings at ${size.width}x${size.height}`);
        await screenshot('backends-settings-pinned', LOOKS[0], size, page.locator('fieldset.card', { has: page.locator('.backend-list') }));
        await page.goto(`${pinned.adminUrl}#/overview`);
        await page.locator('.backends-card .backend-tile h3', { hasText: 'big' }).waitFor();
      }
    } finally {
      await pinned.stop();
      await page.goto(serve.loginUrl);
      await page.locator('main h1').first().waitFor();
    }
  });

  it('ran without a console error, a page error or a CSP violation', () => {
    expect(problems).toEqual([]);
  });
});
