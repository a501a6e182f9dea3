/**
 * What `npm run package:check` reads out of a built app.asar, as pure functions over a file list:
 * the module graph of the main entry, package resolution the way Node does it, the renderer's
 * references, and what must never ship. scripts/package-check.ts runs them on the real archive;
 * asar-contents.test.ts on small made-up ones.
 */
import { builtinModules } from 'node:module';
import { posix } from 'node:path';

/** The files of an archive, by path relative to its root ('dist/main/index.js'). */
export interface ArchiveFiles {
  has(path: string): boolean;
  read(path: string): string;
  /** every file path */
  list(): readonly string[];
}

/** An in-memory archive (tests, and anything small). */
export function archiveFromRecord(files: Record<string, string>): ArchiveFiles {
  return { has: (path) => path in files, read: (path) => files[path] ?? '', list: () => Object.keys(files) };
}

export type ImportKind = 'import' | 'require';
export interface ModuleReference {
  specifier: string;
  kind: ImportKind;
}

const STATIC_IMPORT = /(?:^|[;\s}])import\s*(?:[\w$*{}\s,]+?\s*from\s*)?["']([^"'\n]+)["']/g;
const RE_EXPORT = /(?:^|[;\s}])export\s*(?:\*\s*(?:as\s+[\w$]+\s*)?|\{[^}]*\}\s*)from\s*["']([^"'\n]+)["']/g;
const DYNAMIC_IMPORT = /\bimport\s*\(\s*["']([^"'\n]+)["']\s*\)/g;
const REQUIRE = /\brequire\s*\(\s*["']([^"'\n]+)["']\s*\)/g;
/** `createRequire(import.meta.url)("../../package.json")`, as the bundled core reads its version */
const CREATED_REQUIRE = /\bcreateRequire\([^)]*\)\s*\(\s*["']([^"'\n]+)["']\s*\)/g;

/** The modules a built JavaScript file loads by literal name (bundles and packages' own code). */
export function moduleReferences(source: string): ModuleReference[] {
  const found = new Map<string, ModuleReference>();
  const add = (pattern: RegExp, kind: ImportKind) => {
    for (const match of source.matchAll(pattern)) {
      const specifier = match[1]!;
      found.set(`${kind}:${specifier}`, { specifier, kind });
    }
  };
  add(STATIC_IMPORT, 'import');
  add(RE_EXPORT, 'import');
  add(DYNAMIC_IMPORT, 'import');
  add(REQUIRE, 'require');
  add(CREATED_REQUIRE, 'require');
  return [...found.values()];
}

const BUILTINS = new Set(builtinModules);

export function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0]!);
}

export function isRelative(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..';
}

/** `@scope/name/sub/path` → { name: '@scope/name', subpath: 'sub/path' } */
export function splitPackageSpecifier(specifier: string): { name: string; subpath: string } {
  const parts = specifier.split('/');
  const size = specifier.startsWith('@') ? 2 : 1;
  return { name: parts.slice(0, size).join('/'), subpath: parts.slice(size).join('/') };
}

const EXTENSIONS = ['', '.js', '.cjs', '.mjs', '.json', '/index.js', '/index.cjs', '/index.json'];

/** A file a relative specifier names: ESM imports need the exact name, require() tries extensions. */
export function resolveFile(files: ArchiveFiles, path: string, kind: ImportKind): string | null {
  const candidates = kind === 'import' ? [''] : EXTENSIONS;
  for (const extension of candidates) {
    const candidate = posix.normalize(path + extension);
    if (files.has(candidate)) return candidate;
  }
  return null;
}

/** Node's lookup: node_modules/NAME in the importer's folder, then in each folder above it. */
export function findPackage(files: ArchiveFiles, fromDirectory: string, name: string): string | null {
  let directory = fromDirectory === '.' ? '' : fromDirectory;
  for (;;) {
    if (!directory.endsWith('node_modules')) {
      const candidate = posix.join(directory, 'node_modules', name);
      if (files.has(posix.join(candidate, 'package.json'))) return candidate;
    }
    if (directory === '' || directory === '.') return null;
    const parent = posix.dirname(directory);
    directory = parent === '.' ? '' : parent;
  }
}

type ExportsTarget = string | null | ExportsTarget[] | { [key: string]: ExportsTarget };

const CONDITIONS: Record<ImportKind, ReadonlySet<string>> = {
  import: new Set(['node', 'import', 'module-sync', 'default']),
  require: new Set(['node', 'require', 'module-sync', 'default']),
};

