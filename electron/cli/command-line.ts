import { type ParseArgsConfig, parseArgs } from 'node:util';
import { DEFAULT_SETTINGS } from '../core/settings.js';
import { GATE_VERSION } from '../core/version.js';

/** A mistake in how the command was typed: exit 2, one line, and where the command's help is. */
export class UsageError extends Error {}

type OptionSpec = NonNullable<ParseArgsConfig['options']>[string];

const string: OptionSpec = { type: 'string' };
const flag: OptionSpec = { type: 'boolean' };

const KEY_OPTIONS = { scope: string, name: string, models: string, rpm: string, concurrency: string, 'daily-tokens': string, expires: string, json: flag };

const KEY_OPTIONS_HELP = `Key options:
  --scope inference|full   what the key may reach (default inference: chat, generate, embed, list)
  --name NAME              a label, such as the device it lives on
  --models PATTERNS        comma-separated allow-list, e.g. "llama3*,qwen2.5:72b" ("" = all)
  --rpm N                  requests per minute (none = no limit)
  --concurrency N          requests at once (none = no limit)
  --daily-tokens N         prompt plus completion tokens per UTC day (none = no limit)
  --expires WHEN           30d, 12h, 2w, a date (2026-12-31), or never`;

const DATA_DIR_HELP = `  --data-dir DIR           the gate's data folder (default: the desktop app's, so both share keys;
                           also OLLAMA_GATE_DATA_DIR)`;

interface CommandSpec {
  /** the words that name it: `serve`, `keys add` */
  name: string;
  /** what it takes after its name, for the usage line */
  operands: string;
  /** how many operands it takes */
  arity: number;
  summary: string;
  options: Record<string, OptionSpec>;
  /** the rest of its --help */
  details: string;
}

const KEYS_ACTIONS: CommandSpec[] = [
  {
    name: 'keys add',
    operands: 'USER [KEY OPTIONS] [--json]',
    arity: 1,
    summary: 'creates a key and prints it once',
    options: KEY_OPTIONS,
    details: KEY_OPTIONS_HELP,
  },
  {
    name: 'keys update',
    operands: 'ID_OR_USER [KEY OPTIONS] [--user NEW_USER] [--json]',
    arity: 1,
    summary: "changes a key's user, label, scope, models, limits or expiry",
    options: { ...KEY_OPTIONS, user: string },
    details: `${KEY_OPTIONS_HELP}\n  --user NEW_USER          hands the key to someone else`,
  },
  {
    name: 'keys rotate',
    operands: 'ID_OR_USER [--json]',
    arity: 1,
    summary: 'a new secret for the same key; the old one and the IPs it trusted stop working',
    options: { json: flag },
    details: '',
  },
  { name: 'keys list', operands: '[--json]', arity: 0, summary: 'every key with its state, limits, expiry and last use', options: { json: flag }, details: '' },
  { name: 'keys enable', operands: 'ID_OR_USER [--json]', arity: 1, summary: 'lets a disabled key in again', options: { json: flag }, details: '' },
  {
    name: 'keys disable',
    operands: 'ID_OR_USER [--json]',
    arity: 1,
    summary: 'refuses a key (and ends its IP sessions) until enabled',
    options: { json: flag },
    details: '',
  },
  { name: 'keys remove', operands: 'ID_OR_USER [--json]', arity: 1, summary: 'deletes a key for good', options: { json: flag }, details: '' },
  {
    name: 'keys import',
    operands: 'FILE [--scope inference|full] [--json]',
    arity: 1,
    summary: "the seed proxy's config.py or a JSON file of keys; stored hashed",
    options: { scope: string, json: flag },
    details: `FILE is the seed proxy's config.py (VALID_API_KEYS = {"KEY": "USER", ...}), or JSON:
  {"KEY": "USER", ...}, {"VALID_API_KEYS": {...}}, or [{"key": "KEY", "user": "USER"}, ...].
An OLLAMA_API_BASE_URL in it is reported with the command that forwards there.
Keys already present are skipped. --scope applies to every imported key (default inference).`,
  },
];

const SERVE: CommandSpec = {
  name: 'serve',
  operands: '[OPTIONS]',
  arity: 0,
  summary: 'runs the gate in the foreground until SIGINT or SIGTERM',
  options: {
    host: string,
    port: string,
    upstream: { type: 'string', multiple: true },
    tls: flag,
    'tls-port': string,
    'tls-cert': string,
    'tls-key': string,
    'admin-port': string,
    'no-admin': flag,
  },
  details: `Options (each pins its setting for this run; the window shows it read-only):
  --host H                 0.0.0.0 shares on the network, 127.0.0.1 keeps it on this machine
                           (OLLAMA_GATE_HOST)
  --port P                 the proxy's port (default 8000; OLLAMA_GATE_PORT)
  --upstream [NAME=]URL    Ollama's address (default http://127.0.0.1:11434). Repeat it to forward
                           to several: the first is the default (it takes no NAME=), each further
                           one a backend named NAME, or after its host (OLLAMA_GATE_UPSTREAM: a
                           comma-separated list, e.g. http://127.0.0.1:11434,big=http://10.0.0.7:11434)
  --tls                    an HTTPS listener too, with a self-signed certificate kept in the data folder
  --tls-port P             its port (default 8443; implies --tls)
  --tls-cert FILE --tls-key FILE   your own certificate and key (PEM; implies --tls)
  --admin-port P           the web admin's port on 127.0.0.1 (default 8001; OLLAMA_GATE_ADMIN_PORT)
  --no-admin               no web admin
${DATA_DIR_HELP}

It prints the web admin's URL with its secret token (kept in the data folder's admin-token file:
delete the file to revoke it); the admin answers on this machine only.
SIGTERM or SIGINT gives open requests 10 s to finish; a second one stops at once.

${limitsHelp()}`,
};

