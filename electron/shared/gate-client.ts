import { type EventName, GATE_EVENTS, GATE_METHODS, type GateApi, type GateResult, type MethodName } from './contract.js';

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

// ---------------------------------------------------------------------------------------------
// The connection: whether the window can still reach its gate
// ---------------------------------------------------------------------------------------------

/**
 * `epoch` counts the times the connection came back: 0 until the first loss, and whatever was
 * loaded under an older epoch may be stale (changes made while away, events missed).
 */
export type ConnectionState =
  | { state: 'connected'; epoch: number }
  /** no answer: trying again at `retryAt` (epoch ms), the `attempt`-th time */
  | { state: 'reconnecting'; epoch: number; attempt: number; retryAt: number }
  /** the gate answers but no longer accepts this window (the web admin restarted with a new token) */
  | { state: 'refused'; epoch: number };

/** A transport's connection, for the window to show and to be told when to reload. */
export interface GateConnection {
  current(): ConnectionState;
  /** called on every change; returns its unsubscribe */
  subscribe(listener: (state: ConnectionState) => void): () => void;
  /** try now instead of at the next step of the backoff (a button, the window regaining focus) */
  retry(): void;
}

/** What a probe of the gate found: it answers, it does not, or it answers but refuses us. */
export type ProbeResult = 'ok' | 'down' | 'refused';

export interface ReconnectorOptions {
  /** one cheap call that tells whether the gate is back */
  probe(): Promise<ProbeResult>;
  /** re-opens what streams the events; true once it is open, false if it failed */
  resume(): Promise<boolean>;
  /** the waits before each attempt; the last one repeats */
  backoffMs?: readonly number[];
  now?: () => number;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

export interface Reconnector extends GateConnection {
  /** the transport saw the connection fail (`down`) or be refused (401/403) */
  lost(reason: Exclude<ProbeResult, 'ok'>): void;
}

const DEFAULT_BACKOFF_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000, 15_000];

/**
 * The connection as a small state machine. A loss starts attempts with growing waits; an attempt
 * probes the gate and, when it answers, re-opens the event stream, and only then is the window
 * connected again (with a new epoch, so it reloads what it shows). A refusal stops the attempts:
 * retrying cannot bring back a token the gate forgot, so only `retry()` tries again.
 */
export function createReconnector(options: ReconnectorOptions): Reconnector {
  const backoff = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  const now = options.now ?? Date.now;
  const setTimer = options.setTimer ?? ((run, ms) => setTimeout(run, ms));
  const clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>));
  const listeners = new Set<(state: ConnectionState) => void>();
  let state: ConnectionState = { state: 'connected', epoch: 0 };
  let timer: unknown;
  let attempting = false;

  const set = (next: ConnectionState) => {
    state = next;
    for (const listener of [...listeners]) listener(state);
  };
  const schedule = (attempt: number) => {
    const wait = backoff[Math.min(attempt - 1, backoff.length - 1)] ?? 1_000;
    set({ state: 'reconnecting', epoch: state.epoch, attempt, retryAt: now() + wait });
    timer = setTimer(() => {
      timer = undefined;
      void tryAgain();
    }, wait);
  };
  const cancel = () => {
    if (timer !== undefined) clearTimer(timer);
    timer = undefined;
  };
  const tryAgain = async () => {
    if (attempting || state.state === 'connected') return;
    attempting = true;
    try {
      const found = await options.probe().catch((): ProbeResult => 'down');
      if (found === 'refused') return set({ state: 'refused', epoch: state.epoch });
      const resumed = found === 'ok' && (await options.resume().catch(() => false));
      // A call refused meanwhile (401) outranks what this attempt found.
      if (state.state === 'refused' && found !== 'ok') return;
      if (resumed) return set({ state: 'connected', epoch: state.epoch + 1 });
      schedule(state.state === 'reconnecting' ? state.attempt + 1 : 1);
    } finally {
      attempting = false;
    }
  };

  return {
    current: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    retry() {
      if (state.state === 'connected' || attempting) return;
      cancel();
      void tryAgain();
    },
    lost(reason) {
      if (reason === 'refused') {
        if (state.state === 'refused') return;
        cancel();
        return set({ state: 'refused', epoch: state.epoch });
      }
      // Already on it: the attempts under way decide.
      if (state.state !== 'connected') return;
      schedule(1);
    },
  };
}
