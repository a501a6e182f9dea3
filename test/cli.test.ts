/** The built CLI (`node dist/cli/ollama-gate.js`), run as a user would, against a temp data dir. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../electron/cli/open-store.js';
import { systemClock } from '../electron/core/clock.js';
import { KeyRing } from '../electron/core/keyring.js';
import { displayPrefix } from '../electron/core/keys.js';
import { CLI, CLI_CWD, CLI_ENV, type CliRun, requireBuiltCli, runCli, runCliOk } from './support/cli.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let dataDir: string;
let storeFile: string;

/** Runs the CLI with `--data-dir` pointing at this test's temp dir. */
const cli = (...args: string[]): CliRun => runCli(dataDir, args);
/** Runs the CLI and fails with its output when it does not exit 0. */
const ok = (...args: string[]): string => runCliOk(dataDir, args);

interface AddedKey {
  id: string;
  user: string;
  scope: string;
  key: string;
  prefix: string;
}

function addKey(user: string, ...extra: string[]): AddedKey {
  const lines = ok('keys', 'add', user, '--json', ...extra)
    .trim()
    .split('\n');
  return JSON.parse(lines.at(-1)!) as AddedKey;
}

interface ListedKey {
  id: string;
  user: string;
  scope: string;
  prefix: string;
  enabled: boolean;
}

function listJson(): ListedKey[] {
  return JSON.parse(ok('keys', 'list', '--json')) as ListedKey[];
}

function storeText(): string {
  return readFileSync(storeFile, 'utf8');
}

beforeAll(requireBuiltCli);

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'og-cli-'));
  storeFile = join(dataDir, 'gate.json');
});

afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ollama-gate --version and usage', () => {
  it("--version prints package.json's version", () => {
    expect(ok('--version').trim()).toBe(VERSION);
    expect(ok('-v').trim()).toBe(VERSION);
  });

  it('--help lists every command in a line and exits 0; serve --help lists every limit a client can reach, with its default', () => {
    const out = ok('--help');
    expect(out).toContain('Usage: ollama-gate COMMAND');
    expect(out).toMatch(/^ {2}keys add USER +creates a key/m);
    expect(out.split('\n').every((line) => line.length <= 110)).toBe(true);
    expect(ok('help')).toBe(out);

    const serve = ok('serve', '--help');
    expect(serve).toMatch(/^Usage: ollama-gate serve/);
    expect(serve).toMatch(/maxConnections 2048 +client connections at once/);
    expect(serve).toMatch(/maxUnauthenticatedBodyBytes 1 MiB +read of a body before its key is known \(401\)/);
    expect(serve).toMatch(/unauthenticatedBodyBudgetBytes 64 MiB/);
    expect(serve).toMatch(/clientBodyTimeoutMs 30000/);
    expect(serve).toMatch(/maxSessionsPerKey 32/);
    expect(serve).toMatch(/logHistoryEntries 1000 +recent requests kept in the data folder across restarts/);
    expect(ok('help', 'serve')).toBe(serve);
  });

  it('each command has its own --help, also as help COMMAND, naming only its own options', () => {
    const add = ok('keys', 'add', '--help');
    expect(add).toMatch(/^Usage: ollama-gate keys add USER/);
    expect(add).toContain('--daily-tokens N');
    expect(add).not.toContain('--tls');
    expect(ok('help', 'keys', 'add')).toBe(add);
    expect(ok('keys', 'import', '--help')).toContain('{"VALID_API_KEYS": {...}}');
    expect(ok('usage', '-h')).toMatch(/^Usage: ollama-gate usage \[--since YYYY-MM-DD\]/);
    expect(ok('keys', '--help')).toMatch(/^ {2}keys rotate ID_OR_USER/m);
  });

  /** A usage error: exit 2, nothing on stdout, and on stderr only what is wrong and where the help is. */
  function usageError(args: string[], message: string, help: string): void {
    const run = cli(...args);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`ollama-gate: ${message}\nSee: ollama-gate ${help}\n`);
  }

  it("an unknown command, action or option, or an operand too many or too few: one line and the command's --help, exit 2", () => {
    usageError(['frobnicate'], 'unknown command "frobnicate"', '--help');
    usageError(['keys', 'frobnicate'], 'no keys action "frobnicate" (add, update, rotate, list, enable, disable, remove, import)', 'keys --help');
    usageError(['keys', 'list', '--frobnicate'], 'keys list has no option --frobnicate', 'keys list --help');
    // An option of another command is refused too, not silently ignored.
    usageError(['keys', 'list', '--port', '9000'], 'keys list has no option --port', 'keys list --help');
    usageError(['keys', 'add', 'dave', 'extra'], 'keys add takes one USER; not "extra" as well (quote a value with spaces)', 'keys add --help');
    usageError(['usage', 'today'], 'usage takes no arguments; not "today" as well (quote a value with spaces)', 'usage --help');
    usageError(['keys', 'add'], 'keys add needs USER', 'keys add --help');
    usageError(['keys', 'add', 'dave', '--rpm'], '--rpm needs a value', 'keys add --help');
    usageError(['keys', 'list', '--json=yes'], '--json takes no value', 'keys list --help');
    usageError(['help', 'frobnicate'], 'no command "frobnicate"', '--help');
  });

  it("negative numbers and impossible dates get the gate's own messages", () => {
    usageError(['keys', 'add', 'dave', '--rpm', '-5'], '--rpm takes a whole number above 0, or none', 'keys add --help');
    usageError(['keys', 'add', 'dave', '--concurrency', '-1'], '--concurrency takes a whole number above 0, or none', 'keys add --help');
    usageError(['serve', '--port', '-1'], '--port must be a number from 0 to 65535, not "-1"', 'serve --help');
    usageError(['usage', '--since', '2026-13-01'], '--since takes a date such as 2026-11-01, not "2026-13-01"', 'usage --help');
    usageError(['usage', '--since', '2026-02-30'], '--since takes a date such as 2026-11-01, not "2026-02-30"', 'usage --help');
    expect(listJson()).toEqual([]);
  });

  it('--data-dir may come before the command', () => {
    const alice = addKey('alice');
    const run = spawnSync(process.execPath, [CLI, '--data-dir', dataDir, 'keys', 'list', '--json'], { encoding: 'utf8', env: CLI_ENV, cwd: CLI_CWD });
    expect(run.status).toBe(0);
    expect((JSON.parse(run.stdout) as ListedKey[]).map((k) => k.id)).toEqual([alice.id]);
  });

  it('a missing argument or a bad --scope exits 2', () => {
    expect(cli('keys', 'add').code).toBe(2);
    expect(cli('keys', 'disable').code).toBe(2);
    const scope = cli('keys', 'add', 'alice', '--scope', 'admin');
    expect(scope.code).toBe(2);
    expect(scope.stderr).toContain('--scope must be one of: inference, full');
  });
});

