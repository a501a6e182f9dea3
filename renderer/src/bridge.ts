import { type EventName, GATE_EVENTS, type GateApi, type GateResult, type MethodName } from '../../electron/shared/contract.js';
import { type GateConnection, type GateTransport, type ProbeResult, createGateClient, createReconnector } from '../../electron/shared/gate-client.js';

export interface HttpTransportOptions {
  base?: string;
  fetch?: typeof fetch;
  EventSource?: typeof EventSource;
  /** waits between reconnection attempts (tests shorten them) */
  backoffMs?: readonly number[];
  /** how long a re-opened event stream may take to open before the attempt counts as failed */
  openTimeoutMs?: number;
}

/** A method call that never reached the gate (the process stopped, the network between is gone). */
export class ConnectionLost extends Error {
  constructor(cause: unknown) {
    super(`no connection to the gate (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    this.name = 'ConnectionLost';
  }
}

/**
 * `window.gate` in a browser: the same GateApi the Electron preload gives the window, over the
 * headless admin's HTTP endpoint. Each method is a `POST /gate/<method>` with a JSON body; events
 * come from one shared EventSource on `/gate/events`, opened for the first listener and closed
 * after the last. The admin token travels as an HttpOnly cookie, so this code never sees it.
 *
 * The gate can go away under an open page (`serve` stopped or restarted). The transport notices
 * (the event stream errors, a call fails to connect or is refused) and reconnects itself, with
 * backoff, rather than leaving it to EventSource: after a restart the admin may refuse the old
 * token, and only a probe's status code tells that apart from a gate that is still down.
 */
export function createHttpTransport(options: HttpTransportOptions = {}): GateTransport & { connection: GateConnection } {
  const base = options.base ?? '';
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const EventSourceImpl = options.EventSource ?? globalThis.EventSource;
  const openTimeoutMs = options.openTimeoutMs ?? 10_000;
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let source: EventSource | undefined;

  const post = (method: MethodName, request: unknown) =>
    fetchImpl(`${base}/gate/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: request === undefined ? '' : JSON.stringify(request),
      credentials: 'same-origin',
      cache: 'no-store',
    });

  const wanted = () => [...listeners.values()].some((set) => set.size > 0);

  /** A new EventSource that feeds every listener; its failure is the connection's. */
  const open = (): EventSource => {
    const opened = new EventSourceImpl(`${base}/gate/events`, { withCredentials: true });
    for (const event of GATE_EVENTS) {
      opened.addEventListener(event, ((message: MessageEvent<string>) => {
        // Only the current stream speaks: never one already given up on.
        if (source !== opened) return;
        let payload: unknown;
        try {
          payload = JSON.parse(message.data);
        } catch {
          return;
        }
        for (const listener of [...(listeners.get(event) ?? [])]) listener(payload);
      }) as EventListener);
    }
    opened.addEventListener('error', () => {
      if (source !== opened) return;
      // EventSource would retry on its own, blind to a refused token: close it and take over.
      opened.close();
      source = undefined;
      connection.lost('down');
    });
    return opened;
  };

  const connection = createReconnector({
    backoffMs: options.backoffMs,
    async probe(): Promise<ProbeResult> {
      try {
        const response = await post('app.info', undefined);
        void response.body?.cancel().catch(() => {});
        return response.status === 401 || response.status === 403 ? 'refused' : 'ok';
      } catch {
        return 'down';
      }
    },
    resume: () =>
      new Promise<boolean>((resolve) => {
        source?.close();
        source = undefined;
        if (!wanted()) return resolve(true);
        // The new stream becomes the source once open, so no event falls between it and the reloads.
        const candidate = open();
        let settled = false;
        const settle = (ok: boolean) => {
          if (settled) return;
          settled = true;
          clearTimeout(timeout);
          if (ok) source = candidate;
          else candidate.close();
          resolve(ok);
        };
        const timeout = setTimeout(() => settle(false), openTimeoutMs);
        candidate.addEventListener('open', () => settle(true));
        candidate.addEventListener('error', () => settle(false));
      }),
  });

  return {
    connection,

    async invoke(method: MethodName, request: unknown): Promise<GateResult<unknown>> {
      let response: Response;
      try {
        response = await post(method, request);
      } catch (error) {
        // The stream is reopened by the attempt that finds the gate again.
        source?.close();
        source = undefined;
        connection.lost('down');
        throw new ConnectionLost(error);
      }
      if (response.status === 401 || response.status === 403) connection.lost('refused');
      if ((response.headers.get('content-type') ?? '').includes('application/json')) return (await response.json()) as GateResult<unknown>;
      const detail = (await response.text()).slice(0, 300);
      return {
        ok: false,
        error: { code: response.status === 401 || response.status === 403 ? 'forbidden' : 'internal', message: detail || `HTTP ${response.status}` },
      };
    },

    subscribe(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      // While reconnecting, the attempt that succeeds opens the stream.
      if (!source && connection.current().state === 'connected') source = open();
      return () => {
        set.delete(listener);
        if (!wanted()) {
          source?.close();
          source = undefined;
        }
      };
    },
  };
}

/** The GateApi over the web admin, and its connection. */
export function createBrowserGate(base = ''): { gate: GateApi; connection: GateConnection } {
  const transport = createHttpTransport({ base });
  // Back from another tab (where the admin link was opened again) or from sleep: try at once.
  const retry = () => {
    if (document.visibilityState === 'visible') transport.connection.retry();
  };
  window.addEventListener('focus', retry);
  document.addEventListener('visibilitychange', retry);
  window.addEventListener('online', retry);
  return { gate: createGateClient(transport), connection: transport.connection };
}
