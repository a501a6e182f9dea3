/**
 * A GateApi for component tests: methods answer from handlers the test gives, events are emitted
 * by hand. Built with the same createGateClient as the real bridges, so the shape is the contract's.
 */
import type { EventName, GateApi, GateEvents, GateRequest, GateResponse, GateResult, MethodName } from '../../../electron/shared/contract.js';
import { createGateClient } from '../../../electron/shared/gate-client.js';

type Handlers = { [M in MethodName]?: (request: GateRequest<M>) => GateResponse<M> | GateResult<GateResponse<M>> | Promise<GateResponse<M>> };

export interface FakeGate {
  gate: GateApi;
  /** every call, in order */
  calls: Array<{ method: MethodName; request: unknown }>;
  emit<E extends EventName>(event: E, payload: GateEvents[E]): void;
  listeners(event: EventName): number;
}

export function fakeGate(handlers: Handlers): FakeGate {
  const calls: FakeGate['calls'] = [];
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  const gate = createGateClient({
    async invoke(method, request) {
      calls.push({ method, request });
      const handler = handlers[method] as ((request: unknown) => unknown) | undefined;
      if (!handler) return { ok: false, error: { code: 'unknown_method', message: `no fake for ${method}` } };
      const value = await handler(request);
      return isResult(value) ? value : { ok: true, value };
    },
    subscribe(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
  });
  return {
    gate,
    calls,
    emit: (event, payload) => {
      for (const listener of [...(listeners.get(event) ?? [])]) listener(payload);
    },
    listeners: (event) => listeners.get(event)?.size ?? 0,
  };
}

function isResult(value: unknown): value is GateResult<unknown> {
  return (
    typeof value === 'object' && value !== null && 'ok' in value && typeof (value as { ok: unknown }).ok === 'boolean' && ('value' in value || 'error' in value)
  );
}