function pickCondition(target: ExportsTarget, kind: ImportKind): string | null {
  if (target === null) return null;
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const option of target) {
      const picked = pickCondition(option, kind);
      if (picked) return picked;
    }
    return null;
  }
  for (const [condition, value] of Object.entries(target)) {
    if (!CONDITIONS[kind].has(condition)) continue;
    const picked = pickCondition(value, kind);
    if (picked) return picked;
  }
  return null;
}

/**
 * The file (relative to the package) that `name/subpath` loads, after the package's "exports"
 * (with Node's conditions) or, without them, "main" and the bare path. Null when the package does
 * not export it. The result may still name a missing file: the caller checks.
 */
export function packageEntry(manifest: { main?: string; exports?: ExportsTarget }, subpath: string, kind: ImportKind): string | null {
  const { exports } = manifest;
  if (exports !== undefined) {
    const map: Record<string, ExportsTarget> =
      exports && typeof exports === 'object' && !Array.isArray(exports) && Object.keys(exports).some((key) => key.startsWith('.')) ? exports : { '.': exports };
    const key = subpath ? `./${subpath}` : '.';
    if (key in map) return pickCondition(map[key]!, kind);
    for (const [pattern, target] of Object.entries(map)) {
      const star = pattern.indexOf('*');
      if (star < 0) continue;
      const [before, after] = [pattern.slice(0, star), pattern.slice(star + 1)];
      if (key.startsWith(before) && key.endsWith(after) && key.length >= pattern.length - 1) {
        const picked = pickCondition(target, kind);
        return picked && picked.replaceAll('*', key.slice(before.length, key.length - after.length));
      }
    }
    return null;
  }
  return subpath || manifest.main || 'index.js';
}

export interface Problem {
  /** the file that needs it */
  from: string;
  message: string;
}

export interface ModuleGraph {
  /** our own files the entry loads, entry first */
  files: string[];
  /** package directory for each bare specifier our files load */
  packages: Map<string, string>;
  /** modules the host provides: built-ins and `electron` */
  provided: Set<string>;
  problems: Problem[];
}

/**
 * Walks the main entry's own files (relative imports) and checks each bare import resolves to a
 * package inside the archive, down to the file its "exports" names. Packages are not walked into:
 * packageClosure checks their dependencies, and the smoke run loads them for real.
 */
export function walkModuleGraph(files: ArchiveFiles, entry: string, provided: readonly string[] = ['electron']): ModuleGraph {
  const graph: ModuleGraph = { files: [], packages: new Map(), provided: new Set(), problems: [] };
  const queue = [entry];
  const seen = new Set(queue);
  if (!files.has(entry)) graph.problems.push({ from: 'package.json', message: `the main entry ${entry} is missing` });
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (!files.has(file)) continue;
    graph.files.push(file);
    if (!/\.(?:c|m)?js$/.test(file)) continue;
    for (const { specifier, kind } of moduleReferences(files.read(file))) {
      if (isBuiltin(specifier) || provided.includes(specifier)) {
        graph.provided.add(specifier);
        continue;
      }
      if (isRelative(specifier)) {
        const target = resolveFile(files, posix.join(posix.dirname(file), specifier), kind);
        if (!target) graph.problems.push({ from: file, message: `${specifier} is missing` });
        else if (!seen.has(target)) {
          seen.add(target);
          queue.push(target);
        }
        continue;
      }
      const { name, subpath } = splitPackageSpecifier(specifier);
      const directory = findPackage(files, posix.dirname(file), name);
      if (!directory) {
        graph.problems.push({ from: file, message: `package ${name} (for ${specifier}) is not in node_modules` });
        continue;
      }
      graph.packages.set(specifier, directory);
      const manifest = JSON.parse(files.read(posix.join(directory, 'package.json'))) as Parameters<typeof packageEntry>[0];
      const target = packageEntry(manifest, subpath, kind);
      if (target === null) graph.problems.push({ from: file, message: `${name} does not export ${subpath ? `./${subpath}` : 'its main entry'} for ${kind}` });
      else if (!resolveFile(files, posix.join(directory, target), 'require'))
        graph.problems.push({ from: file, message: `${specifier} resolves to ${posix.join(directory, target)}, which is missing` });
    }
  }
  return graph;
}

