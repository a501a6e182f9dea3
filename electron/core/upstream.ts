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
  private current: (UpstreamTarget & { signature: string }) | undefined;

  target(settings: GateSettings): UpstreamTarget {
    const signature = [settings.upstream, settings.upstreamHeadersTimeoutMs, settings.upstreamBodyTimeoutMs, settings.upstreamConnectTimeoutMs].join('|');
    if (this.current?.signature === signature) return this.current;
    const previous = this.current;
    const url = new URL(settings.upstream);
    this.current = {
      signature,
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
    void previous?.pool.close().catch(() => {});
    return this.current;
  }

  async close(): Promise<void> {
    const pool = this.current?.pool;
    this.current = undefined;
    await pool?.destroy();
  }
}
