import type { LogEntry, ProxyStatus } from '../shared/contract.js';

export type { Outcome, TlsStatus } from '../shared/contract.js';

/**
 * One structured event per request, emitted when it is over; it never holds a key, only its display
 * prefix. The contract's LogEntry without `seq`, which the service numbers as it keeps history.
 */
export type RequestLogEntry = Omit<LogEntry, 'seq'>;

/** Where the proxy listens, or why it does not. */
export type GateStatus = ProxyStatus;

export interface GateEvents {
  request: RequestLogEntry;
  status: GateStatus;
}

type Listener<T> = (payload: T) => void;

/** A small typed emitter: listeners return nothing and a failing listener never breaks a request. */
export class GateEmitter {
  private listeners = new Map<keyof GateEvents, Set<Listener<never>>>();

  on<K extends keyof GateEvents>(event: K, listener: Listener<GateEvents[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<K extends keyof GateEvents>(event: K, payload: GateEvents[K]): void {
    const set = this.listeners.get(event) as Set<Listener<GateEvents[K]>> | undefined;
    if (!set) return;
    for (const listener of set) {
      try {
        listener(payload);
      } catch (error) {
        console.error(`ollama-gate: a ${event} listener failed:`, error);
      }
    }
  }
}
