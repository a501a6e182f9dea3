import { hash, randomBytes, randomUUID } from 'node:crypto';
import type { KeyFields, Scope } from '../shared/contract.js';

/** What a key may reach: `inference` runs models, `full` may also change them (pull, push, create, delete…). */
export type { Scope };
export const SCOPES: readonly Scope[] = ['inference', 'full'];

/**
 * A key as it is kept at rest: the settings the contract declares (user, name, scope, models,
 * limits, expiry) plus what identifies it. The secret itself is never stored, only its SHA-256.
 */
export interface KeyRecord extends KeyFields {
  id: string;
  /** hex SHA-256 of the secret */
  hash: string;
  /** the first characters of the secret, enough to recognise it in a list, too few to use it */
  prefix: string;
  createdAt: number;
  enabled: boolean;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
}

/** New field values for some keys, by key id. */
export type KeyPatches = ReadonlyMap<string, Partial<Omit<KeyRecord, 'id'>>>;

/** Where keys live. The core reads and patches through this; hosts back it with a file (conf / electron-store). */
export interface KeyStore {
  list(): KeyRecord[];
  add(record: KeyRecord): void;
  update(id: string, patch: Partial<Omit<KeyRecord, 'id'>>): void;
  /** Several keys' patches in one write (the last-use times of every key a flush covers). */
  updateEach(patches: KeyPatches): void;
  /** updateEach with the write off the event loop, where the store can (a file's sync to disk can take long). */
  updateEachInBackground?(patches: KeyPatches): Promise<void>;
  remove(id: string): void;
  /** Called when keys change outside this process's calls (another process edited the file). */
  subscribe?(listener: () => void): () => void;
}

export const KEY_PREFIX = 'og_';

/** 192 random bits, URL-safe, with a prefix that makes a leaked key recognisable. */
export function generateSecret(): string {
  return KEY_PREFIX + randomBytes(24).toString('base64url');
}

export function hashSecret(secret: string): string {
  // one-shot: a third of createHash's cost, on every request that presents a key
  return hash('sha256', secret, 'hex');
}

/**
 * The visible part of a secret. Generated keys show `og_` plus 5 characters (30 of 192 bits);
 * short imported keys show at most a quarter of their length so the rest stays secret.
 */
export function displayPrefix(secret: string): string {
  const visible = secret.startsWith(KEY_PREFIX) && secret.length >= 32 ? 8 : Math.min(8, Math.floor(secret.length / 4));
  return secret.slice(0, visible);
}

/** What a caller may set on a key: everything but its identity, secret and usage traces. */
export type KeySettings = Pick<KeyRecord, 'user' | 'name' | 'scope' | 'models' | 'rpm' | 'concurrency' | 'dailyTokens' | 'expiresAt' | 'enabled'>;

export function newKeyRecord(secret: string, fields: Partial<KeySettings> & { user: string }, now: number): KeyRecord {
  return {
    id: randomUUID().slice(0, 8),
    user: fields.user,
    name: fields.name ?? null,
    scope: fields.scope ?? 'inference',
    models: fields.models ?? [],
    rpm: fields.rpm ?? null,
    concurrency: fields.concurrency ?? null,
    dailyTokens: fields.dailyTokens ?? null,
    hash: hashSecret(secret),
    prefix: displayPrefix(secret),
    createdAt: now,
    enabled: fields.enabled ?? true,
    expiresAt: fields.expiresAt ?? null,
    lastUsedAt: null,
    lastUsedIp: null,
  };
}
