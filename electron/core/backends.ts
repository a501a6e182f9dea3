import type { Dispatcher } from 'undici';
import { type BackendSetting, type BackendView, DEFAULT_BACKEND_NAME, type HealthView } from '../shared/contract.js';
import { GateError, upstreamError } from './errors.js';
import { Emitter } from './events.js';
import type { HealthMonitor } from './health-monitor.js';
import type { GateSettings, SettingsProvider } from './settings.js';
import { UpstreamPool, type UpstreamTarget } from './upstream.js';

/**
 * How Ollama names a model, for comparing names: `llama3.2` is `llama3.2:latest`, case does not
 * matter, and the default registry's prefix (`registry.ollama.ai/library/`) may be left out.
 */
export function modelKey(name: string): string {
  let key = name.trim().toLowerCase();
  if (key.startsWith('registry.ollama.ai/library/')) key = key.slice('registry.ollama.ai/library/'.length);
  const tagAt = key.lastIndexOf(':');
  return tagAt > key.lastIndexOf('/') ? key : `${key}:latest`;
}

/** What its last probe says a backend has: installed and loaded models, by modelKey. */
class Inventory {
  readonly installed: Set<string>;
  readonly loaded: Set<string>;

  constructor(readonly health: HealthView) {
    this.installed = new Set(health.models.map((m) => modelKey(m.name)));
    this.loaded = new Set(health.loaded.map((m) => modelKey(m.name)));
  }
}

/** One Ollama the gate forwards to: its connections, its health monitor and its load. */
export class Backend {
  /** requests sent to it whose answer is not over */
  inFlight = 0;
  /** when it last refused a connection: it gets no requests until a probe after that finds it up */
  private refusedAt: number | null = null;
  private inventory: Inventory | undefined;
  private readonly pool = new UpstreamPool();

  constructor(
    /** its setting now: the default's URL is the settings' upstream, read whenever it is used */
    private settingNow: () => BackendSetting,
    readonly isDefault: boolean,
    readonly monitor: HealthMonitor,
    private readonly now: () => number,
  ) {}

  get setting(): BackendSetting {
    return this.settingNow();
  }

  /** Its name, weight or switch changed (a new URL makes a new backend). */
  update(setting: BackendSetting): void {
    this.settingNow = () => setting;
  }

  get name(): string {
    return this.setting.name;
  }

  /**
   * How an error a client gets names it: the default by its URL (as with one Ollama, the gate's own
   * machine's as a rule), any other by its name, so a key holder never learns the address of a
   * machine that should take requests from the gate alone.
   */
  get shownAs(): string {
    return this.isDefault ? this.setting.url : `backend "${this.name}"`;
  }

  /** The gate's error for a failure reaching it, named as `shownAs` says (and without a message that could name its host). */
  failure(error: unknown): GateError {
    return upstreamError(error, this.shownAs, this.isDefault);
  }

  /** Its connections, as the settings' timeouts say. */
  target(settings: GateSettings): UpstreamTarget {
    return this.pool.target(settings, this.setting.url);
  }

  /** Up as far as the gate knows: its last probe found it (or there was none yet), and it has not refused a connection since. */
  get up(): boolean {
    const health = this.monitor.current();
    if (this.refusedAt !== null) {
      if (!health?.reachable || health.checkedAt <= this.refusedAt) return false;
      this.refusedAt = null;
    }
    return health?.reachable !== false;
  }

  get skipped(): boolean {
    return this.refusedAt !== null && !this.up;
  }

  /** It refused a connection: skip it until a probe finds it again (one starts now). */
  refused(): void {
    this.refusedAt = this.now();
    void this.monitor.check();
  }

  has(model: string): boolean {
    return this.models()?.installed.has(modelKey(model)) ?? false;
  }

  hasLoaded(model: string): boolean {
    return this.models()?.loaded.has(modelKey(model)) ?? false;
  }

