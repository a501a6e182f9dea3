import { afterEach, describe, expect, it } from 'vitest';
import type { BackendSetting } from '../shared/contract.js';
import { BackendSet, chooseBackend, modelKey, routingModel } from './backends.js';
import { type HealthProbe, HealthMonitor } from './health-monitor.js';
import { type GateSettings, staticSettings } from './settings.js';

/** What each fake backend's probe answers, by URL: a test changes it and probes again. */
const probes = new Map<string, HealthProbe>();
let now = 1_000;

function up(models: string[], loaded: string[] = []): HealthProbe {
  return {
    reachable: true,
    version: '0.12.6',
    latencyMs: 1,
    error: null,
    reason: null,
    models: models.map((name) => ({ name, size: 1, family: null, parameterSize: null, quantization: null, modifiedAt: null })),
    loaded: loaded.map((name) => ({ name, size: 1, sizeVram: 1, expiresAt: null })),
  };
}
const DOWN: HealthProbe = { reachable: false, version: null, latencyMs: null, error: 'refused', reason: null, models: [], loaded: [] };

const monitor = (url: () => string) =>
  new HealthMonitor({ upstream: url, probe: async (u) => probes.get(u) ?? DOWN, exposure: async () => [], now: () => now });

const backend = (name: string, weight = 1, enabled = true): BackendSetting => ({ name, url: `http://${name}:11434`, enabled, weight });

function setOf(settings: Partial<GateSettings>): { set: BackendSet; settings: { current(): GateSettings; replace(s: Partial<GateSettings>): void } } {
  let current = staticSettings({ upstream: 'http://default:11434', ...settings }).current();
  const provider = { current: () => current, replace: (s: Partial<GateSettings>) => (current = { ...current, ...s }) };
  const set = new BackendSet({
    settings: provider,
    defaultMonitor: monitor(() => provider.current().upstream),
    createMonitor: (url) => monitor(() => url),
    now: () => now,
  });
  return { set, settings: provider };
}

/** Probes every backend once, as the monitors do on their own every few seconds. */
async function probeAll(set: BackendSet): Promise<void> {
  now += 10;
  await Promise.all(set.all().map((b) => b.monitor.check()));
}

const sets: BackendSet[] = [];
afterEach(async () => {
  probes.clear();
  for (const set of sets.splice(0)) await set.close();
});

function make(settings: Partial<GateSettings>) {
  const made = setOf(settings);
  sets.push(made.set);
  return made;
}

describe('modelKey', () => {
  it('names a model as Ollama matches it: tag :latest when none, any case, the default registry optional', () => {
    expect(modelKey('llama3.2')).toBe('llama3.2:latest');
    expect(modelKey('Llama3.2:LATEST')).toBe('llama3.2:latest');
    expect(modelKey('registry.ollama.ai/library/qwen2.5:7b')).toBe('qwen2.5:7b');
    expect(modelKey('hf.co/org/model')).toBe('hf.co/org/model:latest');
    expect(modelKey('localhost:5000/team/model')).toBe('localhost:5000/team/model:latest');
    expect(modelKey('localhost:5000/team/model:q4')).toBe('localhost:5000/team/model:q4');
  });
});

describe('routingModel', () => {
  it('routes by model only what runs or describes one; everything else names none', () => {
    for (const path of ['/api/chat', '/api/generate', '/api/embed', '/api/embeddings', '/api/show', '/v1/chat/completions', '/v1/embeddings'])
      expect(routingModel('phi3', path)).toBe('phi3');
    expect(routingModel(null, '/v1/models/qwen2.5:7b')).toBe('qwen2.5:7b');
    expect(routingModel('phi3', '/v1/models/')).toBeNull();
    for (const path of ['/api/pull', '/api/create', '/api/copy', '/api/delete', '/api/push', '/api/signout', '/api/version', '/api/blobs/sha256:00'])
      expect(routingModel('phi3', path)).toBeNull();
  });
});

describe('BackendSet.named (X-Gate-Backend)', () => {
  it('finds an enabled backend in any case, and refuses an unknown, disabled or repeated name with the names in use', () => {
    const { set } = make({ backends: [backend('big'), backend('off', 1, false)] });
    expect(set.named(undefined)).toBeUndefined();
    expect(set.named('BIG')?.name).toBe('big');
    expect(set.named('Default')).toBe(set.default);
    for (const header of ['off', 'nope', ['big', 'big']])
      expect(() => set.named(header)).toThrow(
        expect.objectContaining({ code: 'backend_unknown', status: 400, params: expect.objectContaining({ names: 'default, big' }) }),
      );
  });
});