const USAGE: CommandSpec = {
  name: 'usage',
  operands: '[--since YYYY-MM-DD] [--json]',
  arity: 0,
  summary: 'requests and tokens per key and UTC day',
  options: { since: string, json: flag },
  details: `  --since YYYY-MM-DD       from that day on (UTC)\n${DATA_DIR_HELP}`,
};

/** Every command, by the words that name it. */
const COMMANDS: readonly CommandSpec[] = [SERVE, ...KEYS_ACTIONS, USAGE];

/** The limits a client may reach before the gate refuses it, with their defaults (SECURITY.md says more). */
function limitsHelp(): string {
  const d = DEFAULT_SETTINGS;
  const mib = (bytes: number) => `${bytes / 1024 / 1024} MiB`;
  const rows: Array<[setting: string, value: string, what: string]> = [
    ['maxConnections', String(d.maxConnections), 'client connections at once; more are closed'],
    ['clientHeadersTimeoutMs', String(d.clientHeadersTimeoutMs), 'to send the headers, also on a silent connection (408)'],
    ['clientBodyTimeoutMs', String(d.clientBodyTimeoutMs), 'the longest pause inside a body; without a key, all of it (408)'],
    ['clientIdleTimeoutMs', String(d.clientIdleTimeoutMs), 'an idle kept-alive connection is closed'],
    ['maxUnauthenticatedBodyBytes', mib(d.maxUnauthenticatedBodyBytes), 'read of a body before its key is known (401)'],
    ['unauthenticatedBodyBudgetBytes', mib(d.unauthenticatedBodyBudgetBytes), 'all such bodies together, a quarter per address (503)'],
    ['maxInspectBytes', mib(d.maxInspectBytes), 'read of a body for its model and key'],
    ['maxBodyBytes', d.maxBodyBytes === 0 ? 'none' : String(d.maxBodyBytes), 'largest body outside blob uploads (413)'],
    [
      'lockoutMaxFailures',
      `${d.lockoutMaxFailures} in ${d.lockoutWindowSeconds} s`,
      `wrong keys that lock an address out for ${d.lockoutCooldownSeconds} s (429)`,
    ],
    ['maxSessionsPerKey', String(d.maxSessionsPerKey), 'IPs one key may trust through /auth'],
    ['logHistoryEntries', String(d.logHistoryEntries), 'recent requests kept in the data folder across restarts (0: none)'],
  ];
  const width = Math.max(...rows.map(([name, value]) => name.length + value.length + 1));
  const lines = rows.map(([name, value, what]) => `  ${`${name} ${value}`.padEnd(width)}  ${what}`);
  return ["Limits (defaults; change them in the web admin's Settings or in gate.json):", ...lines].join('\n');
}

function usageLine(spec: CommandSpec): string {
  return `ollama-gate ${spec.name} ${spec.operands}`.trimEnd();
}

/** The command's name and its first operand: `keys add USER`. */
function shortUsage(spec: CommandSpec): string {
  const operand = spec.arity > 0 ? ` ${spec.operands.split(' ')[0]}` : '';
  return `${spec.name}${operand}`;
}

function commandList(specs: readonly CommandSpec[]): string {
  const width = Math.max(...specs.map((c) => shortUsage(c).length), 'help [COMMAND]'.length);
  return specs.map((c) => `  ${shortUsage(c).padEnd(width)}  ${c.summary}`).join('\n');
}

/** `ollama-gate --help`: every command in a line; each has its own --help. */
function overviewHelp(): string {
  return `Ollama Gate ${GATE_VERSION}: an API-key gate in front of Ollama

Usage: ollama-gate COMMAND [OPTIONS]

Commands:
${commandList(COMMANDS)}
  ${'help [COMMAND]'.padEnd(Math.max(...COMMANDS.map((c) => shortUsage(c).length), 14))}  this, or one command's options (also: ollama-gate COMMAND --help)

ollama-gate --version prints the version. Every command takes --data-dir DIR (default: the desktop
app's data folder, so both share keys).`;
}

