import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { GateResult, KeyView } from '../shared/contract.js';
import { createGateway } from '../core/gateway.js';
import type { KeyRing } from '../core/keyring.js';
import { type KeyRecord, type KeySettings, SCOPES, type Scope } from '../core/keys.js';
import { parseSeedKeys, parseSeedUpstream } from '../core/seed-import.js';
import { type GateService, createGateService } from '../core/service.js';
import { GATE_VERSION } from '../core/version.js';
import { UsageError } from './command-line.js';
import { openStore } from './open-store.js';

export interface KeysCommand {
  action: string;
  args: string[];
  json: boolean;
  dataDir?: string;
  /** the settings flags as typed: --scope, --name, --user, --models, --rpm, --concurrency, --daily-tokens, --expires */
  flags: KeyFlags;
}

export interface KeyFlags {
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
 * `ollama-gate keys add|update|rotate|list|enable|disable|remove|import`; returns what to print.
 * Every change goes through the same service calls as the window's, with the same validation and
 * rules; a running gate sees it through the store file.
 */
export async function runKeysCommand(command: KeysCommand): Promise<string> {
  const store = openStore(command.dataDir);
  const gateway = createGateway({ keys: store, settings: store });
  const directory = dirname(store.path);
  const app = {
    name: 'Ollama Gate',
    version: GATE_VERSION,
    host: 'headless',
    platform: process.platform,
    versions: { node: process.versions.node },
    dataDir: directory,
    logsDir: directory,
  } as const;
  const service = createGateService({ gateway, store, app });
  try {
    return await dispatch(service, gateway.keys, command, store.current().upstream);
  } finally {
    await service.close();
    store.close();
  }
}

/** A service call's value, or its refusal as a usage error (exit 2) in the service's own words. */
async function call<T>(result: Promise<GateResult<T>>): Promise<T> {
  const answer = await result;
  if (!answer.ok) throw new UsageError(answer.error.message);
  return answer.value;
}

async function dispatch(service: GateService, ring: KeyRing, { action, args, json, flags }: KeysCommand, upstream: string): Promise<string> {
  switch (action) {
    case 'add': {
      const user = requireArg(args, 'keys add USER');
      const { key, secret } = await call(service.call('keys.create', { ...keySettingsFrom(flags, Date.now()), user }));
      if (json) return JSON.stringify({ ...publicFields(key), key: secret });
      return showSecret(`Created a key for ${key.user} (id ${key.id}, scope ${key.scope}):`, secret);
    }
    case 'update': {
      const key = findKey(
        ring,
        requireArg(
          args,
          'keys update ID_OR_USER [--name N] [--user U] [--scope S] [--models P,Q] [--rpm N] [--concurrency N] [--daily-tokens N] [--expires D]',
        ),
      );
      const patch = keySettingsFrom(flags, Date.now());
      if (Object.keys(patch).length === 0) throw new UsageError('keys update: say what to change, e.g. --rpm 60 or --models "llama3*"');
      const updated = await call(service.call('keys.update', { id: key.id, ...patch }));
      return json ? JSON.stringify(publicFields(updated)) : `Updated key ${key.id} (${updated.user}): ${describeSettings(updated)}`;
    }
    case 'rotate': {
      const key = findKey(ring, requireArg(args, 'keys rotate ID_OR_USER'));
      const { key: rotated, secret } = await call(service.call('keys.rotate', { id: key.id }));
      if (json) return JSON.stringify({ ...publicFields(rotated), key: secret });
      return showSecret(`New secret for key ${rotated.id} (${rotated.user}); the old one no longer works, nor does any IP it trusted:`, secret);
    }
    case 'list': {
      const keys = await call(service.call('keys.list'));
      if (json) return JSON.stringify(keys.map(publicFields));
      if (keys.length === 0) return 'No keys yet. Create one with: ollama-gate keys add NAME';
      return table(keys);
    }
    case 'enable':
    case 'disable': {
      const key = findKey(ring, requireArg(args, `keys ${action} ID_OR_USER`));
      const changed = await call(service.call('keys.setEnabled', { id: key.id, enabled: action === 'enable' }));
      return json ? JSON.stringify(publicFields(changed)) : `${action === 'enable' ? 'Enabled' : 'Disabled'} key ${key.id} (${key.user}).`;
    }
    case 'remove': {
      const key = findKey(ring, requireArg(args, 'keys remove ID_OR_USER'));
      await call(service.call('keys.remove', { id: key.id }));
      return json ? JSON.stringify({ removed: key.id }) : `Removed key ${key.id} (${key.user}).`;
    }
    case 'import': {
      // The window has no import: seed keys come only from the command line, hashed on the way in.
      const file = requireArg(args, 'keys import FILE');
      const text = readFileSync(file, 'utf8');
      const seedKeys = parseSeedKeys(text);
      const seedUpstream = parseSeedUpstream(text);
      const imported: KeyRecord[] = [];
      let skipped = 0;
      for (const { secret, user } of seedKeys) {
        const key = ring.importSecret(secret, user, parseScope(flags.scope) ?? 'inference');
        if (key) imported.push(key);
        else skipped++;
      }
      if (json) return JSON.stringify({ imported: imported.map(publicFields), skipped, upstream: seedUpstream });
      const lines = imported.map((k) => `  ${k.id}  ${k.user}  ${k.prefix}…`);
      return [
        `Imported ${imported.length} key${imported.length === 1 ? '' : 's'} from ${file} (stored hashed)${skipped ? `, ${skipped} already present` : ''}:`,
        ...lines,
        'Use the id to name a key in other commands (ollama-gate keys update ID …).',
        ...upstreamAdvice(seedUpstream, upstream),
      ].join('\n');
    }
    default:
      throw new UsageError(`unknown keys action "${action}"`);
  }
}

/** What to do about the seed's OLLAMA_API_BASE_URL: nothing when the gate already forwards there. */
function upstreamAdvice(seedUpstream: string | null, upstream: string): string[] {
  if (!seedUpstream || sameAddress(seedUpstream, upstream)) return [];
  return [
    `The seed proxy forwarded to ${seedUpstream}; this gate forwards to ${upstream}.`,
    `To forward there too: ollama-gate serve --upstream ${seedUpstream} (or OLLAMA_GATE_UPSTREAM, or Settings → Ollama URL in the window).`,
  ];
}

/** localhost and 127.0.0.1 are one place; a trailing slash changes nothing. */
function sameAddress(a: string, b: string): boolean {
  const normal = (url: string) => url.replace(/\/+$/, '').replace('//localhost', '//127.0.0.1');
  return normal(a) === normal(b);
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

function showSecret(heading: string, secret: string): string {
  return [heading, '', `  ${secret}`, '', 'Copy it now: it is shown only this once (only its hash is stored).'].join('\n');
}

function parseScope(scope: string | undefined): Scope | undefined {
  if (scope === undefined) return undefined;
  if ((SCOPES as readonly string[]).includes(scope)) return scope as Scope;
  throw new UsageError(`--scope must be one of: ${SCOPES.join(', ')}`);
}

/** The key settings the flags name; a flag left out changes nothing. `none` clears a limit or expiry. */
export function keySettingsFrom(flags: KeyFlags, now: number): Partial<KeySettings> {
  const settings: Partial<KeySettings> = {};
  const scope = parseScope(flags.scope);
  if (scope) settings.scope = scope;
  if (flags.name !== undefined) settings.name = flags.name.trim() || null;
  if (flags.user !== undefined) settings.user = flags.user;
  if (flags.models !== undefined)
    settings.models = flags.models
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
  if (flags.rpm !== undefined) settings.rpm = parseLimit(flags.rpm, '--rpm');
  if (flags.concurrency !== undefined) settings.concurrency = parseLimit(flags.concurrency, '--concurrency');
  if (flags['daily-tokens'] !== undefined) settings.dailyTokens = parseLimit(flags['daily-tokens'], '--daily-tokens');
  if (flags.expires !== undefined) settings.expiresAt = parseExpiry(flags.expires, now);
  return settings;
}

function parseLimit(text: string, flag: string): number | null {
  if (text === 'none') return null;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${flag} takes a whole number above 0, or none`);
  return value;
}

const DURATION_UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `2w` from now; a date or date-time (`2026-12-31`, ISO 8601); or `never`. */
export function parseExpiry(text: string, now: number): number | null {
  if (text === 'never' || text === 'none') return null;
  const duration = /^(\d+)\s*([mhdw])$/i.exec(text.trim());
  if (duration) {
    if (Number(duration[1]) === 0) throw new UsageError('--expires needs a duration above 0, such as 30d');
    return now + Number(duration[1]) * DURATION_UNITS[duration[2]!.toLowerCase()]!;
  }
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  // A bare date means the end of that day (UTC); Date.parse would roll 2027-02-30 into March.
  const date = day ? endOfDay(Number(day[1]), Number(day[2]), Number(day[3])) : /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(date)) throw new UsageError(`--expires takes a duration (30d, 12h, 2w), a date (2026-12-31) or never, not "${text}"`);
  if (date <= now) throw new UsageError(`--expires ${text} is already in the past`);
  return date;
}

function endOfDay(year: number, month: number, day: number): number {
  const time = Date.UTC(year, month - 1, day, 23, 59, 59, 999);
  const check = new Date(time);
  return check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day ? time : Number.NaN;
}

/** What the listings read of a key: a stored record or the service's view of one. */
type ListedKey = Omit<KeyView, 'expired' | 'today'>;

function describeSettings(key: ListedKey): string {
  const parts = [
    `scope ${key.scope}`,
    key.name ? `name "${key.name}"` : null,
    key.models.length ? `models ${key.models.join(', ')}` : 'all models',
    key.rpm ? `${key.rpm}/min` : null,
    key.concurrency ? `${key.concurrency} at once` : null,
    key.dailyTokens ? `${key.dailyTokens} tokens/day` : null,
    key.expiresAt ? `expires ${new Date(key.expiresAt).toISOString()}` : null,
  ];
  return parts.filter(Boolean).join(', ');
}

/** What a key's listing shows: everything but its hash. */
function publicFields(key: ListedKey) {
  return {
    id: key.id,
    user: key.user,
    name: key.name,
    scope: key.scope,
    prefix: key.prefix,
    models: key.models,
    rpm: key.rpm,
    concurrency: key.concurrency,
    dailyTokens: key.dailyTokens,
    enabled: key.enabled,
    createdAt: new Date(key.createdAt).toISOString(),
    expiresAt: key.expiresAt === null ? null : new Date(key.expiresAt).toISOString(),
    lastUsedAt: key.lastUsedAt === null ? null : new Date(key.lastUsedAt).toISOString(),
    lastUsedIp: key.lastUsedIp,
  };
}

function table(keys: ListedKey[]): string {
  const rows = [
    ['ID', 'USER', 'SCOPE', 'KEY', 'STATE', 'MODELS', 'LIMITS', 'EXPIRES', 'CREATED', 'LAST USED'],
    ...keys.map((k) => [
      k.id,
      k.name ? `${k.user} (${k.name})` : k.user,
      k.scope,
      `${k.prefix}…`,
      k.enabled ? (k.expiresAt !== null && k.expiresAt <= Date.now() ? 'expired' : 'enabled') : 'disabled',
      k.models.length ? k.models.join(',') : 'all',
      [k.rpm ? `${k.rpm}/min` : '', k.concurrency ? `${k.concurrency} at once` : '', k.dailyTokens ? `${k.dailyTokens} tok/day` : '']
        .filter(Boolean)
        .join(' ') || '-',
      k.expiresAt === null ? 'never' : minutes(k.expiresAt),
      minutes(k.createdAt),
      k.lastUsedAt ? `${minutes(k.lastUsedAt)} from ${k.lastUsedIp}` : 'never',
    ]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, col) => cell.padEnd(widths[col]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A time as the listing shows it: UTC, to the minute. */
function minutes(time: number): string {
  return `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')}Z`;
}