describe('chooseBackend', () => {
  it('sends a model to the backend that has it installed, and a request naming none to the default', async () => {
    const { set } = make({ backends: [backend('big'), backend('small')] });
    probes.set('http://default:11434', up(['llama3.2:latest']));
    probes.set('http://big:11434', up(['qwen2.5:72b']));
    probes.set('http://small:11434', up(['phi3:latest']));
    await probeAll(set);
    expect(set.route('qwen2.5:72b')?.name).toBe('big');
    expect(set.route('PHI3')?.name).toBe('small');
    expect(set.route('llama3.2')?.name).toBe('default');
    expect(set.route(null)?.name).toBe('default');
  });

  it('prefers where the model is loaded, then the fewest requests in flight, then the heavier, then the earlier', async () => {
    const { set } = make({ backends: [backend('a', 1), backend('b', 5)] });
    for (const url of ['http://default:11434', 'http://a:11434', 'http://b:11434']) probes.set(url, up(['m:latest']));
    await probeAll(set);
    const [dflt, a, b] = set.all();
    // all equal but the weight: the heaviest
    expect(set.route('m')).toBe(b);
    // busier: b has 2 in flight, a and the default 1 each; equal weight between those two: the earlier (the default)
    b!.inFlight = 2;
    a!.inFlight = 1;
    dflt!.inFlight = 1;
    expect(set.route('m')).toBe(dflt);
    dflt!.inFlight = 3;
    expect(set.route('m')).toBe(a);
    // loaded wins over load
    probes.set('http://b:11434', up(['m:latest'], ['m:latest']));
    await probeAll(set);
    expect(set.route('m')).toBe(b);
  });

  it('sends a model nobody has to the default (its own 404), or to the first one up when the default is down', async () => {
    const { set } = make({ backends: [backend('a'), backend('b')] });
    probes.set('http://default:11434', up([]));
    probes.set('http://a:11434', up(['x:latest']));
    probes.set('http://b:11434', up([]));
    await probeAll(set);
    expect(set.route('nobody-has-it')?.name).toBe('default');
    probes.delete('http://default:11434');
    await probeAll(set);
    expect(set.route('nobody-has-it')?.name).toBe('a');
    // a request naming no model has nowhere else to go
    expect(set.route(null)).toBeUndefined();
  });

  it('leaves out disabled backends, those down, and the one to exclude (after it failed)', async () => {
    const { set } = make({ backends: [backend('off', 100, false), backend('down', 100), backend('on', 2)] });
    for (const url of ['http://default:11434', 'http://off:11434', 'http://on:11434']) probes.set(url, up(['m:latest']));
    await probeAll(set);
    const on = set.byName('on')!;
    expect(set.route('m')).toBe(on);
    expect(set.route('m', on)?.name).toBe('default');
    expect(chooseBackend(set.all(), 'm', on)?.name).toBe('default');
    expect(set.byName('off')).toBeUndefined();
    expect(set.byName('ON')).toBe(on);
  });

  it('skips a backend that refused a connection until a probe after that finds it again', async () => {
    const { set } = make({ backends: [backend('a', 10)] });
    probes.set('http://default:11434', up(['m:latest']));
    probes.set('http://a:11434', up(['m:latest']));
    await probeAll(set);
    const a = set.byName('a')!;
    expect(set.route('m')).toBe(a);
    now += 10;
    probes.set('http://a:11434', DOWN);
    a.refused();
    expect(a.skipped).toBe(true);
    expect(set.route('m')?.name).toBe('default');
    await a.monitor.check();
    expect(set.route('m')?.name).toBe('default');
    probes.set('http://a:11434', up(['m:latest']));
    await probeAll(set);
    expect(a.skipped).toBe(false);
    expect(set.route('m')).toBe(a);
  });
});

describe('BackendSet follows the settings', () => {
  it('adds, keeps, changes and removes backends as the settings say, and tells its listeners', async () => {
    const { set, settings } = make({ backends: [backend('a')] });
    const a = set.byName('a')!;
    let changes = 0;
    set.onChange(() => changes++);
    expect(set.several).toBe(true);
    settings.replace({ backends: [{ ...backend('a'), weight: 7 }, backend('b')] });
    expect(set.byName('a')).toBe(a); // same URL: the same backend, its connections kept
    expect(a.setting.weight).toBe(7);
    expect(set.all().map((b) => b.name)).toEqual(['default', 'a', 'b']);
    settings.replace({ backends: [{ ...backend('a'), url: 'http://elsewhere:11434' }] });
    expect(set.byName('a')).not.toBe(a);
    expect(set.byName('b')).toBeUndefined();
    settings.replace({ backends: [{ ...backend('a'), enabled: false }] });
    expect(set.several).toBe(false);
    expect(changes).toBe(3);
    expect(set.views().map((v) => [v.name, v.isDefault, v.enabled])).toEqual([
      ['default', true, true],
      ['a', false, false],
    ]);
  });

  it("with no other backend, has only the default, whose URL is the settings' upstream", () => {
    const { set, settings } = make({});
    expect(set.several).toBe(false);
    expect(set.all()).toHaveLength(1);
    settings.replace({ upstream: 'http://moved:11434' });
    expect(set.default.setting.url).toBe('http://moved:11434');
  });
});
