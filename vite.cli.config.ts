import { chmodSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { defineConfig } from 'vite';

/**
 * The headless CLI as one minified module (dist/cli/ollama-gate.js, package.json "bin"), the file
 * users run. One file keeps an idle `serve` small: a single module record, valibot reduced to the
 * functions the schemas use, and no unminified sources held in the heap (about 3 MB of RSS
 * against the per-file output of tsc). electron-log and undici (CommonJS, which an ES bundle cannot
 * require) and selfsigned (loaded only for HTTPS) are loaded from node_modules.
 */
export default defineConfig({
  build: {
    outDir: 'dist/cli',
    // tsc's per-file output (dist/core, dist/cli) stays: tests import modules from it.
    emptyOutDir: false,
    target: 'node20',
    minify: true,
    sourcemap: true,
    copyPublicDir: false,
    lib: { entry: 'electron/cli/index.ts', formats: ['es'], fileName: () => 'ollama-gate.js' },
    rolldownOptions: {
      external: [/^node:/, ...builtinModules, /^electron-log(\/|$)/, /^undici(\/|$)/, /^selfsigned(\/|$)/],
    },
  },
  // Executable, like the file npm links as `ollama-gate`, so a service or a container can run it as it is.
  plugins: [{ name: 'executable-cli', writeBundle: (options) => chmodSync(join(options.dir!, 'ollama-gate.js'), 0o755) }],
});
