import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { Protocol } from 'electron';
import { CONTENT_SECURITY_POLICY, contentSecurityPolicy, contentTypeOf } from '../core/renderer-files.js';

/**
 * The built renderer is served from `app://gate/`, a privileged custom scheme, rather than from
 * file:// (Electron's security checklist): the page gets a real origin of its own, `'self'` in
 * the CSP means exactly the app's files, and nothing outside the renderer folder can be read.
 */

const APP_SCHEME = 'app';
const APP_HOST = 'gate';
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

export { CONTENT_SECURITY_POLICY, contentSecurityPolicy };

/**
 * Must run before the app is ready. `standard` gives the page a real origin (same-origin module
 * scripts load); `corsEnabled` stays off on purpose, so no other origin can read the app's files.
 */
export function registerAppScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Serves the renderer folder on app://gate/. */
export function serveRenderer(protocol: Pick<Protocol, 'handle'>, root: string): void {
  protocol.handle(APP_SCHEME, (request) => rendererResponse(request.url, root));
}

/** The file an app:// URL names inside the renderer folder, or null for anything else. */
export function rendererFilePath(url: string, root: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(parsed.pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0')) return null;
  const base = resolve(root);
  const file = resolve(base, `.${pathname === '/' ? '/index.html' : pathname}`);
  return file.startsWith(base + sep) ? file : null;
}

export async function rendererResponse(url: string, root: string): Promise<Response> {
  const file = rendererFilePath(url, root);
  const body = file ? await readFile(file).catch(() => null) : null;
  if (!file || !body) return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  return new Response(new Uint8Array(body), {
    headers: {
      'content-type': contentTypeOf(file),
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
    },
  });
}
