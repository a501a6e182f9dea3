#!/usr/bin/env node
import type { GateSettings } from '../core/settings.js';
import type { PinnedSetting } from '../shared/contract.js';
import { GATE_VERSION } from '../core/version.js';
import { DEFAULT_ADMIN_PORT } from './admin-http.js';
import { UsageError, commandNamed, parseCommandLine } from './command-line.js';
import { runKeysCommand } from './keys-command.js';
import { serve } from './serve.js';
import { parseUpstreams, splitUpstreamList } from './upstreams.js';
import { runUsageCommand } from './usage-command.js';

async function main(argv: string[]): Promise<number> {
  const invocation = parseCommandLine(argv);
  if (invocation.kind === 'version') return print(GATE_VERSION);
  if (invocation.kind === 'help') return print(invocation.text);
  const { command, operands, values } = invocation as { command: string; operands: string[]; values: CommandValues };
  const dataDir = values['data-dir'] ?? process.env.OLLAMA_GATE_DATA_DIR;

  if (command === 'serve') {
    await serve({ dataDir, ...serveOverrides(values), adminPort: adminPort(values) });
    return 0;
  }
  if (command === 'usage') return print(await runUsageCommand({ dataDir, since: values.since, json: values.json === true }));
  const { scope, name, user, models, rpm, concurrency, expires } = values;
  const flags = { scope, name, user, models, rpm, concurrency, expires, 'daily-tokens': values['daily-tokens'] };
  return print(await runKeysCommand({ action: command.slice('keys '.length), args: operands, json: values.json === true, dataDir, flags }));
}

/** The options every command may have been given, as parseCommandLine read them for that command. */
interface CommandValues {
  'data-dir'?: string;
  json?: boolean;
  since?: string;
  host?: string;
  port?: string;
  /** each --upstream, in order */
  upstream?: string[];
  tls?: boolean;
  'tls-port'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'admin-port'?: string;
  'no-admin'?: boolean;
  scope?: string;
  name?: string;
  user?: string;
  models?: string;
  rpm?: string;
  concurrency?: string;
  'daily-tokens'?: string;
  expires?: string;
}

/**
 * The settings this run's flags and environment decide, and which flag or variable decided each:
 * the store applies the values, and the window shows those settings read-only, naming why.
 */
function serveOverrides(values: {
  host?: string;
  port?: string;
  upstream?: string[];
  tls?: boolean;
  'tls-port'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
}): {
  overrides: Partial<GateSettings>;
  pinned: PinnedSetting[];
} {
  const overrides: Partial<GateSettings> = {};
  const pinned: PinnedSetting[] = [];
  const pin = <K extends keyof GateSettings>(field: K, value: GateSettings[K], by: string) => {
    overrides[field] = value;
    pinned.push({ field, by });
  };
  /** a flag's value, else its environment variable's, with the name of whichever gave it */
  const given = (flag: 'host' | 'port', variable: string): { text: string; by: string } | undefined => {
    if (values[flag] !== undefined) return { text: values[flag], by: `--${flag}` };
    const text = process.env[variable];
    return text === undefined ? undefined : { text, by: variable };
  };
  const host = given('host', 'OLLAMA_GATE_HOST');
  if (host?.text) pin('host', host.text, host.by);
  const port = given('port', 'OLLAMA_GATE_PORT');
  if (port) pin('port', parsePort(port.text, port.by), port.by);
  if (values['tls-port'] !== undefined) pin('tlsPort', parsePort(values['tls-port'], '--tls-port'), '--tls-port');
  if (values['tls-cert'] !== undefined) pin('tlsCertFile', values['tls-cert'], '--tls-cert');
  if (values['tls-key'] !== undefined) pin('tlsKeyFile', values['tls-key'], '--tls-key');
  const tlsBy = values.tls ? '--tls' : values['tls-port'] !== undefined ? '--tls-port' : values['tls-cert'] !== undefined ? '--tls-cert' : undefined;
  if (tlsBy) pin('tlsEnabled', true, tlsBy);
  // One Ollama pins the default alone; several pin the backends after it too (the stored ones are
  // set aside for this run).
  const variable = process.env.OLLAMA_GATE_UPSTREAM;
  const upstreamBy = values.upstream !== undefined ? '--upstream' : variable !== undefined ? 'OLLAMA_GATE_UPSTREAM' : undefined;
  const upstreams = upstreamBy && parseUpstreams(values.upstream ?? splitUpstreamList(variable!), upstreamBy);
  if (upstreamBy && upstreams) {
    pin('upstream', upstreams.upstream, upstreamBy);
    if (upstreams.backends.length > 0) pin('backends', upstreams.backends, upstreamBy);
  }
  return { overrides, pinned };
}

/** The web admin's port, or null when it is turned off. */
function adminPort(values: { 'admin-port'?: string; 'no-admin'?: boolean }): number | null {
  const text = values['admin-port'] ?? process.env.OLLAMA_GATE_ADMIN_PORT;
  if (values['no-admin']) {
    if (values['admin-port'] !== undefined) throw new UsageError('--admin-port and --no-admin contradict each other');
    return null;
  }
  return text === undefined || text === '' ? DEFAULT_ADMIN_PORT : parsePort(text, '--admin-port');
}

function parsePort(text: string, flag: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${flag} must be a number from 0 to 65535, not "${text}"`);
  return port;
}

function print(text: string): number {
  process.stdout.write(text + '\n');
  return 0;
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      // What is wrong, and where to read more: not the whole help, which would bury the line that matters.
      const command = commandNamed(argv);
      process.stderr.write(`ollama-gate: ${error.message}\nSee: ollama-gate ${command ? `${command} ` : ''}--help\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`ollama-gate: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
