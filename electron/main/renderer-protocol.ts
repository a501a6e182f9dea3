import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { Protocol } from 'electron';

/**
 * The built renderer is served from `app://gate/`, a privileged custom scheme, rather than from
 * file:// (Electron's security checklist): the page gets a real origin of its own, `'self'` in
 * the CSP means exactly the app's files, and nothing outside the renderer folder can be read.
 */

export const APP_SCHEME = 'app';
export const APP_HOST = 'gate';
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/**
 * The page's policy, sent as a header with every file (the renderer's index.html also carries it
 * as a meta tag; a page gets the stricter of both). No inline scripts or styles, nothing remote.
 * Only `npm run dev` passes a nonce, for Vite's inline preamble and injected styles.
 */
export function contentSecurityPolicy(devNonce?: string): string {
  const nonce = devNonce ? ` 'nonce-${devNonce}'` : '';
  return [
    "default-src 'none'",
    `script-src 'self'${nonce}`,
    `style-src 'self'${nonce}`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.map': 'application/json; charset=utf-8',
};

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
      'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
    },
  });
}
