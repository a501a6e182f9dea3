import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { APP_URL, CONTENT_SECURITY_POLICY, registerAppScheme, rendererFilePath, rendererResponse, serveRenderer } from './renderer-protocol.js';

describe('the app:// renderer protocol', () => {
  let root: string;
  let outside: string;
  beforeAll(() => {
    const base = mkdtempSync(join(tmpdir(), 'gate-renderer-'));
    root = join(base, 'renderer');
    outside = join(base, 'secret.txt');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Ollama Gate</title>');
    writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
    writeFileSync(join(root, 'assets', 'index-abc.css'), 'body{}');
    writeFileSync(outside, 'do not serve');
  });
  afterAll(() => rmSync(join(root, '..'), { recursive: true, force: true }));

  it('maps app://gate/ URLs to files in the renderer folder', () => {
    expect(rendererFilePath(APP_URL, root)).toBe(join(root, 'index.html'));
    expect(rendererFilePath('app://gate/', root)).toBe(join(root, 'index.html'));
    expect(rendererFilePath('app://gate/assets/index-abc.js?v=1#x', root)).toBe(join(root, 'assets', 'index-abc.js'));
  });

  it('never leaves the folder, and refuses other hosts and schemes', async () => {
    // The URL parser resolves dot segments, so these land inside the folder (and find nothing) or are refused.
    for (const url of ['app://gate/../secret.txt', 'app://gate/%2e%2e/secret.txt', 'app://gate/assets/..%2F..%2Fsecret.txt', 'app://gate/%2F..%2Fsecret.txt']) {
      const file = rendererFilePath(url, root);
      expect(file === null || file.startsWith(join(root, '/')), url).toBe(true);
      const response = await rendererResponse(url, root);
      expect(response.status, url).toBe(404);
    }
    for (const url of ['app://gate/assets/%00.js', 'app://gate/%E0%A4%A', 'app://other/index.html', 'file:///etc/passwd', 'not a url']) {
      expect(rendererFilePath(url, root), url).toBeNull();
    }
  });

  it('answers files with their type, the CSP and nosniff; anything else is a 404', async () => {
    const page = await rendererResponse(APP_URL, root);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('Ollama Gate');
    expect((await rendererResponse('app://gate/assets/index-abc.js', root)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await rendererResponse('app://gate/assets/index-abc.css', root)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await rendererResponse('app://gate/missing.js', root)).status).toBe(404);
    expect((await rendererResponse('app://gate/assets', root)).status).toBe(404);
    const escape = await rendererResponse('app://gate/..%2Fsecret.txt', root);
    expect(escape.status).toBe(404);
    expect(await escape.text()).not.toContain('do not serve');
  });

  it("registers the app URL's scheme as a standard, secure one that other origins cannot read, and serves the app from it", async () => {
    const protocol = { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() };
    registerAppScheme(protocol);
    const appScheme = new URL(APP_URL).protocol.slice(0, -1);
    const [[registered]] = protocol.registerSchemesAsPrivileged.mock.calls as [[Array<{ scheme: string; privileges: Record<string, boolean> }>]];
    expect(registered).toHaveLength(1);
    expect(registered[0]!.scheme).toBe(appScheme);
    // standard: a real origin for 'self' in the CSP; secure: a secure context, as https is.
    expect(registered[0]!.privileges).toMatchObject({ standard: true, secure: true });
    for (const loosening of ['corsEnabled', 'bypassCSP', 'allowServiceWorkers']) expect(registered[0]!.privileges[loosening], loosening).not.toBe(true);
    serveRenderer(protocol, root);
    const [scheme, handler] = protocol.handle.mock.calls[0]!;
    expect(scheme).toBe(appScheme);
    expect((await handler(new Request(APP_URL))).status).toBe(200);
  });
});
