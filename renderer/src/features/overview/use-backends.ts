import { useEffect, useState } from 'react';
import type { BackendView } from '../../../../electron/shared/contract.js';
import { useGate } from '../../gate.js';
import { useGateState } from '../../state.js';

/** How often the list is read again while shown: the `backends` event leaves out load (requests in flight). */
export const BACKENDS_POLL_MS = 5_000;

/**
 * Every Ollama the gate forwards to, the default first: loaded at once, replaced by each `backends`
 * event, and read again every few seconds while the page is shown (not while the window is hidden)
 * for the requests in flight. Null until the first answer (or from a gate that has no such method).
 */
export function useBackends(): BackendView[] | null {
  const gate = useGate();
  const { reconnected } = useGateState();
  const [backends, setBackends] = useState<BackendView[] | null>(null);

  useEffect(() => {
    let live = true;
    const stop = gate.on('backends', (list) => {
      if (live) setBackends(list);
    });
    const hidden = () => typeof document !== 'undefined' && document.visibilityState === 'hidden';
    const load = async () => {
      if (hidden()) return;
      const result = await gate.backends.list();
      if (live && result.ok) setBackends(result.value);
    };
    const onVisibility = () => {
      if (!hidden()) void load();
    };
    void load();
    const timer = setInterval(() => void load(), BACKENDS_POLL_MS);
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      live = false;
      stop();
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [gate, reconnected]);

  return backends;
}
