import { describe, expect, it } from 'vitest';
import {
  archiveFromRecord,
  assetReferences,
  findPackage,
  formatBytes,
  htmlReferences,
  moduleReferences,
  packageClosure,
  packageEntry,
  splitPackageSpecifier,
  unwantedFiles,
  walkModuleGraph,
} from './asar-contents.js';

const json = (value: unknown) => JSON.stringify(value);

describe('moduleReferences', () => {
  it('finds static, re-exported, dynamic and required modules as a bundler writes them', () => {
    const source = [
      'import { dirname, join } from "node:path";',
      'import log from "electron-log/main";',
      'import {',
      '  app,',
      '  Tray',
      '} from "electron";',
      'import "./side-effect.js";',
      'export * from "./more.js";',
      'export { a as b } from "./other.js";',
      'const lazy = () => import("./chunk.js");',
      'const cjs = require("conf");',
      'var GATE_VERSION = createRequire(import.meta.url)("../../package.json").version;',
      'const url = import.meta.url; const s = "not an import";',
    ].join('\n');
    expect(moduleReferences(source)).toEqual(
      expect.arrayContaining([
        { specifier: 'node:path', kind: 'import' },
        { specifier: 'electron-log/main', kind: 'import' },
        { specifier: 'electron', kind: 'import' },
        { specifier: './side-effect.js', kind: 'import' },
        { specifier: './more.js', kind: 'import' },
        { specifier: './other.js', kind: 'import' },
        { specifier: './chunk.js', kind: 'import' },
        { specifier: 'conf', kind: 'require' },
        { specifier: '../../package.json', kind: 'require' },
      ]),
    );
    expect(moduleReferences(source)).toHaveLength(9);
  });

  it('reads minified code', () => {
    expect(moduleReferences('import{a as b}from"./x.js";import"./y.js";const z=require("zod")').map((r) => r.specifier)).toEqual(['./x.js', './y.js', 'zod']);
  });
});

describe('package resolution', () => {
  it('splits scoped and plain specifiers', () => {
    expect(splitPackageSpecifier('@peculiar/x509/lib/x')).toEqual({ name: '@peculiar/x509', subpath: 'lib/x' });
    expect(splitPackageSpecifier('electron-log/main')).toEqual({ name: 'electron-log', subpath: 'main' });
    expect(splitPackageSpecifier('zod')).toEqual({ name: 'zod', subpath: '' });
  });

  it('looks for node_modules in the folder and each one above, as Node does', () => {
    const files = archiveFromRecord({
      'node_modules/a/package.json': '{}',
      'node_modules/b/package.json': '{}',
      'node_modules/b/node_modules/a/package.json': '{}',
    });
    expect(findPackage(files, 'dist/main', 'a')).toBe('node_modules/a');
    expect(findPackage(files, 'node_modules/b', 'a')).toBe('node_modules/b/node_modules/a');
    expect(findPackage(files, 'node_modules/b/lib', 'a')).toBe('node_modules/b/node_modules/a');
    expect(findPackage(files, 'dist/main', 'c')).toBeNull();
  });

  it('follows "exports" with Node\'s conditions, patterns and blocked subpaths', () => {
    const manifest = {
      main: 'old.js',
      exports: {
        '.': { types: './x.d.ts', import: './esm/index.js', require: './cjs/index.cjs' },
        './main': './src/main.js',
        './locales/*': { import: './locales/*.js' },
        './private/*': null,
      },
    };
    expect(packageEntry(manifest, '', 'import')).toBe('./esm/index.js');
    expect(packageEntry(manifest, '', 'require')).toBe('./cjs/index.cjs');
    expect(packageEntry(manifest, 'main', 'import')).toBe('./src/main.js');
    expect(packageEntry(manifest, 'locales/zh', 'import')).toBe('./locales/zh.js');
    expect(packageEntry(manifest, 'locales/zh', 'require')).toBeNull();
    expect(packageEntry(manifest, 'private/x', 'import')).toBeNull();
    expect(packageEntry(manifest, 'old.js', 'import')).toBeNull();
    expect(packageEntry({ exports: './only.js' }, '', 'import')).toBe('./only.js');
    expect(packageEntry({ exports: { node: './n.js', default: './d.js' } }, '', 'import')).toBe('./n.js');
  });

  it('falls back to "main" and plain paths without "exports"', () => {
    expect(packageEntry({ main: 'lib/index.js' }, '', 'import')).toBe('lib/index.js');
    expect(packageEntry({}, '', 'require')).toBe('index.js');
    expect(packageEntry({}, 'node.js', 'import')).toBe('node.js');
  });
});

