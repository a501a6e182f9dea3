import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { defineConfig } from 'vite';

const { dependencies } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };

/**
 * The Electron main process: one ES module (dist/main/index.js, package.json "main") with the core
 * bundled in. Electron, Node's built-ins and the runtime dependencies stay outside: they are loaded
 * from node_modules, which electron-builder ships.
 */
export default defineConfig({
  build: {
    outDir: 'dist/main',
    emptyOutDir: true,
    target: 'node22',
    minify: false,
    sourcemap: false,
    copyPublicDir: false,
    lib: { entry: 'electron/main/index.ts', formats: ['es'], fileName: () => 'index.js' },
    rolldownOptions: {
      external: ['electron', /^node:/, ...builtinModules, ...Object.keys(dependencies).map((name) => new RegExp(`^${name}(/|$)`))],
    },
  },
});
