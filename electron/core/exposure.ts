import { getText } from './http-get.js';

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
        return status === 200 && hasVersion(text) ? `${address}:${port}` : null;
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

/** Whether an answer is Ollama's `{"version": "..."}`, not just anything on that port. */
function hasVersion(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as { version?: unknown };
    return typeof parsed.version === 'string';
  } catch {
    return false;
  }
}
