import type { KeySource } from './credentials.js';

export type Outcome = 'ok' | 'denied' | 'upstream_error' | 'client_aborted' | 'error';

/** One structured event per request, emitted when it is over. It never holds a key, only its display prefix. */
export interface RequestLogEntry {
  /** 8 hex characters, also sent back as X-Request-Id */
  id: string;
  time: number;
  method: string;
  /** path and query with `api_key` redacted */
  path: string;
  ip: string;
  user: string | null;
  keyId: string | null;
  keyPrefix: string | null;
  keySource: KeySource | null;
  /** `public` for the gate's own open routes, `allowed` or `denied` for everything that needs a key */
  decision: 'public' | 'allowed' | 'denied';
  status: number;
  /** until the response's first byte (headers) */
  ttfbMs: number | null;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  model: string | null;
  /** from Ollama's final chunk (prompt_eval_count) or OpenAI usage (prompt_tokens); null when not reported */
  promptTokens: number | null;
  /** eval_count or completion_tokens; null when not reported */
  completionTokens: number | null;
  /** the request body, shortened, only when body logging is on */
  requestBody: string | null;
  outcome: Outcome;
  /** why it was denied or failed, in words */
  error: string | null;
}

export interface GateStatus {
  state: 'stopped' | 'listening' | 'error';
  host: string;
  port: number;
  /** URLs clients can use, LAN addresses included when listening on all interfaces */
  urls: string[];
  error: string | null;
  /** the HTTPS listener, when turned on */
  tls: TlsStatus | null;
}

export interface TlsStatus {
  port: number;
  urls: string[];
  /** SHA-256 fingerprint of the certificate, for clients that pin a self-signed one */
  fingerprint256: string | null;
  certFile: string | null;
  /** why HTTPS is not serving (HTTP goes on regardless) */
  error: string | null;
}

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
