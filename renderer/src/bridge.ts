import type { EventName, GateApi, GateResult, MethodName } from '../../electron/shared/contract.js';
import { type GateTransport, createGateClient } from '../../electron/shared/gate-client.js';

/**
 * `window.gate` in a browser: the same GateApi the Electron preload gives the window, over the
 * headless admin's HTTP endpoint. Each method is a `POST /gate/<method>` with a JSON body; events
 * come from one shared EventSource on `/gate/events`, opened for the first listener and closed
 * after the last. The admin token travels as an HttpOnly cookie, so this code never sees it.
 */
export function createHttpTransport(options: { base?: string; fetch?: typeof fetch; EventSource?: typeof EventSource } = {}): GateTransport {
  const base = options.base ?? '';
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const EventSourceImpl = options.EventSource ?? globalThis.EventSource;
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  const attached = new Set<EventName>();
  let source: EventSource | undefined;

  const dispatch = (event: EventName) => (message: MessageEvent<string>) => {
    let payload: unknown;
    try {
      payload = JSON.parse(message.data);
    } catch {
      return;
    }
    for (const listener of [...(listeners.get(event) ?? [])]) listener(payload);
  };

  return {
    async invoke(method: MethodName, request: unknown): Promise<GateResult<unknown>> {
      const response = await fetchImpl(`${base}/gate/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: request === undefined ? '' : JSON.stringify(request),
        credentials: 'same-origin',
        cache: 'no-store',
      });
      if ((response.headers.get('content-type') ?? '').includes('application/json')) return (await response.json()) as GateResult<unknown>;
      const detail = (await response.text()).slice(0, 300);
      return { ok: false, error: { code: response.status === 401 || response.status === 403 ? 'forbidden' : 'internal', message: detail || `HTTP ${response.status}` } };
    },

    subscribe(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      source ??= new EventSourceImpl(`${base}/gate/events`, { withCredentials: true });
      if (!attached.has(event)) {
        source.addEventListener(event, dispatch(event) as EventListener);
        attached.add(event);
      }
      return () => {
        set.delete(listener);
        if ([...listeners.values()].every((s) => s.size === 0)) {
          source?.close();
          source = undefined;
          attached.clear();
        }
      };
    },
  };
}

export function createBrowserGate(base = ''): GateApi {
  return createGateClient(createHttpTransport({ base }));
}