  view(): BackendView {
    const { name, url, enabled, weight } = this.setting;
    return {
      name,
      url,
      isDefault: this.isDefault,
      enabled,
      weight,
      inFlight: this.inFlight,
      skipped: this.skipped,
      health: enabled ? (this.monitor.current() ?? null) : null,
    };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private models(): Inventory | undefined {
    const health = this.monitor.current();
    if (!health) return undefined;
    if (this.inventory?.health !== health) this.inventory = new Inventory(health);
    return this.inventory;
  }
}

/** Routes that run or describe a model, and go to a backend that has it. */
const RUNS_A_MODEL = new Set(['/api/chat', '/api/generate', '/api/embed', '/api/embeddings', '/api/show']);

/** The model a request runs, where routing looks for it: its body's, or the one `/v1/models/NAME` names; null for any other route. */
export function routingModel(bodyModel: string | null, path: string): string | null {
  if (path.startsWith('/v1/models/')) return path.slice('/v1/models/'.length) || null;
  return RUNS_A_MODEL.has(path) || path.startsWith('/v1/') ? bodyModel : null;
}

/** Requests that change which models a backend has: its list is probed again once one succeeds. */
export const MODEL_CHANGING_PATHS = new Set(['/api/pull', '/api/create', '/api/copy', '/api/delete']);

/**
 * Picks the backend for a request that names `model` (null: names none), among those enabled and
 * up, `exclude` left out (the one that just failed it):
 * - no model: the default;
 * - one that has the model installed: loaded first, then the fewest requests in flight, then the
 *   heaviest, then the earliest in the list (the default is first);
 * - none has it: the default, whose own 404 the client gets (or, the default down, the first up).
 * Undefined when none is up but `exclude`, or when nothing but the default would do and it is down.
 */
export function chooseBackend(backends: readonly Backend[], model: string | null, exclude?: Backend): Backend | undefined {
  const usable = backends.filter((b) => b !== exclude && b.setting.enabled && b.up);
  const fallback = usable.find((b) => b.isDefault) ?? usable[0];
  if (model === null) return usable.find((b) => b.isDefault);
  let best: Backend | undefined;
  for (const candidate of usable) {
    if (!candidate.has(model)) continue;
    if (!best || better(candidate, best, model)) best = candidate;
  }
  return best ?? fallback;
}

function better(a: Backend, b: Backend, model: string): boolean {
  const loadedA = a.hasLoaded(model);
  if (loadedA !== b.hasLoaded(model)) return loadedA;
  if (a.inFlight !== b.inFlight) return a.inFlight < b.inFlight;
  return a.setting.weight > b.setting.weight;
}

export interface BackendSetOptions {
  settings: SettingsProvider;
  /** the default backend's monitor: the gateway's health */
  defaultMonitor: HealthMonitor;
  /** a monitor for another backend, probing `url` through `dispatcher` */
  createMonitor(url: string, dispatcher: () => Dispatcher): HealthMonitor;
  now: () => number;
}

/**
 * The Ollamas the gate forwards to: the default (`upstream`) and the settings' `backends`, kept in
 * step with the settings on every request (a reference comparison when nothing changed). Each has
 * its own connections and health monitor; a removed or changed one is closed.
 */
export class BackendSet {
  readonly default: Backend;
  private others: Backend[] = [];
  private seen: BackendSetting[] | undefined;
  private seenSignature = '[]';
  private running = false;
  private readonly events = new Emitter<{ change: undefined }>();
  private readonly stopWatching: Array<() => void> = [];

  constructor(private readonly options: BackendSetOptions) {
    const defaultSetting = (): BackendSetting => ({ name: DEFAULT_BACKEND_NAME, url: options.settings.current().upstream, enabled: true, weight: 1 });
    this.default = new Backend(defaultSetting, true, options.defaultMonitor, options.now);
    this.stopWatching.push(options.defaultMonitor.onChange(() => this.changed()));
  }