describe('walkModuleGraph', () => {
  const app = {
    'package.json': json({ main: 'dist/main/index.js', dependencies: { lib: '1' } }),
    'dist/main/index.js':
      'import { app } from "electron"; import "node:fs"; import x from "lib/sub"; import "./chunk.js"; createRequire(import.meta.url)("../../package.json");',
    'dist/main/chunk.js': 'export const y = require("lib");',
    'node_modules/lib/package.json': json({ exports: { '.': { require: './index.cjs' }, './sub': './sub.js' } }),
    'node_modules/lib/index.cjs': '',
    'node_modules/lib/sub.js': '',
  };

  it("walks the entry's own files and resolves every package to a file", () => {
    const graph = walkModuleGraph(archiveFromRecord(app), 'dist/main/index.js');
    expect(graph.problems).toEqual([]);
    expect(graph.files).toEqual(['dist/main/index.js', 'dist/main/chunk.js', 'package.json']);
    expect([...graph.packages]).toEqual([
      ['lib/sub', 'node_modules/lib'],
      ['lib', 'node_modules/lib'],
    ]);
    expect([...graph.provided].sort()).toEqual(['electron', 'node:fs']);
  });

  it('reports a missing own file, a missing package and an entry the package lacks', () => {
    const broken = { ...app, 'dist/main/chunk.js': 'import "gone"; import "lib/other";' } as Record<string, string>;
    delete broken['node_modules/lib/sub.js'];
    const graph = walkModuleGraph(
      archiveFromRecord({ ...broken, 'dist/main/index.js': `${app['dist/main/index.js']} import "./missing.js";` }),
      'dist/main/index.js',
    );
    expect(graph.problems.map((p) => p.message)).toEqual([
      'lib/sub resolves to node_modules/lib/sub.js, which is missing',
      './missing.js is missing',
      'package gone (for gone) is not in node_modules',
      'lib does not export ./other for import',
    ]);
  });

  it('reports a missing main entry', () => {
    expect(walkModuleGraph(archiveFromRecord({}), 'dist/main/index.js').problems).toEqual([
      { from: 'package.json', message: 'the main entry dist/main/index.js is missing' },
    ]);
  });
});

describe('packageClosure', () => {
  it('finds missing dependencies and packages nothing depends on', () => {
    const files = archiveFromRecord({
      'package.json': json({ dependencies: { a: '1' }, devDependencies: { vitest: '1' } }),
      'node_modules/a/package.json': json({
        dependencies: { b: '1', gone: '1' },
        optionalDependencies: { fsevents: '1' },
        peerDependencies: { c: '1', d: '1' },
        peerDependenciesMeta: { d: { optional: true } },
      }),
      'node_modules/b/package.json': json({}),
      'node_modules/a/node_modules/b/package.json': json({}),
      'node_modules/vitest/package.json': json({}),
    });
    const closure = packageClosure(files);
    expect([...closure.reached].sort()).toEqual(['node_modules/a', 'node_modules/a/node_modules/b']);
    expect(closure.problems.map((p) => p.message)).toEqual(['dependency gone is not in node_modules', 'dependency c is not in node_modules']);
    expect(closure.unreached).toEqual(['node_modules/b', 'node_modules/vitest']);
  });
});

describe('unwantedFiles', () => {
  it('lets the built app and its packages through and flags sources, maps, tests and strays', () => {
    const unwanted = unwantedFiles([
      'package.json',
      'dist/main/index.js',
      'dist/renderer/assets/index-abc.js',
      'node_modules/zod/index.js',
      'dist/main/index.js.map',
      'dist/core/gateway.js',
      'electron/main/index.ts',
      'node_modules/zod/src/index.ts',
      'node_modules/x/index.d.ts',
      'node_modules/x/lib/a.spec.js',
      'node_modules/x/__tests__/a.js',
      'dist/main/test/helper.js',
      'README.md',
    ]);
    expect(unwanted).toEqual([
      { path: 'dist/main/index.js.map', reason: 'source map' },
      { path: 'dist/core/gateway.js', reason: 'not loaded by the desktop app' },
      { path: 'electron/main/index.ts', reason: 'not part of the built app' },
      { path: 'node_modules/zod/src/index.ts', reason: 'TypeScript' },
      { path: 'node_modules/x/index.d.ts', reason: 'TypeScript' },
      { path: 'node_modules/x/lib/a.spec.js', reason: 'test' },
      { path: 'node_modules/x/__tests__/a.js', reason: 'test' },
      { path: 'dist/main/test/helper.js', reason: 'test' },
      { path: 'README.md', reason: 'not part of the built app' },
    ]);
  });
});

describe('renderer references', () => {
  it("reads a built page's scripts, styles and icons, ignoring other schemes", () => {
    const html = `<link rel="icon" href="./favicon.svg"><script type="module" crossorigin src="./assets/index-a.js"></script>
      <link rel="stylesheet" href="./assets/index-b.css?v=1"><a href="https://ollama.com">x</a><a href="#top">top</a><img src="data:image/png;base64,AA">`;
    expect(htmlReferences(html, 'dist/renderer/index.html')).toEqual([
      'dist/renderer/favicon.svg',
      'dist/renderer/assets/index-a.js',
      'dist/renderer/assets/index-b.css',
    ]);
  });

  it('follows url() in styles and relative imports and asset URLs in scripts', () => {
    const css = '@font-face{src:url(./inter-x.woff2) format("woff2")}body{background:url("/assets/bg.png")}a{background:url(data:image/svg+xml,abc)}';
    expect(assetReferences(css, 'dist/renderer/assets/index-b.css', 'dist/renderer')).toEqual([
      'dist/renderer/assets/inter-x.woff2',
      'dist/renderer/assets/bg.png',
    ]);
    const js = 'import{a}from"./chunk-c.js";const l=()=>import("./lazy-d.js");const u=new URL("./logo-e.png",import.meta.url).href;const s="react";';
    expect(assetReferences(js, 'dist/renderer/assets/index-a.js', 'dist/renderer')).toEqual([
      'dist/renderer/assets/chunk-c.js',
      'dist/renderer/assets/lazy-d.js',
      'dist/renderer/assets/logo-e.png',
    ]);
  });
});

it('formats sizes', () => {
  expect(formatBytes(512)).toBe('512 B');
  expect(formatBytes(8_972_825)).toBe('8.6 MiB');
});
