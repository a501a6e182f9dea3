import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { GateSettings } from './settings.js';

/** Error codes of the gate's own upstream timeouts, mapped to answers in errors.ts. */
export const CONNECT_TIMEOUT = 'GATE_UPSTREAM_CONNECT_TIMEOUT';
export const HEADERS_TIMEOUT = 'GATE_UPSTREAM_HEADERS_TIMEOUT';
export const BODY_TIMEOUT = 'GATE_UPSTREAM_BODY_TIMEOUT';

export interface UpstreamTarget {
  /** Ollama's URL as configured, for messages */
  url: string;
  /** a path prefix when Ollama sits under one (http://host/ollama) */
  basePath: string;
  /** Ollama's scheme, host and port */
  origin: string;
  /** the keep-alive connections to Ollama, for the gate's own requests (health) */
  agent: http.Agent;
  /**
   * Starts a request to Ollama on a kept-alive connection. `headers` is a flat `[name, value, …]`
   * list without `Host` (this adds Ollama's own). The connect and header timeouts run from here;
   * `watchBody` starts the body timeout once the answer has begun.
   */
  request(method: string, path: string, headers: string[]): ClientRequest;
  /** Fails the answer with BODY_TIMEOUT when Ollama sends nothing for the configured time (none by default). */
  watchBody(request: ClientRequest, response: IncomingMessage): void;
  /** Closes the idle connections now and each busy one when its request is over. */
  retire(): void;
  /** Closes every connection, busy or not. */
  destroy(): void;
}

/**
 * Node's own HTTP client with one keep-alive agent, rebuilt when the upstream URL or its timeouts
 * change. Node's client parses with the llhttp built into the binary: no WebAssembly parser to
 * compile, which keeps an idle gate small. Timeouts default to none: Ollama sends no headers
 * until a model has loaded, which can take minutes.
 */
export class UpstreamPool {
  private current: (UpstreamTarget & { settings: PoolSettings }) | undefined;

  /** Called on every request: a few comparisons when nothing changed. */
  target(settings: GateSettings): UpstreamTarget {
    const current = this.current;
    if (current && samePoolSettings(current.settings, settings)) return current;
    this.current = { ...createTarget(settings), settings: pick(settings) };
    // Requests in flight on the old agent finish; then their connections close.
    current?.retire();
    return this.current;
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    current?.destroy();
  }
}

function createTarget(settings: GateSettings): UpstreamTarget {
  const url = new URL(settings.upstream);
  const secure = url.protocol === 'https:';
  const transport = secure ? https : http;
  // lifo: the connection used last is the one most surely still open; idle ones close after 30 s.
  const agent = new transport.Agent({ keepAlive: true, scheduling: 'lifo', timeout: 30_000 });
  if (settings.upstreamConnectTimeoutMs > 0) limitConnectTime(agent, settings.upstreamConnectTimeoutMs, secure);
  const host = url.host;
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port || (secure ? 443 : 80);
  const headersMs = settings.upstreamHeadersTimeoutMs;
  const bodyMs = settings.upstreamBodyTimeoutMs;
  return {
    url: settings.upstream,
    basePath: url.pathname.replace(/\/+$/, ''),
    origin: url.origin,
    agent,
    request(method, path, headers) {
      headers.push('host', host);
      const request = transport.request({ hostname, port, method, path, headers, agent });
      if (headersMs > 0) {
        const timer = setTimeout(() => request.destroy(timeoutError(HEADERS_TIMEOUT, `no answer from Ollama within ${headersMs} ms`)), headersMs);
        request.once('response', () => clearTimeout(timer));
        request.once('close', () => clearTimeout(timer));
      }
      return request;
    },
    watchBody(request, response) {
      if (bodyMs <= 0) return;
      const fire = () => request.destroy(timeoutError(BODY_TIMEOUT, `Ollama sent nothing for ${bodyMs} ms`));
      const timer = setTimeout(fire, bodyMs);
      response.on('data', () => timer.refresh());
      response.once('close', () => clearTimeout(timer));
    },
    retire() {
      agent.keepSocketAlive = () => false;
      for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
    },
    destroy: () => agent.destroy(),
  };
}

/** The connect timeout, on each new connection of the agent (a reused one is connected already). */
function limitConnectTime(agent: http.Agent, ms: number, secure: boolean): void {
  const connect = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => {
    const socket = connect(options, callback);
    if (!socket) return socket;
    const timer = setTimeout(() => socket.destroy(timeoutError(CONNECT_TIMEOUT, `no connection to Ollama within ${ms} ms`)), ms);
    socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    return socket;
  };
}

function timeoutError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

type PoolSettings = Pick<GateSettings, 'upstream' | 'upstreamHeadersTimeoutMs' | 'upstreamBodyTimeoutMs' | 'upstreamConnectTimeoutMs'>;

function pick(s: GateSettings): PoolSettings {
  return { upstream: s.upstream, upstreamHeadersTimeoutMs: s.upstreamHeadersTimeoutMs, upstreamBodyTimeoutMs: s.upstreamBodyTimeoutMs, upstreamConnectTimeoutMs: s.upstreamConnectTimeoutMs };
}

function samePoolSettings(a: PoolSettings, b: GateSettings): boolean {
  return (
    a.upstream === b.upstream &&
    a.upstreamHeadersTimeoutMs === b.upstreamHeadersTimeoutMs &&
    a.upstreamBodyTimeoutMs === b.upstreamBodyTimeoutMs &&
    a.upstreamConnectTimeoutMs === b.upstreamConnectTimeoutMs
  );
}
