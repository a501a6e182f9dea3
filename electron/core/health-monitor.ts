import type { Dispatcher } from 'undici';
import * as v from 'valibot';
import type { GateReason, HealthView, InstalledModel, LoadedModel } from '../shared/contract.js';
import { explain, upstreamError } from './errors.js';
import { Emitter } from './events.js';
import { findExposure } from './exposure.js';
import { MODEL_LIST_MAX_BYTES, getText } from './http-get.js';
import { lanAddresses } from './network.js';

/** One look at Ollama: is it there, which version, what is installed, what is loaded. */
export type HealthProbe = Omit<HealthView, 'checkedAt' | 'latency' | 'upstream' | 'exposedOn'>;

export type ProbeFunction = (upstream: string, timeoutMs: number) => Promise<HealthProbe>;

export interface HealthMonitorOptions {
  /** Ollama's base URL, read before every probe so a settings change is followed */
  upstream: () => string;
  /** between probes while Ollama answers */
  intervalMs?: number;
  /** the first retry after a failure; doubled on every failure in a row, up to maxBackoffMs */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** how long one probe may take */
  timeoutMs?: number;
  /** how far back the latency history goes */
  historyMs?: number;
  /**
   * the connections probes go through, read with the upstream before every probe: the gateway's
   * pool to Ollama; without it, the shared agent of http-get.ts
   */
  dispatcher?: () => Dispatcher;
  /** asks Ollama instead of probeOllama (tests) */
  probe?: ProbeFunction;
  /** where else this machine's Ollama answers; defaults to trying each LAN address */
  exposure?: (upstream: string) => Promise<string[]>;
  now?: () => number;
}

/** Whether Ollama also answers on a LAN address changes rarely: look again at most once a minute. */
const EXPOSURE_RECHECK_MS = 60_000;

/**
 * Polls Ollama in the background and reports changes only: reachability, version, installed and
 * loaded models, or the reason it is down. While Ollama is down it backs off (2 s, 4 s… up to
 * 30 s) so a stopped Ollama costs next to nothing. Latency is recorded on every probe but is not a
 * change by itself, or every probe would be one.
 */
export class HealthMonitor {
  private latest: HealthView | undefined;
  private signature = '';
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private inFlight: { upstream: string; promise: Promise<HealthView> } | undefined;
  /** numbers probes so only the newest one's answer becomes the state */
  private generation = 0;
  private history: HealthView['latency'] = [];
  private exposure: { upstream: string; at: number; addresses: string[] } | undefined;
  private readonly events = new Emitter<{ change: HealthView }>();
  private readonly probe: ProbeFunction;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly historyMs: number;

  constructor(private readonly options: HealthMonitorOptions) {
    this.intervalMs = options.intervalMs ?? 5_000;
    this.minBackoffMs = options.minBackoffMs ?? 2_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 3_000;
    this.historyMs = options.historyMs ?? 10 * 60_000;
    this.now = options.now ?? (() => Date.now());
    this.probe = options.probe ?? ((upstream, timeoutMs) => probeOllama(options.dispatcher?.(), upstream, timeoutMs));
  }

  /** Probes now and then keeps polling. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.check();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops polling and forgets its listeners: the end of this monitor. */
  close(): void {
    this.stop();
    this.events.clear();
  }

  current(): HealthView | undefined {
    return this.latest;
  }

  /**
   * The current state when it describes the upstream configured now and is less than `maxAgeMs`
   * old, else check(): however many ask at once, Ollama is probed at most once.
   */
  recent(maxAgeMs: number): Promise<HealthView> {
    const latest = this.latest;
    if (latest && latest.upstream === this.options.upstream() && this.now() - latest.checkedAt < maxAgeMs) return Promise.resolve(latest);
    return this.check();
  }

  /** Called with the new state whenever it changes (not on every probe). */
  onChange(listener: (health: HealthView) => void): () => void {
    return this.events.on('change', listener);
  }

  /**
   * Probes now (joining a probe already running for the same upstream) and restarts the polling
   * rhythm from here; an upstream that changed meanwhile is probed afresh.
   */
  check(): Promise<HealthView> {
    const upstream = this.options.upstream();
    if (this.inFlight?.upstream === upstream) return this.inFlight.promise;
    clearTimeout(this.timer);
    this.timer = undefined;
    const promise = this.run(upstream, ++this.generation);
    this.inFlight = { upstream, promise };
    return promise;
  }

  private async run(upstream: string, generation: number): Promise<HealthView> {
    let probe: HealthProbe;
    try {
      probe = await this.probe(upstream, this.timeoutMs);
    } catch (error) {
      probe = { ...DOWN, error: error instanceof Error ? error.message : String(error), reason: null };
    }
    const checkedAt = this.now();
    const exposedOn = probe.reachable ? await this.exposedOn(upstream, checkedAt) : [];
    const sample = { time: checkedAt, ms: probe.latencyMs };
    // A newer probe (another upstream) owns the state now; this answer only goes to its caller.
    if (generation !== this.generation) return { upstream, ...probe, exposedOn, checkedAt, latency: [sample] };

    this.inFlight = undefined;
    if (this.latest && this.latest.upstream !== upstream) this.history = [];
    this.history = [...this.history.filter((s) => s.time > checkedAt - this.historyMs), sample];
    const view: HealthView = { upstream, ...probe, exposedOn, checkedAt, latency: this.history };
    this.failures = view.reachable ? 0 : this.failures + 1;
    this.latest = view;
    // When a loaded model unloads is left out: Ollama moves it on every use, which is not news.
    const loaded = probe.loaded.map((m) => [m.name, m.size, m.sizeVram]);
    const signature = JSON.stringify([upstream, probe.reachable, probe.version, probe.error, probe.reason, probe.models, loaded, exposedOn]);
    if (signature !== this.signature) {
      this.signature = signature;
      this.events.emit('change', view);
    }
    this.schedule();
    return view;
  }

