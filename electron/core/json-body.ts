/**
 * What the gate needs from a JSON request body, found without changing anything else in it:
 * the `api_key` member (removed byte for byte, so the rest reaches Ollama exactly as sent) and
 * the `model` it names (for logs and policy).
 */
export interface InspectedBody {
  /** the body to forward: the original buffer, or a copy without the `api_key` member(s) */
  body: Buffer;
  /** the api_key value when present (any JSON type: the caller decides what a non-string means) */
  apiKey?: unknown;
  hasApiKey: boolean;
  model?: string;
}

/** Inspects a complete body. Anything that is not a JSON object passes through untouched. */
export function inspectJsonBody(raw: Buffer): InspectedBody {
  const start = skipWhitespace(raw, 0);
  if (raw[start] !== 0x7b /* { */) return { body: raw, hasApiKey: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return { body: raw, hasApiKey: false };
  }
  if (!isPlainObject(parsed)) return { body: raw, hasApiKey: false };
  const model = typeof parsed.model === 'string' ? parsed.model : typeof parsed.name === 'string' ? parsed.name : undefined;
  // A body written with escapes (`"api\u005fkey"`) has no literal marker; JSON.parse saw it anyway.
  if (!Object.hasOwn(parsed, 'api_key')) return { body: raw, hasApiKey: false, model };
  return { body: removeTopLevelMember(raw, 'api_key'), apiKey: parsed.api_key, hasApiKey: true, model };
}

/**
 * Removes every top-level member called `name` from a valid JSON object, with its separating comma.
 * Works on bytes: UTF-8 multi-byte sequences never contain the ASCII bytes the scanner looks for.
 */
export function removeTopLevelMember(raw: Buffer, name: string): Buffer {
  const members = topLevelMembers(raw);
  const lastKept = members.findLastIndex((m) => m.key !== name);
  const cut: Array<[number, number]> = [];
  members.forEach((member, index) => {
    if (member.key !== name) return;
    // Before the last kept member: take it up to the next member's start (its comma too).
    // After it: take it from the end of the last kept member (the comma before it).
    // With nothing kept, everything between the braces goes.
    if (index < lastKept) cut.push([member.start, members[index + 1]!.start]);
    else if (lastKept >= 0) cut.push([members[lastKept]!.end, member.end]);
    else cut.push([members[0]!.start, members.at(-1)!.end]);
  });
  if (cut.length === 0) return raw;
  const parts: Buffer[] = [];
  let from = 0;
  for (const [start, end] of mergeRanges(cut)) {
    parts.push(raw.subarray(from, start));
    from = end;
  }
  parts.push(raw.subarray(from));
  return Buffer.concat(parts);
}

interface Member {
  key: string;
  /** offset of the key's opening quote */
  start: number;
  /** offset just after the value */
  end: number;
}

function topLevelMembers(raw: Buffer): Member[] {
  const members: Member[] = [];
  let i = skipWhitespace(raw, 0) + 1; // past '{'
  for (;;) {
    i = skipWhitespace(raw, i);
    if (raw[i] === 0x7d /* } */ || i >= raw.length) return members;
    const start = i;
    const keyEnd = skipString(raw, i);
    const key = JSON.parse(raw.toString('utf8', start, keyEnd)) as string;
    i = skipWhitespace(raw, keyEnd) + 1; // past ':'
    i = skipValue(raw, skipWhitespace(raw, i));
    members.push({ key, start, end: i });
    i = skipWhitespace(raw, i);
    if (raw[i] === 0x2c /* , */) i++;
  }
}

function skipWhitespace(raw: Buffer, i: number): number {
  while (i < raw.length && (raw[i] === 0x20 || raw[i] === 0x0a || raw[i] === 0x0d || raw[i] === 0x09)) i++;
  return i;
}

/** From an opening quote to just past the closing one. */
function skipString(raw: Buffer, i: number): number {
  for (i++; i < raw.length; i++) {
    if (raw[i] === 0x5c /* \ */) i++;
    else if (raw[i] === 0x22 /* " */) return i + 1;
  }
  return i;
}

function skipValue(raw: Buffer, i: number): number {
  const first = raw[i];
  if (first === 0x22) return skipString(raw, i);
  if (first === 0x7b || first === 0x5b) {
    let depth = 0;
    for (; i < raw.length; i++) {
      const c = raw[i];
      if (c === 0x22) i = skipString(raw, i) - 1;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return i;
  }
  // number, true, false, null: up to the next delimiter
  while (i < raw.length && raw[i] !== 0x2c && raw[i] !== 0x7d && raw[i] !== 0x20 && raw[i] !== 0x0a && raw[i] !== 0x0d && raw[i] !== 0x09) i++;
  return i;
}

function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([...range]);
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
