import { GateError } from './errors.js';
import { membersNamed } from './json-body.js';
import type { Scope } from './keys.js';

/**
 * What each scope may reach. `inference` is an allow-list of what running models needs; `full`
 * adds model management and everything else Ollama serves, except its debug endpoints.
 */
const INFERENCE_PATHS = new Set(['/api/chat', '/api/generate', '/api/embed', '/api/embeddings', '/api/tags', '/api/show', '/api/ps', '/api/version']);

export type ScopeDecision = { allowed: true } | { allowed: false; reason: 'scope'; needs: Scope } | { allowed: false; reason: 'not_exposed' };

export function requiredScope(path: string): Scope | 'never' {
  if (path === '/debug' || path.startsWith('/debug/')) return 'never'; // Go's pprof, served on Ollama's port
  if (INFERENCE_PATHS.has(path) || path === '/v1' || path.startsWith('/v1/')) return 'inference';
  return 'full';
}

/** The /v1 routes whose tokens the gate reads (their usage, or one per streamed chunk), or that generate none. */
const COUNTED_V1 = new Set(['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/models']);

/**
 * Whether a key's daily token budget can follow what `path` generates: not so for the /v1 routes
 * whose counts the gate does not read (`/v1/messages`, `/v1/responses`, any Ollama adds later).
 */
export function budgetCanFollow(path: string): boolean {
  return !path.startsWith('/v1/') || COUNTED_V1.has(path) || path.startsWith('/v1/models/');
}

export function checkScope(scope: Scope, path: string): ScopeDecision {
  const needs = requiredScope(path);
  if (needs === 'never') return { allowed: false, reason: 'not_exposed' };
  if (needs === 'inference' || scope === 'full') return { allowed: true };
  return { allowed: false, reason: 'scope', needs };
}

/**
 * Whether a model name matches a key's allow-list. Names are compared as Ollama resolves them
 * (`registry.ollama.ai/library/llama3` is `llama3`, no tag is `:latest`, any case). `*` stands for
 * any run of characters within one path segment: `llama3*` matches `llama3.2:1b`, never a name on
 * another registry such as `llama3.evil.com/x/y`, nor a pinned `name@digest`.
 */
export function modelAllowed(patterns: readonly string[], model: string): boolean {
  if (patterns.length === 0) return true;
  const name = canonicalModelName(model);
  const untagged = name.endsWith(':latest') ? name.slice(0, -':latest'.length) : name;
  return patterns.some((raw) => {
    const pattern = canonicalModelName(raw);
    if (!pattern) return false;
    if (!pattern.includes('*')) return pattern === name || pattern === untagged || `${pattern}:latest` === name;
    const regex = globRegex(pattern);
    return regex.test(name) || regex.test(untagged);
  });
}

/** Compiled globs: a model list filtered for a key is hundreds of tests of the same few patterns. */
const globs = new Map<string, RegExp>();

function globRegex(pattern: string): RegExp {
  let regex = globs.get(pattern);
  if (!regex) {
    // Patterns come from the keys' settings: a few per key. The bound only keeps a bad day small.
    if (globs.size >= 1_000) globs.clear();
    regex = new RegExp(
      '^' +
        pattern
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/@]*') +
        '$',
    );
    globs.set(pattern, regex);
  }
  return regex;
}

const DEFAULT_REGISTRY = 'registry.ollama.ai/';
const DEFAULT_NAMESPACE = 'library/';

/** A model name in its shortest form, as Ollama would resolve it: lower case, without the default registry and namespace. */
function canonicalModelName(model: string): string {
  let name = model.trim().toLowerCase();
  if (name.startsWith(DEFAULT_REGISTRY)) name = name.slice(DEFAULT_REGISTRY.length);
  if (name.startsWith(DEFAULT_NAMESPACE) && name.split('/').length === 2) name = name.slice(DEFAULT_NAMESPACE.length);
  return name;
}

/**
 * Top-level body members that name a model or a model's base, anywhere a key with an allow-list
 * sends a body: `model` and `name` (the same field to Ollama's older routes), the `source` and
 * `destination` of /api/copy, the `from` of /api/create. Every occurrence must be allowed.
 */
const MODEL_NAME_MEMBERS = ['model', 'name', 'source', 'destination', 'from'] as const;
/**
 * /api/create members that point at uploaded files (`{"file name": "sha256:…"}`): the model's own
 * files, its adapters, and a draft model's files. Each digest must be one this key uploaded.
 */
const BLOB_MEMBERS = ['files', 'adapters', 'draft_files'] as const;
/** /api/create members that carry a Modelfile (text, `FROM base`) or a path to one on Ollama's machine. */
const MODELFILE_MEMBERS = ['modelfile', 'path'] as const;
const CHECKED_MEMBERS = [...MODEL_NAME_MEMBERS, ...BLOB_MEMBERS, ...MODELFILE_MEMBERS];

