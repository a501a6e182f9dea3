import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../test/support/fake-ollama.js';
import { type RawAnswer, type RawRequestOptions, rawRequest } from '../../test/support/raw-request.js';
import { createGateway } from '../core/gateway.js';
import { type GateService, createGateService } from '../core/service.js';
import type { GateStore } from '../core/gate-store.js';
import { ADMIN_COOKIE, ADMIN_CSP, type AdminServer, refuseForeign, rendererFile, startAdminServer } from './admin-http.js';
import { pageLanguage } from './unauthorized-page.js';
import { openStore } from './open-store.js';

/** A raw request to the admin on `port`, so a test can send any Host, Origin or path (fetch normalises them). */
const send = (port: number, path: string, options?: RawRequestOptions): Promise<RawAnswer> => rawRequest(`http://127.0.0.1:${port}${path}`, options);

describe('the headless web admin', () => {
  let dir: string;
  let fake: FakeOllama;
  let store: GateStore;
  let service: GateService;
  let admin: AdminServer;
  let auth: Record<string, string>;

  const call = (method: string, body?: unknown, headers: Record<string, string> = auth) =>
    send(admin.port, `/gate/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? '' : JSON.stringify(body),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gate-admin-'));
    const renderer = join(dir, 'renderer');
    mkdirSync(join(renderer, 'assets'), { recursive: true });
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(renderer, 'assets', 'index-abc.js'), 'console.log(1)');
    writeFileSync(join(renderer, 'assets', 'index-abc.css'), 'body{}');
    writeFileSync(join(dir, 'secret.txt'), 'outside the renderer');
    fake = await startFakeOllama();
    store = openStore(join(dir, 'data'));
    store.updateSettings({ host: '127.0.0.1', port: 0, upstream: fake.url });
    const gateway = createGateway({ keys: store, settings: store, exposureAddresses: () => [] });
    service = createGateService({
      gateway,
      store,
      app: { name: 'Ollama Gate', version: '0.0.0', host: 'headless', platform: process.platform, versions: {}, dataDir: dir, logsDir: dir },
      logIntervalMs: 20,
    });
    await gateway.listen();
    admin = await startAdminServer({ service, port: 0, rendererDir: renderer, keepAliveMs: 50 });
    auth = { authorization: `Bearer ${admin.token}` };
  });

  afterAll(async () => {
    await admin.close();
    await service.close();
    store.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on loopback only, with a long random token in its login URL', () => {
    expect(admin.url).toBe(`http://127.0.0.1:${admin.port}/`);
    expect(admin.token.length).toBeGreaterThanOrEqual(43);
    expect(admin.loginUrl).toBe(`${admin.url}?token=${admin.token}`);
  });

  it('answers nothing without the token', async () => {
    for (const path of ['/', '/index.html', '/assets/index-abc.js']) {
      const answer = await send(admin.port, path);
      expect(answer.status, path).toBe(401);
      expect(answer.body).not.toContain('<div id="root">');
    }
    const api = await call('keys.list', undefined, {});
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((await call('keys.list', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await call('keys.list', undefined, { cookie: `${ADMIN_COOKIE}=wrong` })).status).toBe(401);
    expect((await send(admin.port, '/gate/events')).status).toBe(401);
  });

  it('shows a browser without the token a page that says how to get in, under the same CSP; the API stays JSON', async () => {
    const browser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'none' };
    const page = await send(admin.port, '/', { headers: browser });
    expect(page.status).toBe(401);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(ADMIN_CSP);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('This page needs the admin link');
    expect(page.body).toContain('<code>ollama-gate serve</code> printed');
    expect(page.body).toContain(`http://127.0.0.1:${admin.port}/?token=…`);
    expect(page.body).not.toContain(admin.token);
    expect(page.body).not.toContain('<div id="root">');
    // Nothing the CSP would block: no script, no inline style; the look comes from a stylesheet.
    expect(page.body).not.toMatch(/<script|<style|\sstyle=|\son\w+=/i);
    const stylesheet = /<link rel="stylesheet" href="([^"]+)">/.exec(page.body)?.[1];
    expect(stylesheet).toBe('/unauthorized.css');
    const css = await send(admin.port, stylesheet!, { headers: { accept: 'text/css,*/*;q=0.1', 'sec-fetch-site': 'same-origin' } });
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.body).toContain('prefers-color-scheme: dark');

    // A link from an earlier run says so; a Chinese browser reads it in Chinese.
    const old = await send(admin.port, '/?token=from-yesterday', { headers: { ...browser, 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' } });
    expect(old.status).toBe(401);
    expect(old.body).toContain('<html lang="zh-CN">');
    expect(old.body).toContain('此管理链接已不再有效');

    // Scripts and the API are not browsers opening a page: text, and JSON under /gate/.
    const script = await send(admin.port, '/');
    expect(script.headers['content-type']).toBe('text/plain; charset=utf-8');
    const api = await send(admin.port, '/gate/keys.list', { method: 'POST', headers: { ...browser, 'content-type': 'application/json' }, body: '' });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // The stylesheet opens nothing else: a file of the renderer still needs the token.
    expect((await send(admin.port, '/assets/index-abc.css')).status).toBe(401);
  });

  it('answers in the language the browser asks for first', () => {
    expect(pageLanguage('zh-CN,zh;q=0.9,en;q=0.8')).toBe('zh-CN');
    expect(pageLanguage('en-US,en;q=0.9,zh-CN;q=0.8')).toBe('en');
    expect(pageLanguage('en;q=0.5, zh-Hans;q=0.9')).toBe('zh-CN');
    expect(pageLanguage('zh-TW,zh;q=0.1')).toBe('zh-CN');
    expect(pageLanguage('zh-TW')).toBe('en');
    expect(pageLanguage('fr-FR')).toBe('en');
    expect(pageLanguage(undefined)).toBe('en');
  });

  it('trades the token in the URL for an HttpOnly, SameSite=Strict cookie and drops it from the address', async () => {
    expect((await send(admin.port, '/?token=wrong')).status).toBe(401);
    const login = await send(admin.port, `/?token=${admin.token}`);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/');
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toContain(`${ADMIN_COOKIE}=${admin.token}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await send(admin.port, '/', { headers: { cookie: `other=1; ${ADMIN_COOKIE}=${admin.token}` } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<div id="root">');
  });

  it('serves the renderer with content types, its CSP and caching that fits each file', async () => {
    const page = await send(admin.port, '/', { headers: auth });
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-cache');
    const script = await send(admin.port, '/assets/index-abc.js', { headers: auth });
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['cache-control']).toContain('immutable');
    expect((await send(admin.port, '/assets/index-abc.css', { headers: auth })).headers['content-type']).toBe('text/css; charset=utf-8');
    const head = await send(admin.port, '/index.html', { method: 'HEAD', headers: auth });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect((await send(admin.port, '/missing.js', { headers: auth })).status).toBe(404);
    expect((await send(admin.port, '/', { method: 'DELETE', headers: auth })).status).toBe(405);
  });

  it('never serves a file outside the renderer folder', async () => {
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/%00',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/%E0%A4%A',
    ]) {
      const answer = await send(admin.port, path, { headers: auth });
      expect(answer.status, path).toBe(404);
      expect(answer.body, path).not.toContain('outside the renderer');
    }
    expect(rendererFile('/srv/r', '/../x')).toBeNull();
    expect(rendererFile('/srv/r', '/a/../../x')).toBeNull();
    expect(rendererFile('/srv/r', '/')).toBe('/srv/r/index.html');
  });

  it('refuses other Host names (DNS rebinding) and other origins, even with the token', async () => {
    const evilHost = await send(admin.port, '/gate/keys.list', {
      method: 'POST',
      headers: { ...auth, host: 'evil.example:80', 'content-type': 'application/json' },
    });
    expect(evilHost.status).toBe(403);
    expect((await send(admin.port, '/', { headers: { ...auth, host: `evil.example:${admin.port}` } })).status).toBe(403);
    expect((await call('keys.list', undefined, { ...auth, origin: 'http://evil.example' })).status).toBe(403);
    expect((await call('keys.list', undefined, { ...auth, origin: `http://localhost:${admin.port + 1}` })).status).toBe(403);
    expect((await call('keys.list', undefined, { ...auth, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await call('keys.list', undefined, { ...auth, 'sec-fetch-site': 'same-site' })).status).toBe(403);
    // The admin's own page, under either loopback name, is welcome.
    expect((await call('keys.list', undefined, { ...auth, origin: `http://127.0.0.1:${admin.port}`, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await call('keys.list', undefined, { ...auth, host: `localhost:${admin.port}`, origin: `http://localhost:${admin.port}` })).status).toBe(200);
    expect(refuseForeign({ headers: { host: `127.0.0.1:${admin.port}` } }, admin.port)).toBeNull();
    expect(refuseForeign({ headers: {} }, admin.port)).not.toBeNull();
  });

  it('dispatches POST /gate/<method> to the service and answers its GateResult', async () => {
    const created = await call('keys.create', { user: 'alice', rpm: 30 });
    expect(created.status).toBe(200);
    const result = JSON.parse(created.body) as { ok: true; value: { key: { user: string; rpm: number }; secret: string } };
    expect(result.ok).toBe(true);
    expect(result.value.key).toMatchObject({ user: 'alice', rpm: 30 });
    expect(result.value.secret).toMatch(/^og_/);
    const listed = JSON.parse((await call('keys.list')).body) as { ok: true; value: Array<{ user: string }> };
    expect(listed.value.map((k) => k.user)).toEqual(['alice']);
    expect(JSON.stringify(listed)).not.toContain(result.value.secret);
    expect(JSON.parse((await call('app.info', null)).body)).toMatchObject({ ok: true, value: { host: 'headless' } });
  });

  it('answers mistakes as error results: invalid input with its issues, unknown methods, bad JSON and bad verbs', async () => {
    const invalid = JSON.parse((await call('keys.create', { user: '', rpm: -1 })).body) as {
      ok: false;
      error: { code: string; issues: Array<{ path: string }> };
    };
    expect(invalid.ok).toBe(false);
    expect(invalid.error.code).toBe('invalid_input');
    expect(invalid.error.issues.map((i) => i.path).sort()).toEqual(['rpm', 'user']);
    const unknown = await call('keys.steal');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    expect(JSON.parse((await call('__proto__')).body)).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    const broken = await send(admin.port, '/gate/keys.list', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{nope' });
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.body)).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    // A plain form post cannot send JSON: refused whatever it carries.
    expect(
      (await send(admin.port, '/gate/keys.list', { method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' }))
        .status,
    ).toBe(415);
    expect((await send(admin.port, '/gate/keys.list', { headers: auth })).status).toBe(405);
    const huge = await send(admin.port, '/gate/keys.create', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
  });

  it('streams every event as server-sent events, with keep-alive comments', async () => {
    const received: string[] = [];
    const controller = new AbortController();
    const response = await fetch(`${admin.url}gate/events`, { headers: auth, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const until = async (predicate: (text: string) => boolean) => {
      const deadline = Date.now() + 5_000;
      while (!predicate(received.join(''))) {
        if (Date.now() > deadline) throw new Error(`not seen in time; got:\n${received.join('')}`);
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        received.push(value);
      }
    };
    await until((text) => text.includes(': connected'));
    await call('keys.create', { user: 'bob' });
    await until((text) => /event: keys\ndata: \[.*"user":"bob"/.test(text));
    await until((text) => text.includes(': keep-alive'));
    const status = JSON.parse((await call('proxy.status')).body) as { value: { urls: string[] } };
    await fetch(`${status.value.urls[0]}/api/tags`);
    await until((text) => /event: logs\ndata: \[.*"path":"\/api\/tags"/.test(text));
    controller.abort();
  });

  it('ends open event streams when it closes', async () => {
    const second = await startAdminServer({ service, port: 0, rendererDir: dir });
    const response = await fetch(`${second.url}gate/events`, { headers: { authorization: `Bearer ${second.token}` } });
    const reader = response.body!.getReader();
    await reader.read();
    await second.close();
    let done = false;
    while (!done) ({ done } = await reader.read());
    expect(done).toBe(true);
  });
});
