import type { LogEntry } from '../../../../electron/shared/contract.js';

/**
 * How a finished request is shown: what a person diagnosing it needs first is who said no.
 * - `completed`: the answer arrived (a 2xx or 3xx from Ollama or from the gate's own routes)
 * - `ollamaRefused`: Ollama itself answered 4xx (a model it does not have, a bad request)
 * - `gateRefused`: the gate refused before Ollama saw anything (no or wrong key, scope, model
 *   allow-list, a limit, lockout, a malformed request, too busy)
 * - `upstreamError`: Ollama failed: unreachable, too slow, broke off mid-answer, or answered 5xx
 * - `gateError`: the gate itself failed (500)
 * - `clientLeft`: the client went away before the answer ended
 */
export type OutcomeKind = 'completed' | 'ollamaRefused' | 'gateRefused' | 'upstreamError' | 'gateError' | 'clientLeft';

export function outcomeKind(entry: Pick<LogEntry, 'outcome' | 'status' | 'answeredBy'>): OutcomeKind {
  const { outcome, status, answeredBy } = entry;
  if (outcome === 'client_aborted') return 'clientLeft';
  if (outcome === 'upstream_error') return 'upstreamError';
  if (answeredBy === 'ollama') {
    if (status >= 500) return 'upstreamError';
    return status >= 400 ? 'ollamaRefused' : 'completed';
  }
  // The gate answered. Its refusals are counted 'denied' (auth, limits, malformed requests) or
  // 'error' (a path it does not expose, a method Ollama does not serve, a body too slow or too large).
  if (outcome === 'denied') return 'gateRefused';
  if (outcome === 'error') return status >= 500 && status !== 503 ? 'gateError' : 'gateRefused';
  // Its own routes: /health says 503 when Ollama cannot be reached.
  if (status >= 500) return 'upstreamError';
  return status >= 400 ? 'gateRefused' : 'completed';
}
