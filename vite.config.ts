import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The renderer: one build for the Electron window and the headless web admin. */
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
  },
});