/** `ollama-gate keys --help`: the key commands together. */
function keysHelp(): string {
  return `Usage: ollama-gate keys ACTION [OPTIONS]   (each action has its own --help)

Actions:
${commandList(KEYS_ACTIONS)}

ID_OR_USER is a key's id (see keys list) or its user's name when that user has one key.

${KEY_OPTIONS_HELP}
${DATA_DIR_HELP}`;
}

function commandHelp(spec: CommandSpec): string {
  const dataDir = spec.details.includes('--data-dir') ? '' : `\n${DATA_DIR_HELP}`;
  return `Usage: ${usageLine(spec)}\n\n${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.${spec.details ? `\n\n${spec.details}` : ''}${dataDir}`;
}

/** The help for `words` (`[]`, `['keys']`, `['keys', 'add']`), or a usage error naming what is unknown. */
function helpFor(words: string[]): string {
  if (words.length === 0) return overviewHelp();
  if (words[0] === 'keys' && words.length === 1) return keysHelp();
  const spec = findCommand(words);
  if (!spec) throw new UsageError(`no command "${words.join(' ')}"`);
  return commandHelp(spec);
}

function findCommand(words: string[]): CommandSpec | undefined {
  const name = words[0] === 'keys' ? words.slice(0, 2).join(' ') : words[0];
  return COMMANDS.find((c) => c.name === name);
}

/** What a command line asks for. */
export type Invocation =
  { kind: 'help'; text: string } | { kind: 'version' } | { kind: 'run'; command: string; operands: string[]; values: Record<string, unknown> };

/** The command named so far, for the hint under a usage error. */
export function commandNamed(argv: string[]): string | undefined {
  const words = dataDirLast(argv).filter((arg) => !arg.startsWith('-'));
  return words[0] === 'keys' ? (findCommand(words) ? words.slice(0, 2).join(' ') : 'keys') : findCommand(words)?.name;
}

/**
 * Reads a command line against the command's own options: an option another command takes, an
 * operand too many, a value missing, all come back as UsageErrors in the gate's words.
 */
export function parseCommandLine(argv: string[]): Invocation {
  argv = dataDirLast(argv);
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h') return { kind: 'help', text: overviewHelp() };
  if (first === '--version' || first === '-v') return { kind: 'version' };
  if (first === 'help') return { kind: 'help', text: helpFor(argv.slice(1).filter((arg, i, all) => !arg.startsWith('-') && all[i - 1] !== '--data-dir')) };
  if (first.startsWith('-')) throw new UsageError(`a command comes first, before ${first}`);

  if (first === 'keys') {
    if (argv[1] === '--help' || argv[1] === '-h') return { kind: 'help', text: keysHelp() };
    // `keys` alone, or with options only, lists them.
    if (argv[1] === undefined || argv[1].startsWith('-')) argv = ['keys', 'list', ...argv.slice(1)];
  }
  const nameWords = first === 'keys' ? 2 : 1;
  const spec = findCommand(argv.slice(0, nameWords));
  if (!spec) {
    throw new UsageError(
      first === 'keys' ? `no keys action "${argv[1]}" (add, update, rotate, list, enable, disable, remove, import)` : `unknown command "${first}"`,
    );
  }
  const options = { ...spec.options, 'data-dir': string, help: { type: 'boolean', short: 'h' } } satisfies Record<string, OptionSpec>;
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv.slice(nameWords), options), options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(parseArgsMessage(error as Error & { code?: string }, spec.name));
  }
  if (parsed.values.help) return { kind: 'help', text: commandHelp(spec) };
  if (parsed.positionals.length < spec.arity) throw new UsageError(`${spec.name} needs ${spec.operands.split(' ')[0]}`);
  if (parsed.positionals.length > spec.arity) {
    const extra = parsed.positionals
      .slice(spec.arity)
      .map((word) => `"${word}"`)
      .join(' ');
    throw new UsageError(
      `${spec.name} takes ${spec.arity === 0 ? 'no arguments' : `one ${spec.operands.split(' ')[0]}`}; not ${extra} as well (quote a value with spaces)`,
    );
  }
  return { kind: 'run', command: spec.name, operands: parsed.positionals, values: parsed.values };
}

/** `--data-dir DIR` may come before the command, as with most tools' global options. */
function dataDirLast(argv: string[]): string[] {
  if (argv[0] === '--data-dir' && argv.length >= 2) return [...argv.slice(2), ...argv.slice(0, 2)];
  if (argv[0]?.startsWith('--data-dir=')) return [...argv.slice(1), argv[0]];
  return argv;
}

/**
 * `--rpm -5`: parseArgs takes `-5` for an option and complains in its own words; joined as
 * `--rpm=-5`, the value reaches the gate's check, which says what a valid one is.
 */
function joinNegativeValues(args: string[], options: Record<string, OptionSpec>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    const next = args[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

function parseArgsMessage(error: Error & { code?: string }, command: string): string {
  const option = /'(-[^' ]+)/.exec(error.message)?.[1] ?? '';
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `${command} has no option ${option}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /does not take an argument/.test(error.message) ? `${option} takes no value` : `${option} needs a value`;
    default:
      return error.message;
  }
}
