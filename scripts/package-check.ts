/**
 * `npm run package:check`: builds the app, packages it with electron-builder as the installers
 * would (`--linux --dir`, against a stub Electron so it works offline), then checks what ended up
 * in app.asar and runs the packaged main entry in plain Node (scripts/package-check/smoke.ts).
 * Prints one line per check and PASS or FAIL; exits 1 on failure. `--skip-build` reuses dist/.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import asar from '@electron/asar';
import { trayIconImages } from '../electron/main/tray/icon-images.js';
import {
  type ArchiveFiles,
  assetReferences,
  formatBytes,
  htmlReferences,
  moduleReferences,
  packageClosure,
  packageDirectories,
  packageNameOf,
  unwantedFiles,
  walkModuleGraph,
} from './package-check/asar-contents.js';
import { type Check, runSmoke } from './package-check/smoke.js';

const ROOT = join(import.meta.dirname, '..');
const UNPACKED = join(ROOT, 'release', 'linux-unpacked');
const RESOURCES = join(UNPACKED, 'resources');
const ARCHIVE = join(RESOURCES, 'app.asar');
/** Never in the app, whatever package.json says: the test, build and client libraries. */
const DEV_ONLY = [
  'vitest',
  'vite',
  'react',
  'react-dom',
  'typescript',
  'tsx',
  'playwright-core',
  'electron',
  'electron-builder',
  'ollama',
  'openai',
  'jsdom',
  'autocannon',
  'fast-check',
];
const DEV_ONLY_SCOPES = ['@langchain/', '@types/', '@vitejs/', '@testing-library/', '@electron/'];
/** What a sandboxed preload may require. */
const PRELOAD_MODULES = ['electron', 'events', 'timers', 'url', 'node:events', 'node:timers', 'node:url'];

const checks: Check[] = [];
const temporary: string[] = [];
const started = performance.now();

/** The first few of a long list, and how many more. */
function some(items: readonly string[], shown = 5): string {
  return `${items.slice(0, shown).join('; ')}${items.length > shown ? ` and ${items.length - shown} more` : ''}`;
}

function record(name: string, ok: boolean, detail: string): boolean {
  checks.push({ name, ok, detail });
  process.stdout.write(`  ${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}\n`);
  return ok;
}

/** Runs a command quietly; its output is shown only when it fails. */
function run(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const begin = performance.now();
  const result = spawnSync(command, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = ((performance.now() - begin) / 1000).toFixed(1);
  const ok = result.status === 0;
  record(name, ok, ok ? `${seconds} s` : `exit ${result.status ?? result.signal ?? result.error?.message}`);
  if (!ok) process.stdout.write(`${`${result.stdout ?? ''}${result.stderr ?? ''}`.split('\n').slice(-40).join('\n')}\n`);
  return ok;
}

function temporaryDirectory(prefix: string): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(directory);
  return directory;
}

/** An Electron "distribution" that is one executable file: enough for electron-builder --dir. */
function stubElectronDist(): string {
  const directory = temporaryDirectory('ollama-gate-electron-dist-');
  const executable = join(directory, 'electron');
  writeFileSync(executable, '#!/bin/sh\necho "stub Electron for npm run package:check" >&2\nexit 1\n');
  chmodSync(executable, 0o755);
  return directory;
}

