/**
 * Before the browser tests: rebuild the CLI (tsc) and the renderer (vite build) when their sources
 * are newer than what dist holds, so `npx vitest run test/e2e` always tests the code as it is.
 * `npm test` builds the CLI itself; the renderer build takes about a second.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'vite';

const ROOT = join(import.meta.dirname, '..', '..');

export default async function setup(): Promise<void> {
  if (stale(join(ROOT, 'dist', 'cli', 'index.js'), ['electron/core', 'electron/cli', 'electron/shared', 'tsconfig.build.json'])) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  }
  if (stale(join(ROOT, 'dist', 'renderer', 'index.html'), ['renderer', 'electron/shared', 'vite.config.ts'])) {
    await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
  }
}

/** Whether `output` is missing or older than any source file (tests aside) under `sources`. */
function stale(output: string, sources: string[]): boolean {
  if (!existsSync(output)) return true;
  const built = statSync(output).mtimeMs;
  return sources.some((source) => newest(join(ROOT, source)) > built);
}

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return /\.test\.tsx?$/.test(path) ? 0 : stat.mtimeMs;
  return Math.max(
    0,
    ...readdirSync(path)
      .filter((name) => name !== 'node_modules')
      .map((name) => newest(join(path, name))),
  );
}
