import type { Pool } from 'undici';
import { upstreamError } from './errors.js';

export interface OllamaHealth {
  reachable: boolean;
  version: string | null;
  latencyMs: number | null;
  /** why it is not reachable, in words */
  error: string | null;
  checkedAt: number;
}

/** Asks Ollama for its version: the cheapest call that proves it is up and answering. */
export async function probeOllama(pool: Pool, basePath: string, url: string, timeoutMs: number, now: () => number): Promise<OllamaHealth> {
  const started = performance.now();
  try {
    const response = await pool.request({
      path: `${basePath}/api/version`,
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.body.text();
    const latencyMs = round(performance.now() - started);
    if (response.statusCode !== 200) {
      return { reachable: false, version: null, latencyMs, error: `Ollama answered ${response.statusCode} to /api/version`, checkedAt: now() };
    }
    const version = parseVersion(text);
    return { reachable: true, version, latencyMs, error: null, checkedAt: now() };
  } catch (error) {
    const message = isTimeout(error) ? `Ollama did not answer within ${timeoutMs} ms (${url})` : upstreamError(error, url).message;
    return { reachable: false, version: null, latencyMs: null, error: message, checkedAt: now() };
  }
}

function parseVersion(text: string): string | null {
  try {
    const parsed = JSON.parse(text) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : null;
  } catch {
    return null;
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
