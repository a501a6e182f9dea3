import type { HealthView, ProxyStatus } from '../shared/contract.js';

/** A line for the terminal and the log, with its level: warnings are what an operator must act on. */
export interface StateLine {
  level: 'info' | 'warn' | 'error';
  text: string;
}

/** What an operator watching `serve` cares about in Ollama's health: not latency, not each probe. */
function healthSummary(health: HealthView): string {
  return JSON.stringify([health.upstream, health.reachable, health.version, health.exposedOn]);
}

/**
 * The lines for a change in Ollama's state, none when nothing an operator cares about changed:
 * it came up (with its version), went down (with why), or now answers on a LAN address too.
 * `name`: a backend's beside the default one, which the lines name.
 */
export function healthLines(previous: HealthView | undefined, next: HealthView, name?: string): StateLine[] {
  const ollama = name ? `Ollama "${name}"` : 'Ollama';
  if (previous && healthSummary(previous) === healthSummary(next)) return [];
  const lines: StateLine[] = [];
  const cameUp = next.reachable && (!previous?.reachable || previous.version !== next.version || previous.upstream !== next.upstream);
  if (cameUp) lines.push({ level: 'info', text: `${ollama} ${next.version ?? '(unknown version)'} answers at ${next.upstream}` });
  // Down with another reason is not news: the first reason (refused, reset, timed out) says it.
  if (!next.reachable && (previous?.reachable !== false || previous.upstream !== next.upstream)) {
    lines.push({ level: 'warn', text: `${ollama} is not reachable at ${next.upstream}: ${next.error ?? 'no answer'}` });
  }
  const before = new Set(previous?.exposedOn ?? []);
  for (const address of next.exposedOn) {
    if (!before.has(address)) {
      lines.push({
        level: 'warn',
        text: `${ollama} also answers on ${address}: anyone on your network can reach it without a key. Restart Ollama with OLLAMA_HOST=127.0.0.1`,
      });
    }
  }
  if (before.size > 0 && next.exposedOn.length === 0 && next.reachable)
    lines.push({ level: 'info', text: `${ollama} no longer answers on this machine's network addresses` });
  return lines;
}

/** The lines for a change of the listeners: where the proxy listens, HTTPS on or off, a restart that failed. */
export function statusLines(previous: ProxyStatus, next: ProxyStatus): StateLine[] {
  const lines: StateLine[] = [];
  const listening = next.state === 'listening';
  if (next.state !== previous.state || next.urls.join() !== previous.urls.join()) {
    if (listening) lines.push({ level: 'info', text: `Listening on ${next.urls.join('  ')}` });
    else if (next.state === 'stopped') lines.push({ level: 'warn', text: 'The proxy stopped: clients get no answer until it starts again' });
  }
  // A restart that failed leaves the previous listener serving, with the reason in the status.
  if (next.error && next.error !== previous.error)
    lines.push({ level: 'error', text: listening ? `could not apply the new settings: ${next.error}` : `the proxy is not serving: ${next.error}` });

  const tls = next.tls;
  const before = previous.tls;
  if (tls && !tls.error && (!before || before.error || tls.urls.join() !== before.urls.join() || tls.fingerprint256 !== before.fingerprint256)) {
    lines.push({ level: 'info', text: `HTTPS on ${tls.urls.join('  ')}` });
    lines.push({ level: 'info', text: `Certificate ${tls.certFile}, SHA-256 fingerprint ${tls.fingerprint256}` });
  }
  if (tls?.error && tls.error !== before?.error) lines.push({ level: 'error', text: `HTTPS is off: ${tls.error}` });
  if (!tls && before && !before.error) lines.push({ level: 'info', text: 'HTTPS is off' });
  return lines;
}
