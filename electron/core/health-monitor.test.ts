import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeOllama } from '../../test/support/fake-ollama.js';
import type { HealthView } from '../shared/contract.js';
import { type HealthProbe, HealthMonitor } from './health-monitor.js';

const UP: HealthProbe = { reachable: true, version: '0.12.6', latencyMs: 3, error: null, reason: null, models: [], loaded: [] };
const DOWN: HealthProbe = { reachable: false, version: null, latencyMs: null, error: 'Ollama is not running', reason: null, models: [], loaded: [] };

/** Lets the probe's promise and the monitor's bookkeeping run between fake timer steps. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe('HealthMonitor schedule (fake timers, scripted probe)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('backs off from 2 s to 30 s while Ollama is down, then polls every 5 s once it is back', async () => {
    vi.useFakeTimers();
    let answer = DOWN;
    const probeTimes: number[] = [];
    const started = Date.now();
    const monitor = new HealthMonitor({
      upstream: () => 'http://127.0.0.1:11434',
      probe: async () => {
        probeTimes.push(Date.now() - started);
        return answer;
      },
    });
    monitor.start();
    await settle();
    await vi.advanceTimersByTimeAsync(2_000 + 4_000 + 8_000 + 16_000 + 30_000 + 30_000);
    expect(probeTimes).toEqual([0, 2_000, 6_000, 14_000, 30_000, 60_000, 90_000]);

    answer = UP;
    await vi.advanceTimersByTimeAsync(30_000);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(probeTimes.slice(7)).toEqual([120_000, 125_000, 130_000, 135_000]);
    monitor.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(probeTimes).toHaveLength(11);
  });

  it('reports changes only: not a repeated state, not a new latency', async () => {
    vi.useFakeTimers();
    const answers: HealthProbe[] = [DOWN, DOWN, { ...UP, latencyMs: 1 }, { ...UP, latencyMs: 9 }, { ...UP, version: '0.13.0' }, DOWN];
    const monitor = new HealthMonitor({
      upstream: () => 'http://ollama:11434',
      probe: async () => answers.shift() ?? DOWN,
      intervalMs: 1_000,
      minBackoffMs: 1_000,
    });
    const seen: HealthView[] = [];
    monitor.onChange((health) => seen.push(health));
    monitor.start();
    await settle();
    // probes at 0 and 1 s (down), 3 s (backed off 2 s), then every second: 4, 5 and 6 s
    await vi.advanceTimersByTimeAsync(6_000);
    expect(seen.map((h) => [h.reachable, h.version])).toEqual([
      [false, null],
      [true, '0.12.6'],
      [true, '0.13.0'],
      [false, null],
    ]);
    // Every probe is in the latency history, changed or not.
    expect(monitor.current()!.latency.map((s) => s.ms)).toEqual([null, null, 1, 9, 3, null]);
    monitor.stop();
  });

  it('follows a new upstream at once and ignores the answer of a probe that was overtaken', async () => {
    let upstream = 'http://old:11434';
    const pending: Array<(probe: HealthProbe) => void> = [];
    const monitor = new HealthMonitor({ upstream: () => upstream, probe: () => new Promise((resolve) => pending.push(resolve)) });
    const seen: HealthView[] = [];
    monitor.onChange((health) => seen.push(health));
    const first = monitor.check();
    expect(monitor.check()).toBe(first); // joins the probe in flight
    upstream = 'http://new:11434';
    const second = monitor.check();
    expect(pending).toHaveLength(2);
    pending[1]!({ ...UP, version: 'new' });
    pending[0]!({ ...UP, version: 'old' });
    expect((await second).version).toBe('new');
    expect((await first).version).toBe('old');
    expect(monitor.current()).toMatchObject({ upstream: 'http://new:11434', version: 'new' });
    expect(seen.map((h) => h.version)).toEqual(['new']);
  });

  it('turns a probe that throws into a down state with its message', async () => {
    const monitor = new HealthMonitor({
      upstream: () => 'http://x',
      probe: async () => {
        throw new Error('boom');
      },
    });
    expect(await monitor.check()).toMatchObject({ reachable: false, error: 'boom', models: [], loaded: [] });
  });
});

describe('HealthMonitor against a real (fake) Ollama', () => {
  it('reads the version, the installed models and the loaded ones', async () => {
    const fake = await startFakeOllama({ version: '0.12.6' });
    const monitor = new HealthMonitor({ upstream: () => fake.url, timeoutMs: 2_000 });
    try {
      const first = await monitor.check();
      expect(first).toMatchObject({ upstream: fake.url, reachable: true, version: '0.12.6', error: null, loaded: [] });
      expect(first.latencyMs).toBeGreaterThan(0);
      expect(first.models.map((m) => m.name)).toEqual(['all-minilm:latest', 'llama3.2:latest', 'qwen2.5:7b']);
      expect(first.models[1]).toMatchObject({ size: 2019393189, family: 'llama', parameterSize: '3.2B', quantization: 'Q4_K_M' });

      const changes: HealthView[] = [];
      monitor.onChange((health) => changes.push(health));
      await fetch(`${fake.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'llama3.2', prompt: 'hi', stream: false }) }).then((r) =>
        r.text(),
      );
      const second = await monitor.check();
      expect(second.loaded).toEqual([expect.objectContaining({ name: 'llama3.2:latest', size: 2019393189, sizeVram: 2019393189 })]);
      expect(changes).toHaveLength(1);
      await monitor.check();
      expect(changes).toHaveLength(1);
    } finally {
      await monitor.close();
      await fake.close();
    }
  });

  it('reads a model list of thousands of models, longer than a probe answer usually is', async () => {
    // About 2.5 MiB of /api/tags: a shared model server with every quantisation of everything.
    const models = Array.from({ length: 6_000 }, (_, i) => ({ name: `hf.co/some-org/a-model-with-a-long-name-${i}:Q4_K_M`, size: 1_000 + i }));
    const fake = await startFakeOllama({ models });
    const monitor = new HealthMonitor({ upstream: () => fake.url, timeoutMs: 10_000 });
    try {
      const health = await monitor.check();
      expect(health.models).toHaveLength(6_000);
      expect(health.models.some((m) => m.name === 'hf.co/some-org/a-model-with-a-long-name-5999:Q4_K_M')).toBe(true);
    } finally {
      await monitor.close();
      await fake.close();
    }
  });

  it('says why Ollama is unreachable: refused, or something else answering', async () => {
    const fake = await startFakeOllama();
    const url = fake.url;
    await fake.close();
    const monitor = new HealthMonitor({ upstream: () => url, timeoutMs: 2_000 });
    const notOllama = createServer((_req, res) => res.writeHead(404).end('404 page not found'));
    await new Promise<void>((resolve) => notOllama.listen(0, '127.0.0.1', resolve));
    try {
      const refused = await monitor.check();
      expect(refused).toMatchObject({ reachable: false, version: null, models: [], loaded: [] });
      expect(refused.error).toContain('ECONNREFUSED');

      const other = `http://127.0.0.1:${(notOllama.address() as AddressInfo).port}`;
      const second = new HealthMonitor({ upstream: () => other });
      const wrong = await second.check();
      await second.close();
      expect(wrong).toMatchObject({ reachable: false, error: `${other} answered 404 to /api/version: is it Ollama?` });
    } finally {
      await monitor.close();
      notOllama.close();
    }
  });

  it('times out on an upstream that never answers', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const monitor = new HealthMonitor({ upstream: () => url, timeoutMs: 200 });
    try {
      expect((await monitor.check()).error).toBe(`Ollama did not answer within 200 ms (${url})`);
    } finally {
      await monitor.close();
      silent.closeAllConnections();
      silent.close();
    }
  });
});