  /** Every backend, the default first, then the others in the settings' order (disabled ones too). */
  all(): readonly Backend[] {
    this.sync();
    return [this.default, ...this.others];
  }

  /** Whether any backend beside the default may get requests: without one, everything goes to the default, as with one Ollama. */
  get several(): boolean {
    this.sync();
    return this.others.some((b) => b.setting.enabled);
  }

  /** An enabled backend by name, in any case (`default` included). */
  byName(name: string): Backend | undefined {
    const wanted = name.trim().toLowerCase();
    return this.all().find((b) => b.setting.enabled && b.name.toLowerCase() === wanted);
  }

  /**
   * The backend a client named (the X-Gate-Backend header), if it named one; a name not in use (or
   * a header given twice) is refused, with the names that are.
   */
  named(header: string | string[] | undefined): Backend | undefined {
    if (header === undefined) return undefined;
    const backend = typeof header === 'string' ? this.byName(header) : undefined;
    if (backend) return backend;
    const names = this.all()
      .filter((b) => b.setting.enabled)
      .map((b) => b.name)
      .join(', ');
    throw new GateError('backend_unknown', { name: String(header), names });
  }

  route(model: string | null, exclude?: Backend): Backend | undefined {
    return chooseBackend(this.all(), model, exclude);
  }

  /** Enabled backends that are up, the default first: the ones a model list is merged from. */
  upNow(): Backend[] {
    return this.all().filter((b) => b.setting.enabled && b.up);
  }

  views(): BackendView[] {
    return this.all().map((b) => b.view());
  }

  /** Called when a backend's state, models or settings change (not for load alone). */
  onChange(listener: () => void): () => void {
    return this.events.on('change', listener);
  }

  /** Starts the other backends' monitors (the default's is the gateway's, started by the service). */
  start(): void {
    this.running = true;
    for (const backend of this.all()) if (!backend.isDefault && backend.setting.enabled) backend.monitor.start();
  }

  stop(): void {
    this.running = false;
    for (const backend of this.others) backend.monitor.stop();
  }

  /** Closes every backend's connections (the gate stopped); they open again when next used. */
  async closeConnections(): Promise<void> {
    await Promise.all([this.default, ...this.others].map((b) => b.close()));
  }

  /** The end of these backends: monitors closed (the default's is the gateway's to close), connections too. */
  async close(): Promise<void> {
    this.stop();
    for (const stop of this.stopWatching) stop();
    const closing = [this.default, ...this.others];
    this.others = [];
    for (const backend of closing) if (!backend.isDefault) backend.monitor.close();
    await Promise.all(closing.map((b) => b.close()));
  }

  private changed(): void {
    this.events.emit('change', undefined);
  }

  private sync(): void {
    const list = this.options.settings.current().backends;
    if (list === this.seen) return;
    this.seen = list;
    const signature = JSON.stringify(list);
    if (signature === this.seenSignature) return;
    this.seenSignature = signature;
    const previous = new Map(this.others.map((b) => [b.name, b]));
    this.others = list.map((setting) => {
      const kept = previous.get(setting.name);
      if (kept && kept.setting.url === setting.url) {
        previous.delete(setting.name);
        kept.update(setting);
        if (setting.enabled && this.running) kept.monitor.start();
        if (!setting.enabled) kept.monitor.stop();
        return kept;
      }
      return this.create(setting);
    });
    for (const gone of previous.values()) {
      gone.monitor.close();
      void gone.close();
    }
    this.changed();
  }

  private create(setting: BackendSetting): Backend {
    // The monitor probes through the backend's own connections, made once the backend exists.
    const monitor = this.options.createMonitor(setting.url, () => backend.target(this.options.settings.current()).pool);
    const backend = new Backend(() => setting, false, monitor, this.options.now);
    monitor.onChange(() => this.changed());
    if (setting.enabled && this.running) monitor.start();
    return backend;
  }
}
