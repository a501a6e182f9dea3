import type { Scope } from './keys.js';

/**
 * What each scope may reach. `inference` is an allow-list of what running models needs; `full`
 * adds model management and everything else Ollama serves, except its debug endpoints.
 */
const INFERENCE_PATHS = new Set([
  '/api/chat',
  '/api/generate',
  '/api/embed',
  '/api/embeddings',
  '/api/tags',
  '/api/show',
  '/api/ps',
  '/api/version',
]);

export type ScopeDecision = { allowed: true } | { allowed: false; reason: 'scope'; needs: Scope } | { allowed: false; reason: 'not_exposed' };

export function requiredScope(path: string): Scope | 'never' {
  if (path === '/debug' || path.startsWith('/debug/')) return 'never'; // Go's pprof, served on Ollama's port
  if (INFERENCE_PATHS.has(path) || path === '/v1' || path.startsWith('/v1/')) return 'inference';
  return 'full';
}

export function checkScope(scope: Scope, path: string): ScopeDecision {
  const needs = requiredScope(path);
  if (needs === 'never') return { allowed: false, reason: 'not_exposed' };
  if (needs === 'inference' || scope === 'full') return { allowed: true };
  return { allowed: false, reason: 'scope', needs };
}

/**
 * Whether a model name matches a key's allow-list. Patterns may end in or contain `*`; a pattern
 * without a tag also matches the name with `:latest`, as Ollama treats `llama3` and `llama3:latest` alike.
 */
export function modelAllowed(patterns: readonly string[], model: string): boolean {
  if (patterns.length === 0) return true;
  const name = model.trim().toLowerCase();
  const untagged = name.endsWith(':latest') ? name.slice(0, -':latest'.length) : name;
  return patterns.some((pattern) => {
    const p = pattern.trim().toLowerCase();
    if (!p) return false;
    if (!p.includes('*')) return p === name || p === untagged || `${p}:latest` === name;
    const regex = new RegExp('^' + p.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
    return regex.test(name) || regex.test(untagged);
  });
}

/** Body members beyond `model` that name a model Ollama reads, per path: checked against a key's allow-list. */
export const MODEL_MEMBERS: ReadonlyMap<string, readonly string[]> = new Map([
  ['/api/copy', ['source', 'destination']],
  ['/api/create', ['from']],
]);

/** Paths whose answer lists models: for a key with an allow-list, the list is filtered to what it may use. */
export const MODEL_LIST_PATHS = new Set(['/api/tags', '/api/ps', '/v1/models']);

/**
 * Filters a model list answer (`{"models":[{"name"|"model"}]}` from Ollama, `{"data":[{"id"}]}`
 * from /v1/models) to the allowed models; anything else comes back unchanged.
 */
export function filterModelList(body: string, patterns: readonly string[]): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  if (!parsed || typeof parsed !== 'object') return body;
  const list = parsed as { models?: unknown; data?: unknown };
  const allowed = (entry: unknown, field: 'name' | 'model' | 'id') => {
    const value = (entry as Record<string, unknown> | null)?.[field];
    return typeof value === 'string' && modelAllowed(patterns, value);
  };
  if (Array.isArray(list.models)) list.models = list.models.filter((m) => allowed(m, 'name') || allowed(m, 'model'));
  else if (Array.isArray(list.data)) list.data = list.data.filter((m) => allowed(m, 'id'));
  else return body;
  return JSON.stringify(parsed);
}