describe('ollama-gate keys add', () => {
  it('--json prints, as its last line, JSON with id, user, scope and the key', () => {
    const added = addKey('alice');
    expect(added).toMatchObject({ user: 'alice', scope: 'inference' });
    expect(added.id).toMatch(/^[0-9a-f]{8}$/);
    expect(added.key).toMatch(/^og_[A-Za-z0-9_-]{32}$/);
    expect(added.prefix).toBe(displayPrefix(added.key));
    expect(addKey('bob', '--scope', 'full').scope).toBe('full');
  });

  it('without --json shows the key once, with a warning to copy it', () => {
    const out = ok('keys', 'add', 'alice');
    const key = /og_[A-Za-z0-9_-]{32}/.exec(out)?.[0];
    expect(key).toBeDefined();
    expect(out).toMatch(/only this once/);
  });

  it('creates a key the core accepts', async () => {
    const added = addKey('alice');
    const ring = new KeyRing(openStore(dataDir), systemClock);
    expect(ring.verify(added.key)).toMatchObject({ ok: true, key: { id: added.id, user: 'alice' } });
    await ring.close();
  });

  it('never shows the key again: not in keys list, keys list --json, nor the store file', () => {
    const { key, id } = addKey('alice');
    addKey('bob');
    const table = ok('keys', 'list');
    const json = ok('keys', 'list', '--json');
    expect(table).toContain(id);
    expect(table).toContain(`${displayPrefix(key)}…`);
    for (const [where, text] of [
      ['keys list', table],
      ['keys list --json', json],
      ['the store file', storeText()],
    ] as const) {
      expect(text, where).not.toContain(key);
      expect(text, where).not.toContain(key.slice(0, 9));
      expect(text, where).not.toContain(key.slice(8));
    }
    expect(json).not.toContain('hash');
  });
});

