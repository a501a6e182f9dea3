import { defineConfig } from 'vite';

/**
 * The preload: a sandboxed preload cannot import modules, so it is one self-contained CommonJS
 * file (dist/preload/index.cjs) with everything but `electron` bundled in.
 */
export default defineConfig({
  build: {
    outDir: 'dist/preload',
    emptyOutDir: true,
    // Electron 41 runs Chromium 146.
    target: 'chrome140',
    minify: false,
    // No map in the shipped preload; the packaged app carries none.
    sourcemap: false,
    copyPublicDir: false,
    lib: { entry: 'electron/preload/index.ts', formats: ['cjs'], fileName: () => 'index.cjs' },
    rolldownOptions: { external: ['electron'] },
  },
});
