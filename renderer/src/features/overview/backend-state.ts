import type { BackendView } from '../../../../electron/shared/contract.js';

/**
 * What a backend is doing, in one word: turned off in Settings; down (its last check failed);
 * skipped (it refused a connection since its last good check, so it gets no requests until the
 * next one); not checked yet; or up.
 */
export type BackendState = 'up' | 'down' | 'skipped' | 'disabled' | 'checking';

export function backendState(backend: Pick<BackendView, 'enabled' | 'skipped' | 'health'>): BackendState {
  if (!backend.enabled) return 'disabled';
  if (backend.health && !backend.health.reachable) return 'down';
  if (backend.skipped) return 'skipped';
  if (!backend.health) return 'checking';
  return 'up';
}

/** Whether the window shows backends at all: with the default alone, the gate is one Ollama's, as before. */
export function hasSeveralBackends(backends: readonly BackendView[] | null): backends is BackendView[] {
  return backends !== null && backends.length > 1;
}