/** The archive's files through @electron/asar, read once each. */
function openArchive(archive: string): ArchiveFiles & { size(path: string): number } {
  const entries = new Map<string, number>();
  for (const listed of asar.listPackage(archive, { isPack: false })) {
    const path = listed.replaceAll('\\', '/').replace(/^\//, '');
    const entry = asar.statFile(archive, path, false);
    if ('size' in entry) entries.set(path, entry.size);
  }
  const cache = new Map<string, string>();
  return {
    has: (path) => entries.has(path),
    list: () => [...entries.keys()],
    size: (path) => entries.get(path) ?? 0,
    read(path) {
      let text = cache.get(path);
      if (text === undefined) {
        text = asar.extractFile(archive, path).toString('utf8');
        cache.set(path, text);
      }
      return text;
    },
  };
}

function checkArchive(): void {
  const size = statSync(ARCHIVE).size;
  const files = openArchive(ARCHIVE);
  const paths = files.list();
  const manifest = JSON.parse(files.read('package.json')) as { main: string; version: string; devDependencies?: Record<string, string> };

  // The main entry and everything it loads.
  const main = posix.normalize(manifest.main);
  const graph = walkModuleGraph(files, main);
  const bare = [...new Set([...graph.packages.values()].map(packageNameOf))].sort();
  record(
    `main entry ${main} and what it loads`,
    graph.problems.length === 0,
    graph.problems.length
      ? some(graph.problems.map((p) => `${p.from}: ${p.message}`))
      : `files ${graph.files.join(', ')}; packages ${bare.join(', ')}; from the host: ${[...graph.provided].filter((m) => !m.startsWith('node:')).join(', ') || 'node: built-ins only'}`,
  );
  record('electron is not bundled', !files.has('node_modules/electron/package.json'), 'the app gets it from the Electron runtime');

  // Production dependencies: all there, nothing else.
  const closure = packageClosure(files);
  record(
    'production dependencies complete',
    closure.problems.length === 0,
    closure.problems.length
      ? some(closure.problems.map((p) => `${p.from}: ${p.message}`))
      : `${closure.reached.size} packages reachable from package.json dependencies`,
  );
  record(
    'no stray packages',
    closure.unreached.length === 0,
    closure.unreached.length ? some(closure.unreached) : 'every package in node_modules is a production dependency',
  );
  const devOnly = new Set([...DEV_ONLY, ...Object.keys(manifest.devDependencies ?? {})]);
  const shippedDev = packageDirectories(files).filter((directory) => {
    const name = packageNameOf(directory);
    return devOnly.has(name) || DEV_ONLY_SCOPES.some((scope) => name.startsWith(scope));
  });
  record('no dev dependencies', shippedDev.length === 0, shippedDev.length ? shippedDev.join(', ') : `none of ${devOnly.size} dev-only packages present`);

  // The preload: there, and only requiring what a sandboxed preload can.
  const preload = 'dist/preload/index.cjs';
  const preloadModules = files.has(preload) ? moduleReferences(files.read(preload)).map((reference) => reference.specifier) : [];
  const foreign = preloadModules.filter((specifier) => !PRELOAD_MODULES.includes(specifier));
  record(
    'preload',
    files.has(preload) && foreign.length === 0,
    files.has(preload)
      ? `${preload} requires ${preloadModules.join(', ') || 'nothing'}${foreign.length ? ` (not available to a sandboxed preload: ${foreign.join(', ')})` : ''}`
      : `${preload} missing`,
  );

  // The renderer: the page and every file it, its scripts and its styles reference.
  const page = 'dist/renderer/index.html';
  const root = posix.dirname(page);
  const missing: string[] = [];
  const seen = new Set<string>();
  const queue = files.has(page) ? htmlReferences(files.read(page), page, root) : [];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!files.has(file)) {
      missing.push(file);
      continue;
    }
    if (/\.(?:css|m?js)$/.test(file)) queue.push(...assetReferences(files.read(file), file, root));
  }
  record(
    'renderer page and assets',
    files.has(page) && seen.size > 0 && missing.length === 0,
    !files.has(page)
      ? `${page} missing`
      : missing.length
        ? `missing: ${missing.join(', ')}`
        : `${page} + ${[...seen].map((file) => posix.relative(root, file)).join(', ')}`,
  );

  // What must not ship.
  const unwanted = unwantedFiles(paths);
  const byReason = new Map<string, string[]>();
  for (const { path, reason } of unwanted) byReason.set(reason, [...(byReason.get(reason) ?? []), path]);
  record(
    'no sources, source maps, tests or stray files',
    unwanted.length === 0,
    unwanted.length ? [...byReason].map(([reason, items]) => `${reason}: ${some(items, 3)}`).join('; ') : `${paths.length} files checked`,
  );
  const unpacked = existsSync(`${ARCHIVE}.unpacked`);
  record('nothing unpacked beside the archive', !unpacked, unpacked ? 'app.asar.unpacked exists: no native module should need it' : 'no app.asar.unpacked');

  // Tray images beside the archive, as the app reads them (process.resourcesPath/tray).
  const trayDir = join(RESOURCES, 'tray');
  const trayProblems = trayIconImages()
    .map(({ file, png }) =>
      !existsSync(join(trayDir, file)) ? `${file} missing` : readFileSync(join(trayDir, file)).equals(png) ? null : `${file} differs from build/tray`,
    )
    .filter((problem): problem is string => problem !== null);
  record('tray images in resources/tray', trayProblems.length === 0, trayProblems.length ? some(trayProblems) : `${readdirSync(trayDir).length} images`);

  // Size, for the record.
  const sizes = new Map<string, number>();
  for (const path of paths) {
    const parts = path.split('/');
    const group =
      parts[0] === 'node_modules' ? packageNameOf(`node_modules/${parts.slice(1, parts[1]!.startsWith('@') ? 3 : 2).join('/')}`) : parts.slice(0, 2).join('/');
    sizes.set(group, (sizes.get(group) ?? 0) + files.size(path));
  }
  const largest = [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 6);
  record(
    'app.asar size',
    size < 40 * 1024 * 1024,
    `${formatBytes(size)}, ${paths.length} files; largest: ${largest.map(([name, bytes]) => `${name} ${formatBytes(bytes)}`).join(', ')}`,
  );
}

async function main(): Promise<void> {
  process.stdout.write('package:check\n');
  const skipBuild = process.argv.includes('--skip-build');
  if (!skipBuild && !run('npm run build', 'npm', ['run', 'build'])) return;

  const electronDist = stubElectronDist();
  const builder = join(ROOT, 'node_modules', '.bin', 'electron-builder');
  // No signing on this run, whatever the environment holds.
  const env = { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false' };
  if (!run('electron-builder --linux --dir (stub Electron)', builder, ['--linux', '--dir', '--publish', 'never', `-c.electronDist=${electronDist}`], env))
    return;
  if (!record('release/linux-unpacked/resources/app.asar', existsSync(ARCHIVE), existsSync(ARCHIVE) ? '' : 'not written')) return;

  checkArchive();

  // The packaged main entry, run for real.
  const appDir = join(temporaryDirectory('ollama-gate-app-'), 'app');
  asar.extractAll(ARCHIVE, appDir);
  const electronVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }).version;
  const smoke = await runSmoke({ appDir, resourcesDir: RESOURCES, electronVersion });
  for (const { name, ok, detail } of smoke.checks) record(`run: ${name}`, ok, detail);
  if (smoke.checks.some((c) => !c.ok)) process.stdout.write(`--- the app's output ---\n${smoke.output.split('\n').slice(-60).join('\n')}\n`);
}

try {
  await main();
} catch (error) {
  record('package:check', false, error instanceof Error ? (error.stack ?? error.message) : String(error));
} finally {
  for (const directory of temporary) rmSync(directory, { recursive: true, force: true });
}
const failed = checks.filter((c) => !c.ok);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
process.stdout.write(
  failed.length === 0
    ? `PASS: ${checks.length} checks in ${seconds} s\n`
    : `FAIL: ${failed.length} of ${checks.length} checks failed (${failed.map((c) => c.name).join('; ')}) in ${seconds} s\n`,
);
process.exitCode = failed.length === 0 ? 0 : 1;
