import type { GateReason } from '../shared/contract.js';
import { explain, upstreamError } from './errors.js';
import { getText } from './http-get.js';
import type { UpstreamTarget } from './upstream.js';

export interface OllamaHealth {
  reachable: boolean;
  version: string | null;
  latencyMs: number | null;
  /** why it is not reachable, in words */
  error: string | null;
  checkedAt: number;
  /** this machine's non-loopback addresses where Ollama answers too: the gate can be walked around there */
  exposedOn: string[];
}

/** Asks Ollama for its version: the cheapest call that proves it is up and answering. */
export async function probeOllama(target: UpstreamTarget, timeoutMs: number, now: () => number): Promise<OllamaHealth> {
  const { url } = target;
  const started = performance.now();
  try {
    const { status, text } = await getText(`${target.origin}${target.basePath}/api/version`, { timeoutMs, dispatcher: target.pool });
    const latencyMs = round(performance.now() - started);
    if (status !== 200) {
      return { reachable: false, version: null, latencyMs, error: `Ollama answered ${status} to /api/version`, checkedAt: now(), exposedOn: [] };
    }
    const version = parseVersion(text);
    return { reachable: true, version, latencyMs, error: null, checkedAt: now(), exposedOn: [] };
  } catch (error) {
    return { reachable: false, version: null, latencyMs: null, error: probeFailure(error, url, timeoutMs).error, checkedAt: now(), exposedOn: [] };
  }
}

/** Why a health probe got no answer, in words and as a reason: our own timeout, or the transport error mapped once in errors.ts. */
export function probeFailure(error: unknown, url: string, timeoutMs: number): { error: string; reason: GateReason } {
  if (isTimeout(error)) {
    const { text, reason } = explain('ollama_timeout', { ms: timeoutMs, url });
    return { error: text, reason };
  }
  const failure = upstreamError(error, url);
  return { error: failure.message, reason: failure.reason };
}

/**
 * Where, besides loopback, a loopback-configured Ollama also answers on this machine (it was started
 * with OLLAMA_HOST=0.0.0.0): from there anyone on the network can reach it without a key.
 */
export async function findExposure(upstreamUrl: string, addresses: readonly string[], timeoutMs = 500): Promise<string[]> {
  const url = new URL(upstreamUrl);
  if (!isLoopback(url.hostname)) return [];
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const answers = await Promise.all(
    addresses.map(async (address) => {
      const origin = `${url.protocol}//${address.includes(':') ? `[${address}]` : address}:${port}`;
      try {
        const { status, text } = await getText(`${origin}/api/version`, { timeoutMs });
        return status === 200 && parseVersion(text) !== null ? `${address}:${port}` : null;
      } catch {
        return null;
      }
    }),
  );
  return answers.filter((a): a is string => a !== null);
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\./.test(hostname);
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
