import * as v from 'valibot';
import { proxySettingsFields } from '../core/api-schemas.js';
import type { GateSettings } from '../core/settings.js';
import { type BackendSetting, DEFAULT_BACKEND_NAME } from '../shared/contract.js';
import { UsageError } from './command-line.js';

/** The Ollamas one run forwards to: the default (`upstream`) and the backends after it. */
export interface Upstreams {
  upstream: string;
  backends: BackendSetting[];
}

/** The longest backend name the settings take. */
const NAME_LENGTH = 40;

/** Names no backend may take (the schema refuses them): a derived name steps around them. */
const RESERVED = [DEFAULT_BACKEND_NAME, 'all'];

const EXAMPLE = 'http://127.0.0.1:11434';

/** `OLLAMA_GATE_UPSTREAM`'s comma-separated list, one value per Ollama. */
export function splitUpstreamList(text: string): string[] {
  return text.split(',');
}

/**
 * The Ollamas `serve --upstream` (repeated) or `OLLAMA_GATE_UPSTREAM` (a comma list) names, `by`
 * being whichever gave them. The first is the default, which has no name of its own; each further
 * one is `NAME=URL` or a bare URL named after its host (`gpu-box.lan`, then `gpu-box.lan-2`…).
 * Blank values are skipped; none left is undefined. A mistake is a UsageError of one line.
 */
export function parseUpstreams(values: readonly string[], by: string): Upstreams | undefined {
  const entries = values.map((value) => value.trim()).filter(Boolean);
  if (entries.length === 0) return undefined;
  const parsed = entries.map((entry) => ({ entry, ...splitName(entry) }));

  const first = parsed[0]!;
  if (first.name !== undefined) {
    const example = by.startsWith('--') ? `${by} ${EXAMPLE} ${by} big=http://10.0.0.7:11434` : `${by}=${EXAMPLE},big=http://10.0.0.7:11434`;
    throw new UsageError(`${by}: the first Ollama is the default and takes no name ("${first.name}="); name only the ones after it, as in ${example}`);
  }
  const urls = parsed.map(({ entry, name, url }) => checkedUrl(url, by, name === undefined ? undefined : { entry, name }));

  // Names given come first, so a name made from a host never takes one given later.
  const taken = new Set([...RESERVED, ...parsed.flatMap(({ name }, i) => (i > 0 && name !== undefined ? [name.trim().toLowerCase()] : []))]);
  const candidates: BackendSetting[] = parsed.slice(1).map(({ name }, i) => {
    const url = urls[i + 1]!;
    return { name: name ?? freeName(hostName(url), taken), url, enabled: true, weight: 1 };
  });

  const checked = v.safeParse(proxySettingsFields.backends, candidates);
  if (!checked.success) throw new UsageError(backendsMessage(checked.issues[0], parsed.slice(1), by));
  return { upstream: urls[0]!, backends: checked.output };
}

/**
 * `NAME=URL` apart; a value whose text before its first `=` holds a `:` or `/` is a URL (with `=` in
 * its query, say), not a name.
 */
function splitName(entry: string): { name?: string; url: string } {
  const named = /^([^=:/]*)=(.*)$/s.exec(entry);
  return named ? { name: named[1]!, url: named[2]!.trim() } : { url: entry };
}

/** The URL as the settings store it, or a UsageError naming the value. */
function checkedUrl(url: string, by: string, named: { entry: string; name: string } | undefined): string {
  const checked = v.safeParse(proxySettingsFields.upstream, url);
  if (checked.success) return checked.output;
  const what = named ? `${by} "${named.entry}": the URL after "${named.name}="` : by;
  throw new UsageError(`${what} must be an http(s) URL such as ${EXAMPLE}, not "${url}"`);
}

/** A name from the URL's host (`http://gpu-box.lan:11434` → `gpu-box.lan`), valid as a backend name. */
export function hostName(url: string): string {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const name = host
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, NAME_LENGTH);
  return name || 'ollama';
}

/** `base`, or `base-2`, `base-3`… when that is taken (ignoring case); the one returned is taken from then on. */
function freeName(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 2; taken.has(name.toLowerCase()); n++) {
    const suffix = `-${n}`;
    name = `${base.slice(0, NAME_LENGTH - suffix.length)}${suffix}`;
  }
  taken.add(name.toLowerCase());
  return name;
}

/** The schema's first complaint about the backends, in one line naming the value it is about. */
function backendsMessage(issue: v.BaseIssue<unknown>, given: ReadonlyArray<{ entry: string; name?: string }>, by: string): string {
  const [index, field] = (issue.path ?? []).map((item) => item.key);
  if (typeof index === 'number' && field === 'name') {
    const { entry, name } = given[index]!;
    return `${by} "${entry}": "${name}" is not a backend name: ${issue.message}`;
  }
  if (typeof index === 'number') return `${by} "${given[index]!.entry}": ${issue.message}`;
  if (issue.type === 'check') {
    // The list's own check: two names alike (names made from hosts never are).
    const names = given.map(({ name }) => name?.trim().toLowerCase());
    const twice = names.findIndex((name, i) => name !== undefined && names.indexOf(name) < i);
    if (twice >= 0) {
      const [first, second] = [given[names.indexOf(names[twice])]!.name!.trim(), given[twice]!.name!.trim()];
      const spelled = first === second ? `"${first}" twice` : `"${first}" and "${second}" (case does not count)`;
      return `${by} names two Ollamas ${spelled}: each needs a name of its own`;
    }
  }
  return `${by} gives ${given.length} Ollamas besides the default: ${issue.message}`;
}

/**
 * Where requests go, for serve's first line: the default's URL, and with enabled backends each of
 * them by name (`http://127.0.0.1:11434 (default), big http://10.0.0.7:11434`).
 */
export function forwardingTo(settings: Pick<GateSettings, 'upstream' | 'backends'>): string {
  const others = settings.backends.filter((backend) => backend.enabled);
  if (others.length === 0) return settings.upstream;
  return [`${settings.upstream} (${DEFAULT_BACKEND_NAME})`, ...others.map((backend) => `${backend.name} ${backend.url}`)].join(', ');
}
