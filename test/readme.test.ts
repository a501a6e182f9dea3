/**
 * The README is the first thing a user follows: every relative link in it (and in the other
 * top-level docs) must lead somewhere in the repository, and every command it shows must exist —
 * npm scripts in package.json, files it runs, and `ollama-gate` command lines the CLI accepts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../electron/cli/command-line.js';

const ROOT = join(import.meta.dirname, '..');
const DOCS = ['README.md', 'SECURITY.md', 'RELIABILITY.md', 'bench/README.md'];
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^#+\s+(.+)$/gm)].map((m) => slug(m[1]!.replace(/`/g, ''))));
}

/** Shell lines of the ```sh blocks, comments and continuation joined away. */
function shellLines(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter((line) => line && !line.startsWith('#'));
}

/** Inline `code` that is a whole command (tables' usage lines with [OPTIONS] are descriptions, not commands). */
function inlineCommands(markdown: string): string[] {
  return [...markdown.matchAll(/`((?:npx |sudo -u \S+ )?(?:ollama-gate|npm run|npm start)[^`]*)`/g)]
    .map((m) => m[1]!)
    .filter((command) => !/[[|]/.test(command));
}

/** Each simple command of a shell line: split at &&, ;, | and sh -c quoting. */
function simpleCommands(line: string): string[][] {
  return line
    .replace(/^sudo sh -c '(.*)'$/, '$1')
    .split(/&&|;|\|/)
    .map((part) => part.trim().split(/\s+/).filter(Boolean))
    .map((words) => {
      // Leading VAR=value assignments and sudo [-u user] are not the command.
      while (words.length && /^[A-Z_]+=/.test(words[0]!)) words.shift();
      if (words[0] === 'sudo') words.splice(0, words[1] === '-u' ? 3 : 1);
      return words;
    })
    .filter((words) => words.length > 0);
}

/** The `ollama-gate` arguments of a command, if it runs the gate's CLI in any of its spellings. */
function gateArguments(words: string[]): string[] | undefined {
  if (words[0] === 'ollama-gate') return words.slice(1);
  if (words[0] === 'npx' && words[1] === 'ollama-gate') return words.slice(2);
  if (words[0] === 'node' && words[1]?.endsWith('dist/cli/ollama-gate.js')) return words.slice(2);
  if (words[0] === 'docker' && words[1] === 'exec' && words[3] === 'ollama-gate') return words.slice(4);
  return undefined;
}

function unquote(word: string): string {
  return word.replace(/^(["'])(.*)\1$/, '$2');
}

/** Why a command shown in the docs does not exist here, or null when it does. */
function problemWith(words: string[]): string | null {
  const gate = gateArguments(words);
  // `ollama-gate COMMAND --help` names a placeholder, not a command.
  if (gate && /^[A-Z_]+$/.test(gate[0] ?? '')) return null;
  if (gate) {
    try {
      parseCommandLine(gate.map(unquote));
      return null;
    } catch (error) {
      return `ollama-gate ${gate.join(' ')}: ${(error as Error).message}`;
    }
  }
  if (words[0] === 'npm' && words[1] === 'run') return words[2]! in scripts ? null : `no npm script "${words[2]}"`;
  if (words[0] === 'npm' && words[1] === 'start') return 'start' in scripts ? null : 'no npm start script';
  if (words[0] === 'npx' && words[1] === 'tsx') return existsSync(join(ROOT, words[2]!)) ? null : `no file ${words[2]}`;
  return null;
}

describe.each(DOCS)('%s', (doc) => {
  const markdown = readFileSync(join(ROOT, doc), 'utf8');

  it('every relative link leads to a file in the repository or a heading on its page', () => {
    const broken: string[] = [];
    for (const [, target] of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue;
      const [path, anchor] = target!.split('#');
      if (path) {
        if (!existsSync(join(ROOT, dirname(doc), path))) broken.push(target!);
      } else if (!anchorsOf(markdown).has(anchor!)) broken.push(target!);
    }
    expect(broken).toEqual([]);
  });

  it('every command it shows exists: npm scripts, files, and command lines the CLI accepts', () => {
    const commands = [...shellLines(markdown).flatMap(simpleCommands), ...inlineCommands(markdown).flatMap(simpleCommands)];
    const problems = commands.map(problemWith).filter(Boolean);
    expect(problems).toEqual([]);
  });
});

describe('the checks above', () => {
  it('catch a missing script, a command the CLI refuses and a broken anchor', () => {
    expect(problemWith(['npm', 'run', 'no-such-script'])).toBe('no npm script "no-such-script"');
    expect(problemWith(['npx', 'ollama-gate', 'keys', 'frobnicate'])).toMatch(/no keys action "frobnicate"/);
    expect(problemWith(['node', '/opt/ollama-gate/dist/cli/ollama-gate.js', 'serve', '--frob'])).toMatch(/serve has no option --frob/);
    expect(problemWith(['npx', 'ollama-gate', 'keys', 'import', '"/path/to/config.py"'])).toBeNull();
    expect(anchorsOf('## Run it as a service\n### Where the desktop app keeps its data and logs').has('run-it-as-a-service')).toBe(true);
    expect(simpleCommands("sudo sh -c 'ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci && npm run build:server'")).toEqual([
      ['npm', 'ci'],
      ['npm', 'run', 'build:server'],
    ]);
  });
});
