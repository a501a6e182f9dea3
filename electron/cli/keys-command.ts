import { readFileSync } from 'node:fs';
import { KeyRing } from '../core/keyring.js';
import { type KeyRecord, SCOPES, type Scope } from '../core/keys.js';
import { parseSeedKeys } from '../core/seed-import.js';
import { systemClock } from '../core/clock.js';
import { openStore } from './conf-store.js';

export interface KeysCommand {
  action: string;
  args: string[];
  json: boolean;
  scope?: string;
  dataDir?: string;
}

export class UsageError extends Error {}

/** `ollama-gate keys add|list|enable|disable|remove|import`; returns what to print. */
export function runKeysCommand(command: KeysCommand): string {
  const store = openStore(command.dataDir);
  const ring = new KeyRing(store, systemClock);
  try {
    return dispatch(ring, command);
  } finally {
    ring.close();
    store.close();
  }
}

function dispatch(ring: KeyRing, { action, args, json, scope }: KeysCommand): string {
  switch (action) {
    case 'add': {
      const user = requireArg(args, 'keys add USER');
      const { key, secret } = ring.create({ user, scope: parseScope(scope) });
      const summary = { ...publicFields(key), key: secret };
      if (json) return JSON.stringify(summary);
      return [
        `Created a key for ${key.user} (id ${key.id}, scope ${key.scope}):`,
        '',
        `  ${secret}`,
        '',
        'Copy it now: it is shown only this once (only its hash is stored).',
      ].join('\n');
    }
    case 'list': {
      const keys = ring.list();
      if (json) return JSON.stringify(keys.map(publicFields));
      if (keys.length === 0) return 'No keys yet. Create one with: ollama-gate keys add NAME';
      return table(keys);
    }
    case 'enable':
    case 'disable': {
      const key = findKey(ring, requireArg(args, `keys ${action} ID_OR_USER`));
      ring.setEnabled(key.id, action === 'enable');
      return json ? JSON.stringify(publicFields(ring.get(key.id)!)) : `${action === 'enable' ? 'Enabled' : 'Disabled'} key ${key.id} (${key.user}).`;
    }
    case 'remove': {
      const key = findKey(ring, requireArg(args, 'keys remove ID_OR_USER'));
      ring.remove(key.id);
      return json ? JSON.stringify({ removed: key.id }) : `Removed key ${key.id} (${key.user}).`;
    }
    case 'import': {
      const file = requireArg(args, 'keys import FILE');
      const seedKeys = parseSeedKeys(readFileSync(file, 'utf8'));
      const imported: KeyRecord[] = [];
      let skipped = 0;
      for (const { secret, user } of seedKeys) {
        const key = ring.importSecret(secret, user, parseScope(scope));
        if (key) imported.push(key);
        else skipped++;
      }
      if (json) return JSON.stringify({ imported: imported.map(publicFields), skipped });
      const lines = imported.map((k) => `  ${k.id}  ${k.user}  ${k.prefix}…`);
      return [`Imported ${imported.length} key${imported.length === 1 ? '' : 's'} from ${file} (stored hashed)${skipped ? `, ${skipped} already present` : ''}:`, ...lines].join('\n');
    }
    default:
      throw new UsageError(`unknown keys action "${action}"`);
  }
}

function findKey(ring: KeyRing, idOrUser: string): KeyRecord {
  const key = ring.resolve(idOrUser);
  if (!key) throw new UsageError(`no key with id or user "${idOrUser}" (see: ollama-gate keys list)`);
  return key;
}

function requireArg(args: string[], usage: string): string {
  const value = args[0];
  if (!value) throw new UsageError(`usage: ollama-gate ${usage}`);
  return value;
}

function parseScope(scope: string | undefined): Scope {
  if (scope === undefined) return 'inference';
  if ((SCOPES as readonly string[]).includes(scope)) return scope as Scope;
  throw new UsageError(`--scope must be one of: ${SCOPES.join(', ')}`);
}

/** What a key's listing shows: everything but its hash. */
function publicFields(key: KeyRecord) {
  return {
    id: key.id,
    user: key.user,
    scope: key.scope,
    prefix: key.prefix,
    enabled: key.enabled,
    createdAt: new Date(key.createdAt).toISOString(),
    expiresAt: key.expiresAt === null ? null : new Date(key.expiresAt).toISOString(),
    lastUsedAt: key.lastUsedAt === null ? null : new Date(key.lastUsedAt).toISOString(),
    lastUsedIp: key.lastUsedIp,
  };
}

function table(keys: KeyRecord[]): string {
  const rows = [
    ['ID', 'USER', 'SCOPE', 'KEY', 'STATE', 'CREATED', 'LAST USED'],
    ...keys.map((k) => [
      k.id,
      k.user,
      k.scope,
      `${k.prefix}…`,
      k.enabled ? 'enabled' : 'disabled',
      new Date(k.createdAt).toISOString().slice(0, 16).replace('T', ' '),
      k.lastUsedAt ? `${new Date(k.lastUsedAt).toISOString().slice(0, 16).replace('T', ' ')} from ${k.lastUsedIp}` : 'never',
    ]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows.map((r) => r.map((cell, col) => cell.padEnd(widths[col]!)).join('  ').trimEnd()).join('\n');
}
