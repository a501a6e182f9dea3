/**
 * `npm run dev`: the renderer from Vite's dev server (hot reload), main and preload built once,
 * and Electron started against them. Ends when Electron does.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { createServer } from 'vite';

// The electron package's main export is the path of its binary (it throws when the binary is missing).
let electron: string;
try {
  electron = createRequire(import.meta.url)('electron') as string;
} catch (error) {
  process.stderr.write(`Electron is not installed here: ${(error as Error).message}\n`);
  process.exit(1);
}

// Vite's dev page has inline scripts (React's refresh preamble) and injects styles at run time; the
// strict CSP refuses both. A nonce for this session lets exactly those through, in development only:
// Vite stamps it on its tags, the page's meta CSP and the main process's CSP header name it.
const nonce = randomBytes(18).toString('base64');
const server = await createServer({
  configFile: 'vite.config.ts',
  server: { host: '127.0.0.1', strictPort: false },
  html: { cspNonce: nonce },
  plugins: [
    {
      name: 'ollama-gate:dev-csp-nonce',
      apply: 'serve',
      transformIndexHtml: (html) => html.replace(/(script-src|style-src) 'self'/g, `$1 'self' 'nonce-${nonce}'`),
    },
  ],
});
await server.listen();
const url = server.resolvedUrls?.local[0];
if (!url) throw new Error('the Vite dev server did not report its URL');
server.printUrls();
const child = spawn(electron, ['.'], { stdio: 'inherit', env: { ...process.env, VITE_DEV_SERVER_URL: url, OLLAMA_GATE_DEV_CSP_NONCE: nonce } });
const stop = () => child.kill();
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
child.once('exit', (code) => {
  void server.close().finally(() => process.exit(code ?? 0));
});
child.once('error', (error) => {
  process.stderr.write(`could not start Electron: ${error.message}\n`);
  void server.close().finally(() => process.exit(1));
});
