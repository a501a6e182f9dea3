/** A key and its user, as the seed proxy kept them (in plain text). */
export interface SeedKey {
  secret: string;
  user: string;
}

/**
 * Reads the keys of the seed proxy's `config.py` (`VALID_API_KEYS = {"key": "user", ...}`), or JSON:
 * `{"key": "user"}`, `{"VALID_API_KEYS": {...}}`, or `[{"key": "...", "user": "..."}]`.
 */
export function parseSeedKeys(text: string): SeedKey[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return fromJson(JSON.parse(trimmed));
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  return fromPython(text);
}

function fromJson(value: unknown): SeedKey[] {
  if (Array.isArray(value)) {
    return value.map((entry, index) => {
      const { key, user } = (entry ?? {}) as { key?: unknown; user?: unknown };
      if (typeof key !== 'string' || typeof user !== 'string') throw new Error(`entry ${index + 1} needs string "key" and "user"`);
      return { secret: key, user };
    });
  }
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const mapping = record.VALID_API_KEYS && typeof record.VALID_API_KEYS === 'object' ? (record.VALID_API_KEYS as Record<string, unknown>) : record;
    return Object.entries(mapping).map(([secret, user]) => {
      if (typeof user !== 'string') throw new Error(`the user for key ${secret.slice(0, 4)}… must be a string`);
      return { secret, user };
    });
  }
  throw new Error('expected a JSON object or array of keys');
}

function fromPython(text: string): SeedKey[] {
  const start = text.search(/VALID_API_KEYS\s*(?::[^=]*)?=\s*\{/);
  if (start < 0) throw new Error('no VALID_API_KEYS = {...} found (expected the seed proxy\'s config.py, or JSON)');
  const open = text.indexOf('{', start);
  const close = text.indexOf('}', open);
  if (close < 0) throw new Error('VALID_API_KEYS = { is never closed');
  const body = text
    .slice(open + 1, close)
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, ''))
    .join('\n');
  const pair = /(["'])((?:\\.|(?!\1).)*)\1\s*:\s*(["'])((?:\\.|(?!\3).)*)\3/g;
  const keys: SeedKey[] = [];
  for (const match of body.matchAll(pair)) keys.push({ secret: match[2]!, user: match[4]! });
  return keys;
}
