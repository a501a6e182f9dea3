/**
 * "Ollama exposed directly": when Ollama answers on one of this machine's other addresses, the gate
 * can be walked around. These tests stand in 127.0.0.2 for a LAN address: only loopback is used.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../test/support/fake-ollama.js';
import { MemoryKeyStore } from '../../test/support/memory-key-store.js';
import { type Gateway, createGateway } from './gateway.js';
import { findExposure } from './exposure.js';
import { staticSettings } from './settings.js';

let fake: FakeOllama | undefined;
let gate: Gateway | undefined;
afterEach(async () => {
  await gate?.close();
  await fake?.close();
  gate = undefined;
  fake = undefined;
});

async function gateBefore(ollama: FakeOllama, addresses: string[]): Promise<string> {
  gate = createGateway({
    keys: new MemoryKeyStore(),
    settings: staticSettings({ host: '127.0.0.1', port: 0, upstream: `http://127.0.0.1:${ollama.port}` }),
    healthTimeoutMs: 1_000,
    exposureAddresses: () => addresses,
  });
  const { port } = await gate.listen();
  return `http://127.0.0.1:${port}`;
}

interface HealthBody {
  status: string;
  ollama: { reachable: boolean; exposed_on: string[] };
  warnings: string[];
}

describe('Ollama exposed beside the gate', () => {
  it('reports an Ollama that also answers on another address of this machine, with how to fix it', async () => {
    fake = await startFakeOllama({ host: '0.0.0.0' });
    const url = await gateBefore(fake, ['127.0.0.2']);
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    const health = (await res.json()) as HealthBody;
    expect(health.status).toBe('ok');
    expect(health.ollama.reachable).toBe(true);
    expect(health.ollama.exposed_on).toEqual([`127.0.0.2:${fake.port}`]);
    expect(health.warnings).toHaveLength(1);
    expect(health.warnings[0]).toContain(`127.0.0.2:${fake.port}`);
    expect(health.warnings[0]).toContain('OLLAMA_HOST=127.0.0.1');
    expect(gate!.health.current()?.exposedOn).toEqual([`127.0.0.2:${fake.port}`]);
    // The fake was really reached there, without a key: that is the bypass.
    expect(fake.requests.some((r) => r.path === '/api/version' && r.headers.host === `127.0.0.2:${fake!.port}`)).toBe(true);
  });

  it('reports nothing for an Ollama that listens on loopback only', async () => {
    fake = await startFakeOllama({ host: '127.0.0.1' });
    const url = await gateBefore(fake, ['127.0.0.2']);
    const health = (await (await fetch(`${url}/health`)).json()) as HealthBody;
    expect(health.ollama.reachable).toBe(true);
    expect(health.ollama.exposed_on).toEqual([]);
    expect(health.warnings).toEqual([]);
  });

  it('reports nothing when there are no other addresses to look at', async () => {
    fake = await startFakeOllama({ host: '0.0.0.0' });
    const url = await gateBefore(fake, []);
    const health = (await (await fetch(`${url}/health`)).json()) as HealthBody;
    expect(health.ollama.exposed_on).toEqual([]);
    expect(health.warnings).toEqual([]);
  });
});

describe('findExposure', () => {
  it('lists only the addresses where Ollama answers its version', async () => {
    fake = await startFakeOllama({ host: '0.0.0.0' });
    const found = await findExposure(`http://127.0.0.1:${fake.port}`, ['127.0.0.2', '127.0.0.3']);
    expect(found.sort()).toEqual([`127.0.0.2:${fake.port}`, `127.0.0.3:${fake.port}`]);
    expect(await findExposure(`http://localhost:${fake.port}`, ['127.0.0.2'])).toEqual([`127.0.0.2:${fake.port}`]);
  });

  it('treats all of 127.0.0.0/8 as loopback, and skips the check for an upstream elsewhere (reached over the network on purpose)', async () => {
    fake = await startFakeOllama({ host: '0.0.0.0' });
    expect(await findExposure(`http://127.0.0.2:${fake.port}`, ['127.0.0.3'])).toEqual([`127.0.0.3:${fake.port}`]);
    // not loopback: returns at once, nothing is contacted (192.0.2.1 is a documentation address)
    expect(await findExposure(`http://192.0.2.1:${fake.port}`, ['127.0.0.2'])).toEqual([]);
  });

  it('does not count something else answering on that port', async () => {
    const { createServer } = await import('node:http');
    const other = createServer((_req, res) => res.end('<html>not ollama</html>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.2', resolve));
    const port = (other.address() as { port: number }).port;
    try {
      expect(await findExposure(`http://127.0.0.1:${port}`, ['127.0.0.2'])).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it('gives up on an address that does not answer in time', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.2', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      expect(await findExposure(`http://127.0.0.1:${port}`, ['127.0.0.2'], 200)).toEqual([]);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      silent.close();
    }
  });
});