interface Manifest {
  name?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** Every package directory in the archive (node_modules/x, node_modules/@s/x, nested ones too). */
export function packageDirectories(files: ArchiveFiles): string[] {
  return files
    .list()
    .filter((path) => /(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(path))
    .map((path) => posix.dirname(path))
    .sort();
}

/**
 * The packages reachable from the app's production dependencies through each package's own
 * dependencies (and required peers), resolved as Node would from where each package sits. A
 * dependency that is not found is a problem; a package that is never reached should not ship.
 */
export function packageClosure(files: ArchiveFiles, rootManifest = 'package.json'): { reached: Set<string>; unreached: string[]; problems: Problem[] } {
  const reached = new Set<string>();
  const problems: Problem[] = [];
  const visit = (manifestPath: string) => {
    const manifest = JSON.parse(files.read(manifestPath)) as Manifest;
    const directory = posix.dirname(manifestPath);
    const required = { ...manifest.dependencies };
    for (const peer of Object.keys(manifest.peerDependencies ?? {})) if (!manifest.peerDependenciesMeta?.[peer]?.optional) required[peer] = '*';
    const optional = Object.keys(manifest.optionalDependencies ?? {});
    for (const name of [...Object.keys(required), ...optional]) {
      if (name === 'electron') continue;
      const found = findPackage(files, directory, name);
      if (!found) {
        if (!optional.includes(name)) problems.push({ from: manifestPath, message: `dependency ${name} is not in node_modules` });
        continue;
      }
      if (reached.has(found)) continue;
      reached.add(found);
      visit(posix.join(found, 'package.json'));
    }
  };
  visit(rootManifest);
  const unreached = packageDirectories(files).filter((directory) => !reached.has(directory));
  return { reached, unreached, problems };
}

/** The package name a node_modules directory holds: 'node_modules/a/node_modules/@s/b' → '@s/b'. */
export function packageNameOf(directory: string): string {
  return directory.slice(directory.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/**
 * Files that must not ship: TypeScript sources and declarations, source maps, tests, and at the top
 * of the app anything but the built dist folders, node_modules and package.json.
 */
export function unwantedFiles(
  paths: readonly string[],
  allowedDist: readonly string[] = ['main', 'preload', 'renderer'],
): Array<{ path: string; reason: string }> {
  const unwanted: Array<{ path: string; reason: string }> = [];
  for (const path of paths) {
    const top = path.split('/')[0]!;
    if (!['dist', 'node_modules', 'package.json'].includes(top)) unwanted.push({ path, reason: 'not part of the built app' });
    else if (top === 'dist' && !allowedDist.includes(path.split('/')[1]!)) unwanted.push({ path, reason: 'not loaded by the desktop app' });
    else if (/\.(?:tsx?|mts|cts)$/.test(path)) unwanted.push({ path, reason: 'TypeScript' });
    else if (/\.map$/.test(path)) unwanted.push({ path, reason: 'source map' });
    else if (/(?:^|\/)(?:__tests__|__mocks__)\//.test(path) || /\.(?:test|spec)\.[cm]?[jt]sx?$/.test(path)) unwanted.push({ path, reason: 'test' });
    else if (top === 'dist' && /(?:^|\/)(?:test|tests|e2e)\//.test(path)) unwanted.push({ path, reason: 'test' });
  }
  return unwanted;
}

/**
 * Where a URL in a page of the app points inside the archive: relative URLs from the file's
 * folder, absolute paths from the renderer's root (app://gate/ serves that folder). Null for other
 * schemes, hosts and bare fragments.
 */
export function localTarget(url: string, file: string, root: string): string | null {
  if (/^(?:[a-z][a-z0-9+.-]*:|#|\/\/)/i.test(url)) return null;
  const path = url.split(/[?#]/)[0]!;
  if (!path) return null;
  return posix.normalize(path.startsWith('/') ? posix.join(root, path) : posix.join(posix.dirname(file), path));
}

/** Files an HTML page loads (src and href). */
export function htmlReferences(html: string, page: string, root = posix.dirname(page)): string[] {
  const found = new Set<string>();
  for (const match of html.matchAll(/\s(?:src|href)\s*=\s*["']([^"']+)["']/g)) {
    const target = localTarget(match[1]!, page, root);
    if (target) found.add(target);
  }
  return [...found];
}

/**
 * Files a built stylesheet or script names: url() and @import in CSS; in JavaScript, relative
 * imports and `new URL('./x', import.meta.url)` (how Vite points at emitted assets).
 */
export function assetReferences(source: string, file: string, root: string): string[] {
  const found = new Set<string>();
  const css = file.endsWith('.css');
  const patterns = css
    ? [/url\(\s*["']?([^"')]+?)["']?\s*\)/g, /@import\s+["']([^"']+)["']/g]
    : [STATIC_IMPORT, RE_EXPORT, DYNAMIC_IMPORT, /new URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) {
      const url = match[1]!;
      if (!css && !isRelative(url) && !url.startsWith('./')) continue;
      const target = localTarget(url, file, root);
      if (target) found.add(target);
    }
  }
  return [...found];
}

/** A byte count for people: 8.6 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
