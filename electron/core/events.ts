import type { LogEntry, ProxyStatus } from '../shared/contract.js';

export type { Outcome, TlsStatus } from '../shared/contract.js';

/**
 * One structured event per request, emitted when it is over; it never holds a key, only its display
 * prefix. The contract's LogEntry without `seq`, which the service numbers as it keeps history.
 */
export type RequestLogEntry = Omit<LogEntry, 'seq'>;

/** Where the proxy listens, or why it does not. */
export type GateStatus = ProxyStatus;

/** What the gateway emits; the service turns them into the contract's GateEvents. */
export interface GatewayEvents {
  request: RequestLogEntry;
  status: GateStatus;
}

/**
 * A small typed emitter: listeners return nothing, and a failing listener never breaks the others
 * (nor the request or the state change that emitted).
 */
export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Whether anyone listens, for events that cost something to prepare. */
  listening(event: keyof Events): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of (this.listeners.get(event) ?? []) as Set<(payload: Events[K]) => void>) {
      try {
        listener(payload);
      } catch (error) {
        console.error(`ollama-gate: a ${String(event)} listener failed:`, error);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
