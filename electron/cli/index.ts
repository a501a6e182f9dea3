#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { StoreError } from '../core/gate-store.js';
import type { GateSettings } from '../core/settings.js';
import { GATE_VERSION } from '../core/version.js';
import { UsageError, runKeysCommand } from './keys-command.js';
import { serve } from './serve.js';

const HELP = `Ollama Gate ${GATE_VERSION}: an API-key gate in front of Ollama

Usage:
  ollama-gate serve [--host H] [--port P] [--upstream URL] [--data-dir DIR]
  ollama-gate keys add USER [--scope inference|full] [--json]
  ollama-gate keys list [--json]
  ollama-gate keys enable|disable|remove ID_OR_USER
  ollama-gate keys import FILE [--scope inference|full]   (seed config.py or JSON; keys are stored hashed)
  ollama-gate --version

Environment: OLLAMA_GATE_HOST, OLLAMA_GATE_PORT, OLLAMA_GATE_UPSTREAM, OLLAMA_GATE_DATA_DIR.
Without --data-dir the store is the desktop app's, so both share keys.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      upstream: { type: 'string' },
      'data-dir': { type: 'string' },
      scope: { type: 'string' },
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
    await serve({ dataDir, overrides: serveOverrides(values) });
    return 0;
  }
  if (command === 'keys') {
    const [action = 'list', ...args] = rest;
    return print(runKeysCommand({ action, args, json: values.json, scope: values.scope, dataDir }));
  }
  throw new UsageError(`unknown command "${command}"`);
}

function serveOverrides(values: { host?: string; port?: string; upstream?: string }): Partial<GateSettings> {
  const host = values.host ?? process.env.OLLAMA_GATE_HOST;
  const portText = values.port ?? process.env.OLLAMA_GATE_PORT;
  const upstream = values.upstream ?? process.env.OLLAMA_GATE_UPSTREAM;
  const overrides: Partial<GateSettings> = {};
  if (host) overrides.host = host;
  if (portText !== undefined) {
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a number from 0 to 65535, not "${portText}"`);
    overrides.port = port;
  }
  if (upstream) {
    if (!/^https?:\/\/[^/]/.test(upstream)) throw new UsageError(`--upstream must be an http(s) URL such as http://127.0.0.1:11434, not "${upstream}"`);
    overrides.upstream = upstream;
  }
  return overrides;
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
