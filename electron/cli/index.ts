#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { StoreError } from '../core/gate-store.js';
import { DEFAULT_SETTINGS, type GateSettings } from '../core/settings.js';
import { GATE_VERSION } from '../core/version.js';
import { DEFAULT_ADMIN_PORT } from './admin-http.js';
import { UsageError, runKeysCommand } from './keys-command.js';
import { serve } from './serve.js';
import { runUsageCommand } from './usage-command.js';

const HELP = `Ollama Gate ${GATE_VERSION}: an API-key gate in front of Ollama

Usage:
  ollama-gate serve [--host H] [--port P] [--upstream URL] [--data-dir DIR]
                    [--tls] [--tls-port P] [--tls-cert FILE --tls-key FILE]
                    [--admin-port P | --no-admin]       web admin on 127.0.0.1 (default port 8001)
  ollama-gate keys add USER [KEY OPTIONS] [--json]      prints the new key once
  ollama-gate keys update ID_OR_USER [KEY OPTIONS] [--user NEW_USER]
  ollama-gate keys rotate ID_OR_USER [--json]           a new secret for the same key
  ollama-gate keys list [--json]
  ollama-gate keys enable|disable|remove ID_OR_USER
  ollama-gate keys import FILE [--scope S]              seed config.py or JSON; stored hashed
  ollama-gate usage [--json] [--since YYYY-MM-DD]       requests and tokens per key and day
  ollama-gate --version

Key options:
  --scope inference|full   what the key may reach (default inference: chat, generate, embed, list)
  --name NAME              a label, such as the device it lives on
  --models PATTERNS        comma-separated allow-list, e.g. "llama3*,qwen2.5:72b" ("" = all)
  --rpm N                  requests per minute (none = no limit)
  --concurrency N          requests at once (none = no limit)
  --daily-tokens N         prompt plus completion tokens per UTC day (none = no limit)
  --expires WHEN           30d, 12h, 2w, a date (2026-12-31), or never

serve prints the web admin's URL with a fresh secret token; it answers only on this machine.

${limitsHelp()}

Environment: OLLAMA_GATE_HOST, OLLAMA_GATE_PORT, OLLAMA_GATE_UPSTREAM, OLLAMA_GATE_DATA_DIR,
OLLAMA_GATE_ADMIN_PORT.
Without --data-dir the store is the desktop app's, so both share keys.`;

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
    ['lockoutMaxFailures', `${d.lockoutMaxFailures} in ${d.lockoutWindowSeconds} s`, `wrong keys that lock an address out for ${d.lockoutCooldownSeconds} s (429)`],
    ['maxSessionsPerKey', String(d.maxSessionsPerKey), 'IPs one key may trust through /auth'],
  ];
  const width = Math.max(...rows.map(([name, value]) => name.length + value.length + 1));
  const lines = rows.map(([name, value, what]) => `  ${`${name} ${value}`.padEnd(width)}  ${what}`);
  return ['Limits (defaults; change them in the web admin\'s Settings or in gate.json):', ...lines].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      upstream: { type: 'string' },
      'data-dir': { type: 'string' },
      tls: { type: 'boolean' },
      'tls-port': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'admin-port': { type: 'string' },
      'no-admin': { type: 'boolean', default: false },
      scope: { type: 'string' },
      name: { type: 'string' },
      user: { type: 'string' },
      models: { type: 'string' },
      rpm: { type: 'string' },
      concurrency: { type: 'string' },
      'daily-tokens': { type: 'string' },
      expires: { type: 'string' },
      since: { type: 'string' },
      json: { type: 'boolean', default: false },
      version: { type: 'boolean', short: 'v', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.version) return print(GATE_VERSION);
  if (values.help || !command) return print(HELP);
  const dataDir = values['data-dir'] ?? process.env.OLLAMA_GATE_DATA_DIR;

  if (command === 'serve') {
    await serve({ dataDir, overrides: serveOverrides(values), adminPort: adminPort(values) });
    return 0;
  }
  if (command === 'keys') {
    const [action = 'list', ...args] = rest;
    const { scope, name, user, models, rpm, concurrency, expires } = values;
    const flags = { scope, name, user, models, rpm, concurrency, expires, 'daily-tokens': values['daily-tokens'] };
    return print(await runKeysCommand({ action, args, json: values.json, dataDir, flags }));
  }
  if (command === 'usage') {
    return print(await runUsageCommand({ dataDir, since: values.since, json: values.json }));
  }
  throw new UsageError(`unknown command "${command}"`);
}

function serveOverrides(values: { host?: string; port?: string; upstream?: string; tls?: boolean; 'tls-port'?: string; 'tls-cert'?: string; 'tls-key'?: string }): Partial<GateSettings> {
  const host = values.host ?? process.env.OLLAMA_GATE_HOST;
  const portText = values.port ?? process.env.OLLAMA_GATE_PORT;
  const upstream = values.upstream ?? process.env.OLLAMA_GATE_UPSTREAM;
  const overrides: Partial<GateSettings> = {};
  if (host) overrides.host = host;
  if (portText !== undefined) overrides.port = parsePort(portText, '--port');
  if (values['tls-port'] !== undefined) overrides.tlsPort = parsePort(values['tls-port'], '--tls-port');
  if (values['tls-cert'] !== undefined) overrides.tlsCertFile = values['tls-cert'];
  if (values['tls-key'] !== undefined) overrides.tlsKeyFile = values['tls-key'];
  if (values.tls || values['tls-port'] !== undefined || values['tls-cert'] !== undefined) overrides.tlsEnabled = true;
  if (upstream) {
    if (!/^https?:\/\/[^/]/.test(upstream)) throw new UsageError(`--upstream must be an http(s) URL such as http://127.0.0.1:11434, not "${upstream}"`);
    overrides.upstream = upstream;
  }
  return overrides;
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`ollama-gate: ${(error as Error).message}\n\n${HELP}\n`);
      process.exitCode = 2;
    } else if (error instanceof StoreError) {
      process.stderr.write(`ollama-gate: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`ollama-gate: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