/** What policy knows of a request body for a key with an allow-list. */
export type BodyForPolicy =
  | { kind: 'none' }
  /** read whole: its bytes */
  | { kind: 'read'; bytes: Buffer; shape: 'object' | 'trailing' | 'other' }
  /** too large to read (it streams through): its model cannot be checked */
  | { kind: 'unread' };

/**
 * The model checks for a key with an allow-list; the refusal, or undefined when allowed.
 * What cannot be read is refused, not guessed: a body that is not one JSON object, one too large to
 * read, a Modelfile path, a blob this key did not upload.
 */
export function refuseModels(patterns: readonly string[], path: string, body: BodyForPolicy, uploaded: (digest: string) => boolean): GateError | undefined {
  if (patterns.length === 0) return undefined;
  const allowed = patterns.join(', ');
  const notAllowed = (model: string, member?: string) =>
    member ? new GateError('model_member_not_allowed', { model, member, allowed }) : new GateError('model_not_allowed', { model, allowed });
  if (path.startsWith('/v1/models/')) {
    const model = path.slice('/v1/models/'.length);
    if (!modelAllowed(patterns, model)) return notAllowed(model);
  }
  if (body.kind === 'none' || path.startsWith('/api/blobs/')) return undefined;
  if (body.kind === 'unread') return new GateError('model_body_unread');
  const members = body.shape === 'object' ? membersNamed(body.bytes, CHECKED_MEMBERS) : undefined;
  if (!members) return new GateError('model_body_not_object');
  let named = false;
  for (const [member, value] of members) {
    if (value === null) continue; // leaves Ollama's field as it was: an earlier value, checked on its own
    if ((MODEL_NAME_MEMBERS as readonly string[]).includes(member)) {
      if (typeof value !== 'string') return new GateError('model_member_not_text', { member });
      if (!modelAllowed(patterns, value)) return notAllowed(value, member === 'model' || member === 'name' ? undefined : member);
      named = true;
    } else if ((BLOB_MEMBERS as readonly string[]).includes(member)) {
      const digests = typeof value === 'object' && !Array.isArray(value) ? Object.values(value) : [value];
      for (const digest of digests) {
        if (typeof digest !== 'string' || !uploaded(digest)) {
          return new GateError('model_blob_not_uploaded', { member, digest: JSON.stringify(digest) ?? 'undefined' });
        }
      }
    } else if (member === 'modelfile') {
      const refusal = refuseModelfile(patterns, value, notAllowed);
      if (refusal) return refusal;
    } else {
      return new GateError('model_path_modelfile', { member });
    }
  }
  if (!named) return new GateError('model_unnamed', { allowed });
  return undefined;
}

/** A Modelfile's bases: every FROM must be an allowed model; an ADAPTER is a file the gate cannot check. */
function refuseModelfile(patterns: readonly string[], text: unknown, notAllowed: (model: string, member: string) => GateError): GateError | undefined {
  if (typeof text !== 'string') return new GateError('modelfile_not_text');
  // Ollama's parser ends a line at \n or a lone \r alike.
  for (const line of text.split(/\r\n|\r|\n/)) {
    const [instruction = '', base = ''] = line.trim().split(/\s+/, 2);
    const upper = instruction.toUpperCase();
    if (upper === 'FROM' && !modelAllowed(patterns, base)) return notAllowed(base, 'FROM');
    if (upper === 'ADAPTER') return new GateError('modelfile_adapter');
  }
  return undefined;
}

/** Paths whose answer lists models: for a key with an allow-list, the list is filtered to what it may use. */
export const MODEL_LIST_PATHS = new Set(['/api/tags', '/api/ps', '/v1/models']);

/**
 * Filters a model list answer (`{"models":[{"name"|"model"}]}` from Ollama, `{"data":[{"id"}]}`
 * from /v1/models, whose `data` is null when there are none) to the allowed models; undefined for
 * an answer it cannot read, which must not reach a key limited to some models unfiltered.
 */
export function filterModelList(body: string, patterns: readonly string[]): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const list = parsed as { models?: unknown; data?: unknown };
  const allowed = (entry: unknown, field: 'name' | 'model' | 'id') => {
    const value = (entry as Record<string, unknown> | null)?.[field];
    return typeof value === 'string' && modelAllowed(patterns, value);
  };
  if (Array.isArray(list.models)) list.models = list.models.filter((m) => allowed(m, 'name') || allowed(m, 'model'));
  else if (Array.isArray(list.data)) list.data = list.data.filter((m) => allowed(m, 'id'));
  else if (list.data !== null) return undefined;
  return JSON.stringify(parsed);
}
