/**
 * The Overview and Settings pages in Debian's Chromium, against a real `ollama-gate serve` in front
 * of the fake Ollama: the first run without a key, the Test card's words for what the gate really
 * answers (a keyless client, a locked-out address), HTTPS turned on from Settings and really
 * answering, settings pinned by the command line, and the layout at the window's default size
 * (1120x760) and its smallest (720x480).
 */
import { mkdirSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatePage, KeyWithSecret, SettingsView } from '../../electron/shared/contract.js';
import { type FakeOllama, startFakeOllama } from '../support/fake-ollama.js';
import { adminCall, adminValue, collectProblems, eventually, hasChromium, launchBrowser, SCREENSHOTS, type Serve, startServe } from './support.js';

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
const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

/** A GET over HTTPS that accepts only the certificate with this SHA-256 fingerprint, as a client pinning it does. */
function pinnedGet(url: string, fingerprint256: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { rejectUnauthorized: false, agent: false }, (res) => {
      const served = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      if (served !== fingerprint256) reject(new Error(`the server showed ${served}, not the pinned ${fingerprint256}`));
      else res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!hasChromium)('the Overview and Settings pages in Chromium', () => {
  let fake: FakeOllama;
  /** on 127.0.0.1 only, started without keys: first run, tests, HTTPS from Settings, lockout */
  let serve: Serve;
  /** shared on the LAN with HTTPS from its flags, keys and traffic: the overview as it usually looks */
  let shared: Serve;
  let browser: { context: BrowserContext; close(): Promise<void> };
  let page: Page;
  const problems: string[] = [];

  /** Logs in to a gate's web admin (its token becomes a cookie) and opens a page. */
  async function login(gate: Serve): Promise<void> {
    await page.goto(gate.loginUrl);
    await page.locator('main h1').first().waitFor();
  }
  async function open(gate: Serve, name: GatePage): Promise<void> {
    await page.goto(`${gate.adminUrl}#/${name}`);
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

  /** Nothing scrolls sideways: not the page, not <main>, not a table of the Overview. */
  async function expectNoSidewaysScroll(where: string): Promise<void> {
    const overflow = await page.evaluate<string[]>(`(() => {
      const wide = [];
      const check = (name, element) => { if (element && element.scrollWidth > element.clientWidth) wide.push(name + ': ' + element.scrollWidth + ' > ' + element.clientWidth); };
      check('document', document.documentElement);
      check('main', document.querySelector('main'));
      document.querySelectorAll('main .table-wrap').forEach((wrap, i) => check('table ' + i, wrap));
      return wide;
    })()`);
    expect(overflow, where).toEqual([]);
  }

  /** The whole page at this width (the window grown to the content), as test-results/screenshots/<name>-<locale>-<scheme>[-narrow].png. */
  async function screenshot(name: string, { locale, colorScheme }: Look, size: Size): Promise<void> {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const height = await page.evaluate<number>("(main => Math.ceil(main.getBoundingClientRect().top) + main.scrollHeight)(document.querySelector('main'))");
    await page.setViewportSize({ width: size.width, height: Math.min(Math.max(height, size.height), 5_000) });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${locale}-${colorScheme}${size.suffix}.png`) });
    await resize(size);
  }

  async function runTest(key = ''): Promise<string> {
    const card = page.locator('.test-card');
    await card.getByRole('textbox').or(card.locator('input[type=password]')).first().fill(key);
    await card.locator('button[type=submit]').click();
    const result = card.locator('.test-result');
    await result.waitFor();
    return result.innerText();
  }

  beforeAll(async () => {
    fake = await startFakeOllama({
      models: [
        { name: 'llama3.2:latest', size: 2019393189, family: 'llama', parameterSize: '3.2B', quantization: 'Q4_K_M' },
        { name: 'qwen2.5-coder:32b-instruct-q4_K_M', size: 19851337728, family: 'qwen2', parameterSize: '32.8B', quantization: 'Q4_K_M' },
        { name: 'all-minilm:latest', size: 45960996, family: 'bert', parameterSize: '23M', quantization: 'F16' },
      ],
    });
    [serve, shared] = await Promise.all([startServe(fake.url), startServe(fake.url, ['--host', '0.0.0.0', '--tls', '--tls-port', '0'])]);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    collectProblems(page, problems);
    await resize(SIZES[0]);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([serve?.stop(), shared?.stop()]);
    await fake?.close();
  });

  it('first run: says every request is refused until there is a key, and the Test card says what a keyless client gets', async () => {
    await login(serve);
    for (const size of SIZES) {
      await resize(size);
      await open(serve, 'overview');
      const notice = page.getByRole('region', { name: 'No keys yet: every request is refused' });
      await notice.waitFor();
      expect(await notice.getByRole('link', { name: 'Create a key' }).getAttribute('href')).toBe('#/keys?action=create-key');
      const said = await runTest();
      expect(said).toContain('401');
      expect(said).toContain('Without a key, clients get 401: the gate asks for a key');
      expect(said).toContain('/health answers 200 without a key (it needs none): the gate and Ollama are up.');
      expect(said).toContain('This gate has no key yet: every client is refused until you create one.');
      expect(said).not.toMatch(/gate works/i);
      // Only loopback addresses: no QR code (a phone cannot open them), the address and the way to share.
      expect(await page.locator('img.qr').count()).toBe(0);
      await page.getByText('Only this computer can connect.').waitFor();
      await page.getByRole('link', { name: 'Share on LAN…' }).waitFor();
      await expectNoSidewaysScroll(`first run at ${size.width}x${size.height}`);
    }
    // What a client without a key really gets.
    expect((await fetch(`${serve.proxyUrl}/api/tags`)).status).toBe(401);
    expect((await fetch(`${serve.proxyUrl}/health`)).status).toBe(200);
  });

  it('writes screenshots of the first-run overview in both languages and themes', async () => {
    for (const size of SIZES) {
      await resize(size);
      for (const shot of LOOKS) {
        // At the smallest size, light English and dark Chinese are enough.
        if (size.suffix && !(shot.locale === 'en' ? shot.colorScheme === 'light' : shot.colorScheme === 'dark')) continue;
        await open(serve, 'overview');
        await look(shot);
        await page.locator('.first-run').waitFor();
        await runTest();
        await screenshot('overview-first-run', shot, size);
      }
    }
    await look({ locale: 'en', colorScheme: 'light' });
  });

  it('leads from the first-run notice to the new-key form; once there is a key, the notice is gone', async () => {
    await resize(SIZES[0]);
    await open(serve, 'overview');
    await page.getByRole('link', { name: 'Create a key' }).first().click();
    await eventually(async () => (page.url().includes('#/keys') ? true : undefined), 3_000, 'the Keys page opens');
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await open(serve, 'overview');
    await page.locator('.first-run').waitFor();
    await adminValue<KeyWithSecret>(serve, 'keys.create', { user: 'alice' });
    await page.locator('.first-run').waitFor({ state: 'detached', timeout: 3_000 });
  });

  it('turns HTTPS on from Settings: applied, and the Overview shows the https URL and fingerprint of a listener that answers; then moves it and turns it off', async () => {
    await resize(SIZES[0]);
    await open(serve, 'settings');
    const port = await freePort();
    await page.getByLabel('HTTPS', { exact: true }).check();
    await page.getByLabel('HTTPS port').fill(String(port));
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('.toast', { hasText: 'Settings applied' }).waitFor();

    const url = `https://127.0.0.1:${port}`;
    const shown = async (): Promise<string> => {
      await open(serve, 'overview');
      const tls = page.locator('.proxy-card .tls');
      await tls.getByText(url, { exact: true }).waitFor();
      expect(await page.locator('.proxy-card .banner.error').count()).toBe(0);
      const fingerprint = (await tls.locator('.fingerprint code').innerText()).trim();
      expect(fingerprint).toMatch(FINGERPRINT);
      return fingerprint;
    };
    const fingerprint = await shown();
    // The store file's echo of the change (a moment later) must not turn it into an error.
    await page.waitForTimeout(1_000);
    expect(await shown()).toBe(fingerprint);
    const status = await adminValue<{ tls: { error: string | null; urls: string[] } }>(serve, 'proxy.status');
    expect(status.tls).toMatchObject({ error: null, urls: [url] });
    // It answers, with the certificate whose fingerprint the window shows.
    expect(await pinnedGet(`${url}/health`, fingerprint)).toBe(200);
    for (const size of SIZES) {
      await resize(size);
      await expectNoSidewaysScroll(`HTTPS on at ${size.width}x${size.height}`);
    }

    await resize(SIZES[0]);
    await open(serve, 'settings');
    const moved = await freePort();
    await page.getByLabel('HTTPS port').fill(String(moved));
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('.toast', { hasText: 'Settings applied' }).last().waitFor();
    await open(serve, 'overview');
    await page.locator('.proxy-card .tls').getByText(`https://127.0.0.1:${moved}`, { exact: true }).waitFor();
    expect(await pinnedGet(`https://127.0.0.1:${moved}/health`, fingerprint)).toBe(200);
    await expect(pinnedGet(`${url}/health`, fingerprint)).rejects.toThrow();

    await open(serve, 'settings');
    await page.getByLabel('HTTPS', { exact: true }).uncheck();
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(async () => ((await adminValue<{ tls: unknown }>(serve, 'proxy.status')).tls === null ? true : undefined), 3_000, 'HTTPS stops');
    await open(serve, 'overview');
    await page.locator('.proxy-card .url-list').first().waitFor();
    expect(await page.locator('.proxy-card .tls').count()).toBe(0);
    await expect(pinnedGet(`https://127.0.0.1:${moved}/health`, fingerprint)).rejects.toThrow();
  });

  it('shows settings pinned by the command line read-only, naming the flag or variable, and the gate refuses to change them', async () => {
    // startServe passes --host, --port and --upstream.
    for (const size of SIZES) {
      await resize(size);
      await open(serve, 'settings');
      const port = page.getByLabel('Port', { exact: true });
      expect(await port.getAttribute('readonly')).not.toBeNull();
      const hint = await page.locator(`#${await port.getAttribute('aria-describedby')}`).innerText();
      expect(hint).toContain('Set by --port for this run.');
      expect(await page.getByLabel('Bind address').getAttribute('readonly')).not.toBeNull();
      expect(await page.getByLabel('Share on LAN').isDisabled()).toBe(true);
      expect(await page.getByLabel('Ollama URL').getAttribute('readonly')).not.toBeNull();
      await page.getByText('Set by --host for this run.').first().waitFor();
      await page.getByText('Set by --upstream for this run.').waitFor();
      await expectNoSidewaysScroll(`settings at ${size.width}x${size.height}`);
    }
    const refused = await adminCall(serve, 'settings.update', { proxy: { port: 9123 } });
    expect(refused).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', message: 'port is set by --port for this run: start the gate without --port to change it' },
    });

    // Pinned by the environment, the window names the variable.
    const byEnvironment = await startServe(fake.url, [], { OLLAMA_GATE_PORT: '0', OLLAMA_GATE_HOST: '127.0.0.1' });
    try {
      const view = await adminValue<SettingsView>(byEnvironment, 'settings.get');
      expect(view.pinned).toEqual(
        expect.arrayContaining([
          { field: 'port', by: 'OLLAMA_GATE_PORT' },
          { field: 'host', by: 'OLLAMA_GATE_HOST' },
        ]),
      );
      await resize(SIZES[1]);
      await login(byEnvironment);
      await open(byEnvironment, 'settings');
      expect(await page.getByLabel('Port', { exact: true }).getAttribute('readonly')).not.toBeNull();
      await page.getByText('Set by OLLAMA_GATE_PORT for this run.').waitFor();
      await page.getByText('Set by OLLAMA_GATE_HOST for this run.').first().waitFor();
    } finally {
      await byEnvironment.stop();
      await login(serve);
    }
  });

  it('the usual overview: QR codes for LAN addresses only, HTTPS with its fingerprint, the latency chart across its card, tables that fit; with screenshots', async () => {
    const { secret } = await adminValue<KeyWithSecret>(shared, 'keys.create', { user: 'carol', name: 'workstation' });
    for (const model of ['llama3.2', 'qwen2.5-coder:32b-instruct-q4_K_M']) {
      await fetch(`${shared.proxyUrl}/api/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}` },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }], stream: false }),
      }).then((r) => r.text());
    }
    await login(shared);
    const status = await adminValue<{ urls: string[]; tls: { urls: string[]; fingerprint256: string } }>(shared, 'proxy.status');
    const lan = status.urls.filter((url) => !url.includes('://127.'));
    for (const size of SIZES) {
      await resize(size);
      await open(shared, 'overview');
      await page.locator('.health-card table').first().waitFor();
      await page.getByRole('heading', { name: 'Loaded now (2)' }).waitFor();
      // A QR code for each LAN address, HTTP and HTTPS, none for 127.0.0.1.
      for (const url of [...lan, ...status.tls.urls.filter((u) => !u.includes('://127.'))]) await page.getByAltText(`QR code for ${url}`).waitFor();
      expect(await page.locator('img.qr').count()).toBe(2 * lan.length);
      expect(await page.getByAltText(/QR code for https?:\/\/127\./).count()).toBe(0);
      expect(await page.locator('.fingerprint code').innerText()).toBe(status.tls.fingerprint256);
      expect(await pinnedGet(`${status.tls.urls[0]}/health`, status.tls.fingerprint256)).toBe(200);
      // The chart is as wide as its card.
      const widths = await page.evaluate<{ chart: number; card: number }>(`(() => {
        const card = document.querySelector('.health-card');
        const style = getComputedStyle(card);
        return { chart: document.querySelector('.latency-chart svg').getBoundingClientRect().width, card: card.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) };
      })()`);
      expect(widths.chart).toBeGreaterThan(widths.card - 2);
      // Narrow, the low-value columns fold away rather than scroll.
      const columns = await page.locator('.health-card table').first().locator('th:visible').count();
      expect(columns).toBe(size.suffix ? 3 : 4);
      expect(await runTest(secret)).toContain('The key works: 3 models visible through the gate');
      await expectNoSidewaysScroll(`usual overview at ${size.width}x${size.height}`);
    }
    for (const size of SIZES) {
      await resize(size);
      for (const shot of LOOKS) {
        if (size.suffix && !(shot.locale === 'en' ? shot.colorScheme === 'light' : shot.colorScheme === 'dark')) continue;
        await open(shared, 'overview');
        await look(shot);
        await page.locator('.health-card table').first().waitFor();
        await page
          .locator('img.qr')
          .nth(2 * lan.length - 1)
          .waitFor();
        await runTest(secret);
        await screenshot('overview-normal', shot, size);
      }
    }
    await look({ locale: 'en', colorScheme: 'light' });
  });

  it('writes screenshots of Settings with pinned fields in both languages and themes', async () => {
    for (const size of SIZES) {
      await resize(size);
      for (const shot of LOOKS) {
        if (size.suffix && !(shot.locale === 'en' ? shot.colorScheme === 'light' : shot.colorScheme === 'dark')) continue;
        await open(shared, 'settings');
        await look(shot);
        await page.locator('.pinned-note').first().waitFor();
        await screenshot('settings-pinned', shot, size);
      }
    }
    await look({ locale: 'en', colorScheme: 'light' });
  });

  it('names a lockout on the Test card after ten wrong keys from this address', async () => {
    await login(serve);
    for (let i = 0; i < 10; i++) {
      const wrong = await fetch(`${serve.proxyUrl}/api/tags`, { headers: { authorization: `Bearer og_wrong_key_${i}_000000000000000000` } });
      await wrong.arrayBuffer();
    }
    expect((await fetch(`${serve.proxyUrl}/api/tags`)).status).toBe(429);
    for (const size of SIZES) {
      await resize(size);
      await open(serve, 'overview');
      const said = await runTest('og_any_key_at_all_0000000000000000');
      expect(said).toContain('429');
      expect(said).toMatch(/This address \(127\.0\.0\.1\) is locked out for \d+ more seconds after too many wrong keys/);
      const seconds = Number(said.match(/locked out for (\d+) more seconds/)![1]);
      expect(seconds).toBeGreaterThan(200);
      expect(seconds).toBeLessThanOrEqual(300);
      expect(said).not.toMatch(/a limit was reached/);
      // Without a key too: a locked-out address gets nothing else.
      expect(await runTest()).toMatch(/This address \(127\.0\.0\.1\) is locked out for \d+ more seconds/);
      await expectNoSidewaysScroll(`lockout at ${size.width}x${size.height}`);
    }
    await adminValue(serve, 'lockouts.unlock', { ip: '127.0.0.1' });
  });

  it('ran without a console error, a page error or a CSP violation', () => {
    expect(problems).toEqual([]);
  });
});