describe('ollama-gate keys list', () => {
  it('says there are no keys yet in an empty store', () => {
    expect(ok('keys', 'list')).toMatch(/No keys yet/);
    expect(listJson()).toEqual([]);
  });

  it('lists each key with id, user, scope, prefix and state', () => {
    const alice = addKey('alice');
    const bob = addKey('bob', '--scope', 'full');
    expect(listJson()).toEqual([
      expect.objectContaining({ id: alice.id, user: 'alice', scope: 'inference', prefix: displayPrefix(alice.key), enabled: true }),
      expect.objectContaining({ id: bob.id, user: 'bob', scope: 'full', prefix: displayPrefix(bob.key), enabled: true }),
    ]);
    const table = ok('keys', 'list').trim().split('\n');
    expect(table[0]).toMatch(/^ID\s+USER\s+SCOPE\s+KEY\s+STATE\s+MODELS\s+LIMITS\s+EXPIRES/);
    expect(table).toHaveLength(3);
  });

  it('shows when each key expires', () => {
    addKey('alice', '--expires', '2031-05-17');
    addKey('bob');
    const rows = ok('keys', 'list').trim().split('\n').slice(1);
    expect(rows[0]).toMatch(/^\S+\s+alice\s.*\s2031-05-17 23:59Z\s/);
    expect(rows[1]).toMatch(/^\S+\s+bob\s.*\snever\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z\s+never$/);
  });
});

describe('ollama-gate keys disable | enable | remove', () => {
  it('disables and enables by id', () => {
    const alice = addKey('alice');
    const bob = addKey('bob');
    expect(ok('keys', 'disable', alice.id)).toContain(`Disabled key ${alice.id} (alice)`);
    expect(listJson().map((k) => [k.user, k.enabled])).toEqual([
      ['alice', false],
      ['bob', true],
    ]);
    const ring = new KeyRing(openStore(dataDir), systemClock);
    expect(ring.verify(alice.key)).toMatchObject({ ok: false, reason: 'disabled' });
    expect(ring.verify(bob.key).ok).toBe(true);

    expect(ok('keys', 'enable', alice.id)).toContain(`Enabled key ${alice.id}`);
    expect(listJson().every((k) => k.enabled)).toBe(true);
  });

  it('disables and enables by user', () => {
    const alice = addKey('alice');
    ok('keys', 'disable', 'alice');
    expect(listJson().find((k) => k.id === alice.id)?.enabled).toBe(false);
    const enabled = JSON.parse(ok('keys', 'enable', 'alice', '--json')) as ListedKey;
    expect(enabled).toMatchObject({ id: alice.id, enabled: true });
  });

  it('removes by id and by user', () => {
    const alice = addKey('alice');
    const bob = addKey('bob');
    const carol = addKey('carol');
    expect(ok('keys', 'remove', bob.id)).toContain(`Removed key ${bob.id} (bob)`);
    expect(JSON.parse(ok('keys', 'remove', 'carol', '--json'))).toEqual({ removed: carol.id });
    expect(listJson().map((k) => k.id)).toEqual([alice.id]);
    expect(storeText()).not.toContain(bob.id);
  });

  it('refuses a user with several keys, names their ids, and changes nothing', () => {
    const first = addKey('alice');
    const second = addKey('alice');
    const before = storeText();
    const run = cli('keys', 'disable', 'alice');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(first.id);
    expect(run.stderr).toContain(second.id);
    expect(storeText()).toBe(before);
  });

  it('says so for an id or user it does not know, and changes nothing', () => {
    addKey('alice');
    const before = storeText();
    const run = cli('keys', 'remove', 'nobody');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no key with id or user "nobody"');
    expect(storeText()).toBe(before);
  });
});

