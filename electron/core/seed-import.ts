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
  if (start < 0) throw new Error("no VALID_API_KEYS = {...} found (expected the seed proxy's config.py, or JSON)");
  // Walk the dict literal: strings, colons and comments, so a '#' or '}' inside a string or comment is harmless.
  const tokens: Array<{ text: string } | ':'> = [];
  let closed = false;
  for (let i = text.indexOf('{', start) + 1; i < text.length && !closed; i++) {
    const c = text[i];
    if (c === '#') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
    } else if (c === '"' || c === "'") {
      let value = '';
      for (i++; i < text.length && text[i] !== c; i++) value += (text[i] === '\\' ? text[++i] : text[i]) ?? '';
      tokens.push({ text: value });
    } else if (c === ':') {
      tokens.push(':');
    } else if (c === '}') {
      closed = true;
    }
  }
  if (!closed) throw new Error('VALID_API_KEYS = { is never closed');
  const keys: SeedKey[] = [];
  tokens.forEach((token, index) => {
    const user = tokens[index + 2];
    if (typeof token === 'object' && tokens[index + 1] === ':' && typeof user === 'object') keys.push({ secret: token.text, user: user.text });
  });
  return keys;
}
