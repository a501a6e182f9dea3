import { describe, expect, it } from 'vitest';
import type { HealthView, ProxyStatus } from '../shared/contract.js';
import { healthLines, statusLines } from './state-lines.js';

function health(overrides: Partial<HealthView> = {}): HealthView {
  return {
    upstream: 'http://127.0.0.1:11434',
    reachable: true,
    version: '0.12.6',
    latencyMs: 3,
    error: null,
    reason: null,
    checkedAt: 1,
    models: [],
    loaded: [],
    exposedOn: [],
    latency: [],
    ...overrides,
  } as HealthView;
}

function status(overrides: Partial<ProxyStatus> = {}): ProxyStatus {
  return {
    state: 'listening',
    host: '127.0.0.1',
    port: 8000,
    urls: ['http://127.0.0.1:8000'],
    error: null,
    reason: null,
    tls: null,
    ...overrides,
  } as ProxyStatus;
}

const texts = (lines: Array<{ level: string; text: string }>) => lines.map((l) => `${l.level}: ${l.text}`);

describe('healthLines: what serve prints when Ollama changes', () => {
  it('says nothing when only latency, models or the time of the check changed', () => {
    expect(
      healthLines(
        health(),
        health({ latencyMs: 90, checkedAt: 2, models: [{ name: 'x', size: 1, family: null, parameterSize: null, quantization: null, modifiedAt: null }] }),
      ),
    ).toEqual([]);
    const down = health({ reachable: false, version: null, error: 'connection refused' });
    expect(healthLines(down, { ...down, checkedAt: 9 })).toEqual([]);
  });

  it('says when Ollama goes down, with why, and when it comes back, with its version', () => {
    const down = health({ reachable: false, version: null, error: 'Ollama is not running or refused the connection' });
    expect(texts(healthLines(health(), down))).toEqual([
      'warn: Ollama is not reachable at http://127.0.0.1:11434: Ollama is not running or refused the connection',
    ]);
    expect(texts(healthLines(down, health({ version: '0.13.0' })))).toEqual(['info: Ollama 0.13.0 answers at http://127.0.0.1:11434']);
    // Still down for another reason (reset, then refused) is not news.
    expect(healthLines(down, { ...down, error: 'Ollama closed the connection' })).toEqual([]);
    // Down at another address is.
    expect(texts(healthLines(down, { ...down, upstream: 'http://10.0.0.9:11434' }))).toEqual([
      'warn: Ollama is not reachable at http://10.0.0.9:11434: Ollama is not running or refused the connection',
    ]);
  });

  it('warns once per address where Ollama becomes exposed on the LAN, and says when it no longer is', () => {
    const exposed = health({ exposedOn: ['192.168.1.5:11434'] });
    expect(texts(healthLines(health(), exposed))).toEqual([
      'warn: Ollama also answers on 192.168.1.5:11434: anyone on your network can reach it without a key. Restart Ollama with OLLAMA_HOST=127.0.0.1',
    ]);
    expect(healthLines(exposed, { ...exposed, latencyMs: 7 })).toEqual([]);
    expect(texts(healthLines(exposed, health()))).toEqual(["info: Ollama no longer answers on this machine's network addresses"]);
  });

  it('the first state is printed whole', () => {
    expect(texts(healthLines(undefined, health()))).toEqual(['info: Ollama 0.12.6 answers at http://127.0.0.1:11434']);
  });

  it('names a backend beside the default one in each of its lines', () => {
    const big = health({ upstream: 'http://10.0.0.7:11434' });
    const down = { ...big, reachable: false, version: null, error: 'refused' };
    expect(texts([...healthLines(undefined, big, 'big'), ...healthLines(big, down, 'big')])).toEqual([
      'info: Ollama "big" 0.12.6 answers at http://10.0.0.7:11434',
      'warn: Ollama "big" is not reachable at http://10.0.0.7:11434: refused',
    ]);
  });
});

describe('statusLines: what serve prints when its listeners change', () => {
  const tls = { port: 8443, urls: ['https://127.0.0.1:8443'], fingerprint256: 'AB:CD', certFile: '/data/tls/cert.pem', error: null, reason: null };

  it('a new port or host: the new URLs', () => {
    expect(texts(statusLines(status(), status({ port: 9000, urls: ['http://127.0.0.1:9000'] })))).toEqual(['info: Listening on http://127.0.0.1:9000']);
    expect(statusLines(status(), status())).toEqual([]);
  });

  it('a restart that failed: the reason, while the old listener goes on', () => {
    expect(texts(statusLines(status(), status({ error: 'port 80 needs administrator rights' })))).toEqual([
      'error: could not apply the new settings: port 80 needs administrator rights',
    ]);
  });

  it('HTTPS turned on, off, or failing', () => {
    expect(texts(statusLines(status(), status({ tls })))).toEqual([
      'info: HTTPS on https://127.0.0.1:8443',
      'info: Certificate /data/tls/cert.pem, SHA-256 fingerprint AB:CD',
    ]);
    expect(texts(statusLines(status({ tls }), status()))).toEqual(['info: HTTPS is off']);
    expect(texts(statusLines(status(), status({ tls: { ...tls, urls: [], error: 'port 8443 is already in use' } })))).toEqual([
      'error: HTTPS is off: port 8443 is already in use',
    ]);
    expect(statusLines(status({ tls }), status({ tls }))).toEqual([]);
  });

  it('stopped', () => {
    expect(texts(statusLines(status(), status({ state: 'stopped', urls: [] })))).toEqual([
      'warn: The proxy stopped: clients get no answer until it starts again',
    ]);
  });
});
