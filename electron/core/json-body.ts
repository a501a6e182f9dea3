/**
 * What the gate needs from a JSON request body, found without changing anything else in it:
 * the `api_key` member (removed byte for byte, so the rest reaches Ollama exactly as sent), the
 * `model` it names (for the log and usage), and whether it is one JSON object at all. Policy reads
 * the members that name models itself (membersNamed), every occurrence of each.
 */
export interface InspectedBody {
  /** the body to forward: the original buffer, or a copy without the `api_key` member(s) */
  body: Buffer;
  /** the api_key value when present (any JSON type: the caller decides what a non-string means) */
  apiKey?: unknown;
  hasApiKey: boolean;
  model?: string;
  /**
   * What the body is to Ollama's decoder, which reads the first JSON value and ignores what follows:
   * `object` is one JSON object and nothing else; `trailing` a JSON object followed by more bytes (a
   * second value, junk), which the gate refuses rather than guess which part decides; `other`
   * anything else (not JSON, not an object), which Ollama refuses.
   */
  shape: 'object' | 'trailing' | 'other';
}

export interface InspectOptions {
  /**
   * The body decides something (a key's model allow-list): check all of it is valid JSON, as
   * JSON.parse does. Without that a body that cannot hold an `api_key` member is not parsed at all:
   * its model, only logged, is found by walking the top-level members.
   */
  exactModel?: boolean;
}

const API_KEY = Buffer.from('api_key');
/** `\u`: a string escape could spell `api_key` (or `model`) without the plain bytes. */
const UNICODE_ESCAPE = Buffer.from('\\u');

