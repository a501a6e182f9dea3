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
