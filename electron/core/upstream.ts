import { Pool } from 'undici';
import type { GateSettings } from './settings.js';

export interface UpstreamTarget {
  pool: Pool;
  /** Ollama's URL as configured, for messages */
  url: string;
  /** a path prefix when Ollama sits under one (http://host/ollama) */
  basePath: string;
}

/**
 * One keep-alive connection pool to Ollama, rebuilt when the upstream URL or its timeouts change.
 * Timeouts default to none: Ollama sends no headers until a model has loaded, which can take minutes.
 */
export class UpstreamPool {
  private current: (UpstreamTarget & { settings: PoolSettings }) | undefined;

  /** Called on every request: a few comparisons when nothing changed. */
  target(settings: GateSettings): UpstreamTarget {
    const current = this.current;
    if (current && samePoolSettings(current.settings, settings)) return current;
    const url = new URL(settings.upstream);
    this.current = {
      settings: pick(settings),
      url: settings.upstream,
      basePath: url.pathname.replace(/\/+$/, ''),
      pool: new Pool(url.origin, {
        headersTimeout: settings.upstreamHeadersTimeoutMs,
        bodyTimeout: settings.upstreamBodyTimeoutMs,
        connect: { timeout: settings.upstreamConnectTimeoutMs },
        keepAliveTimeout: 30_000,
      }),
    };
    // Requests in flight on the old pool finish; it closes once they have.
    void current?.pool.close().catch(() => {});
    return this.current;
  }

  async close(): Promise<void> {
    const pool = this.current?.pool;
    this.current = undefined;
    await pool?.destroy();
  }
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
