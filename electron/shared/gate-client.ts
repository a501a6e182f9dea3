import {
  type EventName,
  GATE_EVENTS,
  GATE_METHODS,
  type GateApi,
  type GateResult,
  type MethodName,
} from './contract.js';

/** How a GateApi reaches its host: IPC in the Electron window, HTTP and server-sent events in a browser. */
export interface GateTransport {
  invoke(method: MethodName, request: unknown): Promise<GateResult<unknown>>;
  subscribe(event: EventName, listener: (payload: unknown) => void): () => void;
}

/**
 * Builds `window.gate` from a transport: one function per method, grouped by namespace, generated
 * from the contract's method list so no method is forgotten and none is written twice. A transport
 * that fails (no handler, connection lost) resolves as an `internal` error, never rejects.
 */
export function createGateClient(transport: GateTransport): GateApi {
  const api: Record<string, Record<string, (request?: unknown) => Promise<GateResult<unknown>>>> = {};
  for (const method of GATE_METHODS) {
    const [namespace, action] = method.split('.') as [string, string];
    (api[namespace] ??= {})[action] = (request?: unknown) =>
      transport.invoke(method, request).catch((error: unknown) => ({
        ok: false as const,
        error: { code: 'internal' as const, message: error instanceof Error ? error.message : String(error) },
      }));
  }
  const events: readonly string[] = GATE_EVENTS;
  const on = (event: EventName, listener: (payload: unknown) => void): (() => void) => {
    if (!events.includes(event)) throw new TypeError(`unknown gate event "${String(event)}"`);
    if (typeof listener !== 'function') throw new TypeError('a gate event listener must be a function');
    return transport.subscribe(event, listener);
  };
  return { ...api, on } as unknown as GateApi;
}
