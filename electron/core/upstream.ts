import Pool from 'undici/lib/dispatcher/pool.js';
import type { GateSettings } from './settings.js';

export interface UpstreamTarget {
  /** a path prefix when Ollama sits under one (http://host/ollama) */
  basePath: string;
  /** Ollama's scheme, host and port */
  origin: string;
  /**
   * undici's keep-alive connections to Ollama: every request the gate forwards, and its own health
   * probes, go through it. undici frames each request itself and refuses framing headers from its
   * callers, so the bytes Ollama reads are always one request the gate built.
   */
  pool: Pool;
}

/**
 * One undici Pool for one Ollama, rebuilt when its URL or the timeouts change. Header and body
 * timeouts default to none: Ollama sends no headers until a model has loaded, which can take
 * minutes.
 */
export class UpstreamPool {
  private current: (UpstreamTarget & { settings: PoolSettings }) | undefined;

  /** Called on every request: a few comparisons when nothing changed. `url`: this Ollama's, by default the settings' upstream. */
  target(settings: GateSettings, url = settings.upstream): UpstreamTarget {
    const current = this.current;
    if (current && samePoolSettings(current.settings, settings, url)) return current;
    this.current = { ...createTarget(settings, url), settings: pick(settings, url) };
    // Requests in flight on the old pool finish; then its connections close.
    if (current) void current.pool.close().catch(() => undefined);
    return this.current;
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    await current?.pool.destroy().catch(() => undefined);
  }
}

function createTarget(settings: GateSettings, upstream: string): UpstreamTarget {
  const url = new URL(upstream);
  const pool = new Pool(url.origin, {
    // One request at a time per connection: a slow answer never holds up another's.
    pipelining: 1,
    // Ollama keeps idle connections forever; the gate lets them go after 30 s unused.
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: settings.upstreamHeadersTimeoutMs,
    bodyTimeout: settings.upstreamBodyTimeoutMs,
    connect: { timeout: settings.upstreamConnectTimeoutMs },
  });
  return { basePath: url.pathname.replace(/\/+$/, ''), origin: url.origin, pool };
}

type PoolSettings = Pick<GateSettings, 'upstream' | 'upstreamHeadersTimeoutMs' | 'upstreamBodyTimeoutMs' | 'upstreamConnectTimeoutMs'>;

function pick(s: GateSettings, upstream: string): PoolSettings {
  return {
    upstream,
    upstreamHeadersTimeoutMs: s.upstreamHeadersTimeoutMs,
    upstreamBodyTimeoutMs: s.upstreamBodyTimeoutMs,
    upstreamConnectTimeoutMs: s.upstreamConnectTimeoutMs,
  };
}

function samePoolSettings(a: PoolSettings, b: GateSettings, upstream: string): boolean {
  return (
    a.upstream === upstream &&
    a.upstreamHeadersTimeoutMs === b.upstreamHeadersTimeoutMs &&
    a.upstreamBodyTimeoutMs === b.upstreamBodyTimeoutMs &&
    a.upstreamConnectTimeoutMs === b.upstreamConnectTimeoutMs
  );
}
