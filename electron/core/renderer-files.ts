import { extname } from 'node:path';

/**
 * How the built renderer is served, the same by both hosts (the app's `app://` handler and the
 * headless web admin): its content security policy and its files' content types.
 */

/**
 * No inline scripts or styles, nothing remote (data: images for QR codes). The renderer's
 * index.html also carries it as a meta tag; a page gets the stricter of both. Only `npm run dev`
 * passes a nonce, for Vite's inline preamble and injected styles.
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
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}
