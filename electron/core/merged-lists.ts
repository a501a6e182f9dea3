import { type Backend, modelKey } from './backends.js';
import { GateError } from './errors.js';
import { MODEL_LIST_MAX_BYTES, getText } from './http-get.js';
import type { GateSettings } from './settings.js';

/** How long one backend may take to list its models before the merge goes on without it. */
const LIST_TIMEOUT_MS = 10_000;

/** Where a list keeps its entries and what names each: Ollama's `{"models":[{"name"}]}`, OpenAI's `{"data":[{"id"}]}`. */
function shapeOf(path: string): { member: 'models' | 'data'; name: (entry: Record<string, unknown>) => unknown } {
  return path === '/v1/models' ? { member: 'data', name: (e) => e.id } : { member: 'models', name: (e) => e.name ?? e.model };
}

/**
 * One list from several backends' answers to the same list request (`/api/tags`, `/api/ps`,
 * `/v1/models`), in the backends' order: each model once, as the first backend lists it.
 * Undefined when none of the answers is a list the gate can read.
 */
export function mergeModelLists(path: string, bodies: readonly string[]): string | undefined {
  const { member, name } = shapeOf(path);
  const seen = new Set<string>();
  const merged: unknown[] = [];
  let readable = false;
  for (const body of bodies) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      continue;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) continue;
    const list = (parsed as Record<string, unknown>)[member];
    if (list !== null && !Array.isArray(list)) continue;
    readable = true;
    for (const entry of list ?? []) {
      const id = entry && typeof entry === 'object' ? name(entry as Record<string, unknown>) : undefined;
      if (typeof id !== 'string' || seen.has(modelKey(id))) continue;
      seen.add(modelKey(id));
      merged.push(entry);
    }
  }
  if (!readable) return undefined;
  return JSON.stringify(member === 'data' ? { object: 'list', data: merged } : { models: merged });
}

/**
 * Asks every backend that is up for the same model list, at once. Backends that fail or answer
 * anything but 200 are left out (one that refused the connection is skipped from now on); when
 * none answers, the first failure is the gate's answer.
 */
export async function fetchModelLists(
  backends: readonly Backend[],
  settings: GateSettings,
  pathAndQuery: string,
  headers: string[],
  /** aborted when the client has gone: the backends' requests end too */
  signal: AbortSignal,
): Promise<string[]> {
  const answers = await Promise.allSettled(
    backends.map(async (backend) => {
      const target = backend.target(settings);
      backend.inFlight++;
      try {
        const answer = await getText(new URL(target.basePath + pathAndQuery, target.origin), {
          timeoutMs: LIST_TIMEOUT_MS,
          dispatcher: target.pool,
          headers,
          signal,
          maxBytes: MODEL_LIST_MAX_BYTES,
        });
        if (answer.status !== 200) throw new GateError('upstream_model_list');
        return answer.text;
      } catch (error) {
        const failure = backend.failure(error);
        if (REFUSED.has(failure.code)) backend.refused();
        throw failure;
      } finally {
        backend.inFlight--;
      }
    }),
  );
  const bodies = answers.filter((a) => a.status === 'fulfilled').map((a) => a.value);
  if (bodies.length === 0) throw (answers[0] as PromiseRejectedResult | undefined)?.reason ?? new GateError('upstream_model_list');
  return bodies;
}

/**
 * Failures that say a backend is not there at all: it is skipped until a probe finds it again, and
 * a request it failed this way may go to another (it never got it). A connection reset is not one
 * of them: the backend may have read, and run, the whole request.
 */
export const REFUSED = new Set(['upstream_refused', 'upstream_host_unreachable', 'upstream_dns', 'upstream_connect_timeout']);
