/**
 * A client's User-Agent, shortened to a name a person recognises in a narrow column:
 * `ollama-js/0.6.3 (x64 linux Node.js/v20.19.0)` → `ollama-js 0.6`, `OpenAI/JS 6.49.0` →
 * `OpenAI/JS 6.49`, a browser's long string → `Chrome 120`. The full header stays in the details.
 */

/** Browsers, most specific first: Edge and Opera also say Chrome, and Chrome also says Safari. */
const BROWSERS: ReadonlyArray<[RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/\bOPR\/(\d+)/, 'Opera'],
  [/\bFirefox\/(\d+)/, 'Firefox'],
  [/\bChrom(?:e|ium)\/(\d+)/, 'Chrome'],
  [/\bVersion\/(\d+(?:\.\d+)?)\b.*\bSafari\//, 'Safari'],
];

/** The longest name shown; anything longer is a made-up header, cut. */
const MAX_NAME = 32;

/** `8.5.0` → `8.5`, `v20` → `20`, `go1.23.4` → `1.23`. */
function majorMinor(version: string): string | null {
  const match = /^(?:v|go)?(\d+)(?:\.(\d+))?/i.exec(version);
  if (!match) return null;
  return match[2] === undefined ? match[1]! : `${match[1]}.${match[2]}`;
}

function cut(name: string): string {
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 1)}…` : name;
}

export function shortClientName(userAgent: string | null): string | null {
  const ua = userAgent?.trim();
  if (!ua) return null;
  if (ua.startsWith('Mozilla/')) {
    for (const [pattern, name] of BROWSERS) {
      const match = pattern.exec(ua);
      if (match) return `${name} ${match[1]}`;
    }
  }
  const [first = '', second = ''] = ua.split(/\s+/);
  const slash = first.indexOf('/');
  if (slash > 0) {
    // product/version: curl/8.5.0, ollama-js/0.6.3, python-requests/2.31.0
    const version = majorMinor(first.slice(slash + 1));
    if (version !== null) return `${cut(first.slice(0, slash))} ${version}`;
    // vendor/product version: OpenAI/JS 6.49.0, OpenAI/Python 1.30.1
    const next = majorMinor(second);
    if (next !== null) return `${cut(first)} ${next}`;
  }
  return cut(first.replace(/[;,]$/, ''));
}