  private async exposedOn(upstream: string, now: number): Promise<string[]> {
    if (this.exposure?.upstream === upstream && now - this.exposure.at < EXPOSURE_RECHECK_MS) return this.exposure.addresses;
    const find = this.options.exposure ?? ((url: string) => findExposure(url, lanAddresses()));
    const addresses = await find(upstream).catch(() => []);
    this.exposure = { upstream, at: now, addresses };
    return addresses;
  }

  private schedule(): void {
    if (!this.running) return;
    const delay = this.failures === 0 ? this.intervalMs : Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** (this.failures - 1));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), delay);
    this.timer.unref?.();
  }
}

const DOWN: HealthProbe = { reachable: false, version: null, latencyMs: null, error: null, reason: null, models: [], loaded: [] };

const versionSchema = v.object({ version: v.string() });

// What Ollama says about its models is shown, not trusted: a field of the wrong type falls back
// (`v.fallback`) to "unknown" rather than losing the model, and a malformed list to no models.
/** a string, or null when missing or not a string */
const optionalText = v.fallback(v.nullish(v.string()), null);
/** a size in bytes, or 0 when missing or not a finite number (`v.number()` alone takes JSON's `1e999`) */
const bytes = v.fallback(v.pipe(v.number(), v.finite()), 0);

const details = v.fallback(
  v.nullish(
    v.object({
      family: optionalText,
      parameter_size: optionalText,
      quantization_level: optionalText,
    }),
  ),
  null,
);

const tagsSchema = v.object({
  models: v.fallback(
    v.array(
      v.object({
        name: v.string(),
        size: bytes,
        modified_at: optionalText,
        details,
      }),
    ),
    [],
  ),
});

const psSchema = v.object({
  models: v.fallback(
    v.array(
      v.object({
        name: v.string(),
        size: bytes,
        size_vram: bytes,
        expires_at: optionalText,
      }),
    ),
    [],
  ),
});

/**
 * Asks Ollama for `/api/version`, `/api/tags` and `/api/ps` at once. Only the version decides
 * whether it is reachable; a failing model list leaves that list empty. `dispatcher`: the
 * connections to use (the gateway's pool to Ollama), else the shared agent of http-get.ts.
 */
export async function probeOllama(dispatcher: Dispatcher | undefined, upstream: string, timeoutMs: number): Promise<HealthProbe> {
  const base = new URL(upstream);
  const basePath = base.pathname.replace(/\/+$/, '');
  const get = async (path: string, maxBytes?: number): Promise<{ status: number; json: unknown; ms: number }> => {
    const started = performance.now();
    const { status, text } = await getText(new URL(`${basePath}${path}`, base.origin), { timeoutMs, dispatcher, maxBytes });
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: the caller sees null
    }
    return { status, json, ms: Math.round((performance.now() - started) * 100) / 100 };
  };

  const [version, tags, ps] = await Promise.allSettled([get('/api/version'), get('/api/tags', MODEL_LIST_MAX_BYTES), get('/api/ps', MODEL_LIST_MAX_BYTES)]);
  if (version.status === 'rejected') return { ...DOWN, ...probeFailure(version.reason, upstream, timeoutMs) };
  const parsedVersion = v.safeParse(versionSchema, version.value.json);
  if (version.value.status !== 200 || !parsedVersion.success) {
    const { text, reason } =
      version.value.status !== 200
        ? explain('ollama_bad_status', { url: upstream, status: version.value.status })
        : explain('ollama_no_version', { url: upstream });
    return { ...DOWN, latencyMs: version.value.ms, error: text, reason };
  }
  return {
    reachable: true,
    version: parsedVersion.output.version,
    latencyMs: version.value.ms,
    error: null,
    reason: null,
    models: tags.status === 'fulfilled' && tags.value.status === 200 ? installedModels(tags.value.json) : [],
    loaded: ps.status === 'fulfilled' && ps.value.status === 200 ? loadedModels(ps.value.json) : [],
  };
}

/** Why a probe got no answer, in words and as a reason: our own timeout, or the transport error mapped once in errors.ts. */
function probeFailure(error: unknown, url: string, timeoutMs: number): { error: string; reason: GateReason } {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    const { text, reason } = explain('ollama_timeout', { ms: timeoutMs, url });
    return { error: text, reason };
  }
  const failure = upstreamError(error, url);
  return { error: failure.message, reason: failure.reason };
}

function installedModels(json: unknown): InstalledModel[] {
  const parsed = v.safeParse(tagsSchema, json);
  if (!parsed.success) return [];
  return parsed.output.models
    .map((m) => ({
      name: m.name,
      size: m.size,
      family: m.details?.family ?? null,
      parameterSize: m.details?.parameter_size ?? null,
      quantization: m.details?.quantization_level ?? null,
      modifiedAt: m.modified_at ?? null,
    }))
    .sort(byName);
}

function loadedModels(json: unknown): LoadedModel[] {
  const parsed = v.safeParse(psSchema, json);
  if (!parsed.success) return [];
  return parsed.output.models.map((m) => ({ name: m.name, size: m.size, sizeVram: m.size_vram, expiresAt: m.expires_at ?? null })).sort(byName);
}

/**
 * Model names are ASCII tags: code-unit order sorts them as well as a collator would, without
 * loading ICU's collation data (about 3 MB of RSS) into a gate that probes every few seconds.
 */
function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
