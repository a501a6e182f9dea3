/** A key and its user, as the seed proxy kept them (in plain text). */
export interface SeedKey {
  secret: string;
  user: string;
}

/**
 * Reads the keys of the seed proxy's `config.py` (`VALID_API_KEYS = {"key": "user", ...}`), or JSON:
 * `{"key": "user"}`, `{"VALID_API_KEYS": {...}}`, or `[{"key": "...", "user": "..."}]`; an
 * `OLLAMA_API_BASE_URL` member beside the keys is the upstream, not a key.
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
    // The seed's upstream may sit beside the keys; it is not a key (parseSeedUpstream reads it).
    return Object.entries(mapping)
      .filter(([name]) => !UPSTREAM_NAMES.includes(name))
      .map(([secret, user]) => {
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

/** The names the seed proxy's config used for Ollama's address. */
const UPSTREAM_NAMES = ['OLLAMA_API_BASE_URL', 'OLLAMA_BASE_URL', 'OLLAMA_URL'];

/**
 * Where the seed proxy forwarded to, when its config says: `OLLAMA_API_BASE_URL = "http://…"`,
 * `= os.getenv("OLLAMA_API_BASE_URL", "http://…")` (its default), or the same name in JSON.
 * Only http(s) URLs count; anything else is null.
 */
export function parseSeedUpstream(text: string): string | null {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const record = JSON.parse(trimmed) as Record<string, unknown>;
      const value = UPSTREAM_NAMES.map((name) => record[name]).find((v) => typeof v === 'string');
      return typeof value === 'string' && isHttpUrl(value) ? value : null;
    } catch {
      // not JSON after all: read it as Python below
    }
  }
  for (const name of UPSTREAM_NAMES) {
    const assignment = new RegExp(`^\\s*${name}\\s*(?::[^=\\n]*)?=\\s*(.+)$`, 'm').exec(text);
    if (!assignment) continue;
    // The last string literal on the line: the value itself, or getenv's default.
    const literals = [...assignment[1]!.replace(/#.*$/, '').matchAll(/(["'])(.*?)\1/g)].map((m) => m[2]!);
    const value = literals.at(-1);
    if (value && isHttpUrl(value)) return value.replace(/\/+$/, '');
  }
  return null;
}

function isHttpUrl(value: string): boolean {
  return /^https?:\/\/[^/\s]/.test(value);
}
