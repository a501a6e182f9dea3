/**
 * One health monitor for the gateway's `GET /health` and the window: both read the same probe, and
 * however many ask at once, Ollama is asked once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../test/support/fake-ollama.js';
import { MemoryDocument } from '../../test/support/memory-document.js';
import type { GateResult, HealthView } from '../shared/contract.js';
import { GateStore } from './gate-store.js';
import { type Gateway, createGateway } from './gateway.js';
import { type GateService, createGateService } from './service.js';

function ok<T>(result: GateResult<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result.value;
}

interface HealthBody {
  status: string;
  ollama: { reachable: boolean; version: string | null; latency_ms: number | null; checked_at: string };
}

let fake: FakeOllama;
let gateway: Gateway;
let service: GateService;
let url: string;
/** the gate's clock: moved by hand, so "within the cache window" is exact */
let time = Date.UTC(2025, 0, 1);

afterEach(async () => {
  await service.close();
  await fake.close();
});

async function start(clock: { now(): number }): Promise<void> {
  fake = await startFakeOllama({ version: '0.12.6' });
  const store = new GateStore(new MemoryDocument(), { host: '127.0.0.1', port: 0, upstream: fake.url });
  gateway = createGateway({ keys: store, settings: store, clock, exposureAddresses: () => [] });
  service = createGateService({
    gateway,
    store,
    clock,
    app: { name: 'Ollama Gate', version: '0', host: 'headless', platform: 'linux', versions: {}, dataDir: '', logsDir: '' },
  });
  url = ok(await service.call('proxy.start')).urls[0]!;
}

/** How often Ollama was asked for its version on its configured address. */
const versionProbes = () => fake.requests.filter((r) => r.path === '/api/version').length;

const getHealth = async (): Promise<HealthBody> => (await (await fetch(`${url}/health`)).json()) as HealthBody;

/** What /health says of Ollama, as the window's view would say it. */
const sameProbe = (view: HealthView) => ({
  reachable: view.reachable,
  version: view.version,
  latency_ms: view.latencyMs,
  checked_at: new Date(view.checkedAt).toISOString(),
});

describe('Ollama health, shared by /health and the window', () => {
  it('serves /health and the window from one probe within the cache window, and both follow the next one', async () => {
    await start({ now: () => time });
    const window = ok(await service.call('health.check'));
    expect(versionProbes()).toBe(1);
    // Within a second of the window's probe, /health answers with it: Ollama is not asked again.
    time += 999;
    expect((await getHealth()).ollama).toEqual(expect.objectContaining(sameProbe(window)));
    expect(versionProbes()).toBe(1);

    // Past it, /health probes, and the window sees that very probe without asking Ollama itself.
    time += 1;
    const fresh = (await getHealth()).ollama;
    expect(versionProbes()).toBe(2);
    expect(fresh.checked_at).toBe(new Date(time).toISOString());
    const view = ok(await service.call('health.get'));
    expect(fresh).toEqual(expect.objectContaining(sameProbe(view)));
    expect(view.latency).toHaveLength(2);
    expect(versionProbes()).toBe(2);
  });

  it('answers a burst of 50 /health calls with one probe of Ollama', async () => {
    await start({ now: () => Date.now() });
    const answers = await Promise.all(Array.from({ length: 50 }, () => fetch(`${url}/health`)));
    const bodies = await Promise.all(answers.map(async (res) => ({ status: res.status, body: (await res.json()) as HealthBody })));
    expect(bodies.every(({ status, body }) => status === 200 && body.ollama.version === '0.12.6')).toBe(true);
    expect(new Set(bodies.map(({ body }) => body.ollama.checked_at)).size).toBe(1);
    expect(versionProbes()).toBe(1);
    // One probe is one look at each of Ollama's state endpoints.
    expect(fake.requests.map((r) => r.path).sort()).toEqual(['/api/ps', '/api/tags', '/api/version']);
  });
});