describe('ollama-gate keys import', () => {
  const CONFIG_PY = `# the seed proxy's config.py
OLLAMA_URL = "http://localhost:11434"
VALID_API_KEYS: dict = {
    "sk-seed-alice-0123456789": "alice",  # laptop
    'sk-seed-bob-9876543210': 'bob',
}
`;

  it('imports the keys of a config.py hashed: the plain keys are nowhere in the store file', () => {
    const config = join(dataDir, 'config.py');
    writeFileSync(config, CONFIG_PY);
    const out = ok('keys', 'import', config);
    expect(out).toContain('Imported 2 keys');
    expect(out).not.toContain('sk-seed-alice-0123456789');

    const text = storeText();
    expect(text).not.toContain('sk-seed-alice-0123456789');
    expect(text).not.toContain('sk-seed-bob-9876543210');

    const listed = listJson();
    expect(listed.map((k) => [k.user, k.prefix])).toEqual([
      ['alice', displayPrefix('sk-seed-alice-0123456789')],
      ['bob', displayPrefix('sk-seed-bob-9876543210')],
    ]);

    const ring = new KeyRing(openStore(dataDir), systemClock);
    expect(ring.verify('sk-seed-alice-0123456789')).toMatchObject({ ok: true, key: { user: 'alice', scope: 'inference' } });
    expect(ring.verify('sk-seed-bob-9876543210')).toMatchObject({ ok: true, key: { user: 'bob' } });
    expect(ring.verify('sk-seed-carol').ok).toBe(false);
  });

  it("reads the seed's OLLAMA_API_BASE_URL and says how to forward there, unless the gate already does", () => {
    const config = join(dataDir, 'config.py');
    writeFileSync(config, `OLLAMA_API_BASE_URL = os.getenv("OLLAMA_API_BASE_URL", "http://10.1.2.3:11434")\n${CONFIG_PY}`);
    const out = ok('keys', 'import', config);
    expect(out).toContain('The seed proxy forwarded to http://10.1.2.3:11434; this gate forwards to http://127.0.0.1:11434.');
    expect(out).toContain('ollama-gate serve --upstream http://10.1.2.3:11434');

    const json = join(dataDir, 'seed.json');
    writeFileSync(json, JSON.stringify({ OLLAMA_API_BASE_URL: 'http://localhost:11434', 'sk-seed-carol-0123456789': 'carol' }));
    const answer = JSON.parse(ok('keys', 'import', json, '--json')) as { imported: ListedKey[]; upstream: string };
    expect(answer.upstream).toBe('http://localhost:11434');
    expect(answer.imported.map((k) => k.user)).toEqual(['carol']);
    // localhost is where the gate forwards already: nothing to advise.
    writeFileSync(json, JSON.stringify({ OLLAMA_API_BASE_URL: 'http://localhost:11434', 'sk-seed-dave-0123456789': 'dave' }));
    expect(ok('keys', 'import', json)).not.toContain('forwarded to');
  });

  it('skips keys already present when imported twice, and takes --scope', () => {
    const config = join(dataDir, 'keys.json');
    writeFileSync(config, JSON.stringify({ 'sk-json-key-000000': 'dave' }));
    const first = JSON.parse(ok('keys', 'import', config, '--json', '--scope', 'full')) as { imported: ListedKey[]; skipped: number };
    expect(first.skipped).toBe(0);
    expect(first.imported).toEqual([expect.objectContaining({ user: 'dave', scope: 'full' })]);
    const second = JSON.parse(ok('keys', 'import', config, '--json')) as { imported: ListedKey[]; skipped: number };
    expect(second).toEqual({ imported: [], skipped: 1, upstream: null });
    expect(listJson()).toHaveLength(1);
  });

  it('refuses a file without keys with a clear message, and writes nothing', () => {
    const config = join(dataDir, 'notes.txt');
    writeFileSync(config, 'just some notes\n');
    const run = cli('keys', 'import', config);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('VALID_API_KEYS');
    expect(existsSync(storeFile)).toBe(false);
  });

  it('does not break the store when a seed key has an empty user name', () => {
    const config = join(dataDir, 'config.py');
    writeFileSync(config, 'VALID_API_KEYS = {"sk-seed-alice-0123456789": "alice", "sk-seed-anon-0123456789": ""}\n');
    cli('keys', 'import', config);
    // Whatever the import made of it, the store must still open.
    const run = cli('keys', 'list', '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
});

describe('ollama-gate with a store file it cannot use', () => {
  it('a corrupt store file: exit 1, a message naming the file, and the file left untouched', () => {
    addKey('alice');
    const corrupt = storeText().slice(0, 40);
    writeFileSync(storeFile, corrupt);
    for (const args of [
      ['keys', 'list'],
      ['keys', 'add', 'bob'],
      ['keys', 'disable', 'alice'],
    ]) {
      const run = cli(...args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toContain(storeFile);
      expect(run.stdout, args.join(' ')).toBe('');
      expect(readFileSync(storeFile, 'utf8')).toBe(corrupt);
    }
  });

  it('a store file of the wrong shape: exit 1, a message naming the file and the problem, the file left untouched', () => {
    const content = JSON.stringify({ keys: [{ id: 'x', user: 'alice', hash: 'plain-text-key' }] });
    writeFileSync(storeFile, content);
    const run = cli('keys', 'add', 'bob');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(storeFile);
    expect(run.stderr).toContain('keys.0');
    expect(readFileSync(storeFile, 'utf8')).toBe(content);
  });
});