/** Inspects a complete body. Anything that is not a JSON object passes through untouched. */
export function inspectJsonBody(raw: Buffer, { exactModel = true }: InspectOptions = {}): InspectedBody {
  const start = skipWhitespace(raw, 0);
  if (raw[start] !== 0x7b /* { */) return { body: raw, hasApiKey: false, shape: 'other' };
  // Without the bytes `api_key` (plain or escaped) no member can be called that; when the model
  // is only logged, nothing else needs the parsed object.
  if (!exactModel && !raw.includes(API_KEY) && !raw.includes(UNICODE_ESCAPE)) {
    const read = readMembers(raw, start, MODEL_NAMES);
    if (!read) return { body: raw, hasApiKey: false, shape: 'other' };
    return { body: raw, hasApiKey: false, model: modelOf(read.found), shape: onlyWhitespaceFrom(raw, read.end) ? 'object' : 'trailing' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return { body: raw, hasApiKey: false, shape: startsWithJsonObject(raw, start) ? 'trailing' : 'other' };
  }
  if (!isPlainObject(parsed)) return { body: raw, hasApiKey: false, shape: 'other' };
  const model = modelOf(readMembers(raw, start, MODEL_NAMES)?.found);
  // A body written with escapes (`"api\u005fkey"`) has no literal marker; JSON.parse saw it anyway.
  if (!Object.hasOwn(parsed, 'api_key')) return { body: raw, hasApiKey: false, model, shape: 'object' };
  return { body: removeTopLevelMember(raw, 'api_key'), apiKey: parsed.api_key, hasApiKey: true, model, shape: 'object' };
}

/** Whether the body opens with a complete, valid JSON object (and so has more after it). */
function startsWithJsonObject(raw: Buffer, start: number): boolean {
  const end = skipValue(raw, start);
  if (raw[end - 1] !== 0x7d /* } */) return false;
  try {
    JSON.parse(raw.toString('utf8', start, end));
    return true;
  } catch {
    return false;
  }
}

function onlyWhitespaceFrom(raw: Buffer, at: number): boolean {
  return skipWhitespace(raw, at) >= raw.length;
}

/**
 * Every top-level member whose name is one of `names` in any case (as Go's decoder matches field
 * names), each occurrence in text order with its value decoded; undefined for a body that is not
 * one JSON object. Policy reads all of them, not just the one Ollama keeps: a model is allowed only
 * when every member that could name it is.
 */
export function membersNamed(raw: Buffer, names: readonly string[]): Array<[name: string, value: unknown]> | undefined {
  const start = skipWhitespace(raw, 0);
  if (raw[start] !== 0x7b) return undefined;
  const found: Array<[string, unknown]> = [];
  try {
    const end = walkMembers(raw, start, names, (name, valueStart, valueEnd) => {
      found.push([name, JSON.parse(raw.toString('utf8', valueStart, valueEnd))]);
    });
    return end === undefined ? undefined : found;
  } catch {
    return undefined; // a value the walk passed but JSON does not take
  }
}

const MODEL_NAMES = ['model', 'name'] as const;

/** The model a body names, as Ollama reads it: the last non-null `model`, else the same for `name` (see readMembers). */
function modelOf(members: Map<'model' | 'name', string | undefined> | undefined): string | undefined {
  return members && (members.get('model') ?? members.get('name'));
}

/**
 * Top-level string members of a body, as Ollama reads them. Go's encoding/json matches keys to
 * struct fields without regard to case, and a later key overwrites an earlier one: to Ollama,
 * `{"model":"llama3","MODEL":"qwen"}` asks for qwen, and a later `"model":null` changes nothing.
 * So for each of `names` (lowercase) this holds the last top-level non-null member of that name in
 * any case (undefined when that one is not a string), read in text order, which JSON.parse would
 * lose; and where the object ends. Undefined for a body that is not valid JSON as far as the walk sees.
 */
function readMembers<N extends string>(raw: Buffer, open: number, names: readonly N[]): { found: Map<N, string | undefined>; end: number } | undefined {
  const found = new Map<N, string | undefined>();
  const end = walkMembers(raw, open, names, (key, valueStart, valueEnd) => {
    // null leaves a Go string field as it was; any other non-string fails Ollama's decoding.
    if (!isNull(raw, valueStart, valueEnd)) found.set(key, raw[valueStart] === 0x22 ? stringValue(raw, valueStart, valueEnd) : undefined);
  });
  return end === undefined ? undefined : { found, end };
}

/**
 * Walks the top-level members of the object opening at `open`, calling `visit` for each whose name
 * is one of `names` (folded as Go folds); returns the offset just past the closing brace, or
 * undefined when the walk finds something that is not JSON.
 */
function walkMembers<N extends string>(
  raw: Buffer,
  open: number,
  names: readonly N[],
  visit: (name: N, valueStart: number, valueEnd: number) => void,
): number | undefined {
  let i = skipWhitespace(raw, open + 1);
  if (raw[i] === 0x7d /* } */) return i + 1;
  while (i < raw.length) {
    if (raw[i] !== 0x22 /* " */) return undefined;
    const keyStart = i;
    const keyEnd = skipString(raw, i);
    i = skipWhitespace(raw, keyEnd);
    if (raw[i] !== 0x3a /* : */) return undefined;
    const valueStart = skipWhitespace(raw, i + 1);
    const valueEnd = skipValue(raw, valueStart);
    if (valueEnd === valueStart) return undefined;
    const key = keyName(raw, keyStart, keyEnd, names);
    if (key !== undefined) visit(key, valueStart, valueEnd);
    i = skipWhitespace(raw, valueEnd);
    if (raw[i] === 0x7d) return i + 1;
    if (raw[i] !== 0x2c /* , */) return undefined;
    i = skipWhitespace(raw, i + 1);
  }
  return undefined;
}

function isNull(raw: Buffer, start: number, end: number): boolean {
  return end - start === 4 && raw[start] === 0x6e && raw[start + 1] === 0x75 && raw[start + 2] === 0x6c && raw[start + 3] === 0x6c;
}

/** Which of `names` the key token (quotes included) spells, in any case, as Go's decoder matches field names. */
function keyName<N extends string>(raw: Buffer, start: number, end: number, names: readonly N[]): N | undefined {
  for (let i = start + 1; i < end - 1; i++) {
    if (raw[i] === 0x5c /* \ */ || raw[i]! >= 0x80) {
      // Escaped (`"mod\u0065l"`) or not ASCII: decoded, then folded as Go folds, where the long s
      // (ſ) matches s and the Kelvin sign (K) matches k.
      let key: string;
      try {
        key = (JSON.parse(raw.toString('utf8', start, end)) as string).toUpperCase().toLowerCase();
      } catch {
        return undefined;
      }
      return names.find((name) => name === key);
    }
  }
  for (const name of names) if (foldedEquals(raw, start + 1, end - 1, name)) return name;
  return undefined;
}

/** Whether raw[start, end) is `word` (lower case) with its letters in any ASCII case. */
function foldedEquals(raw: Buffer, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    const c = raw[start + i]!;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== word.charCodeAt(i)) return false;
  }
  return true;
}

function stringValue(raw: Buffer, start: number, end: number): string | undefined {
  if (end - start < 2 || raw[end - 1] !== 0x22) return undefined;
  const backslash = raw.indexOf(0x5c /* \\ */, start);
  if (backslash === -1 || backslash >= end) return raw.toString('utf8', start + 1, end - 1);
  // Escapes other than \u (the caller ruled those out): JSON decodes them.
  try {
    return JSON.parse(raw.toString('utf8', start, end)) as string;
  } catch {
    return undefined;
  }
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

/** From an opening quote to just past the closing one (a quote after an odd run of backslashes is escaped). */
function skipString(raw: Buffer, i: number): number {
  for (let at = raw.indexOf(0x22, i + 1); at !== -1; at = raw.indexOf(0x22, at + 1)) {
    let backslashes = 0;
    for (let j = at - 1; raw[j] === 0x5c; j--) backslashes++;
    if (backslashes % 2 === 0) return at + 1;
  }
  return raw.length;
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
