import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeOllama, startFakeOllama } from '../../test/support/fake-ollama.js';
import { MemoryKeyStore } from '../../test/support/memory-key-store.js';
import { type Gateway, createGateway } from './gateway.js';
import { type GateSettings, staticSettings } from './settings.js';
import { loadTlsMaterial } from './tls.js';

interface HttpsAnswer {
  status: number;
  body: string;
  fingerprint256: string;
}

/** An HTTPS request that trusts only the given certificate, as a client pinning it would. */
function httpsGet(url: string, ca: string, headers: Record<string, string> = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers, agent: false }, (res) => {
      const fingerprint256 = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), fingerprint256 }));
    });
    req.on('error', reject);
    req.end();
  });
}

let dataDir: string;
let fake: FakeOllama;
let store: MemoryKeyStore;
const gates: Gateway[] = [];

function gateWith(settings: Partial<GateSettings>, options: { dataDir?: string | null } = {}): Gateway {
  const gate = createGateway({
    keys: store,
    settings: staticSettings({ host: '127.0.0.1', port: 0, upstream: fake.url, tlsEnabled: true, tlsPort: 0, ...settings }),
    dataDir: options.dataDir === null ? undefined : (options.dataDir ?? dataDir),
    exposureAddresses: () => [],
  });
  gates.push(gate);
  return gate;
}

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'gate-tls-'));
  fake = await startFakeOllama();
  store = new MemoryKeyStore();
});
afterEach(async () => {
  for (const gate of gates.splice(0)) await gate.close();
  await fake.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('HTTPS listener with a self-signed certificate', () => {
  it('serves HTTPS beside HTTP with a certificate made on first use; the fingerprint is shown by status and GET /', async () => {
    const gate = gateWith({});
    const status = await gate.listen();
    expect(status.tls).toMatchObject({ error: null, certFile: join(dataDir, 'tls', 'cert.pem') });
    const tls = status.tls!;
    expect(tls.port).toBeGreaterThan(0);
    expect(tls.port).not.toBe(status.port);
    expect(tls.urls).toContain(`https://127.0.0.1:${tls.port}`);
    expect(tls.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    const cert = readFileSync(join(dataDir, 'tls', 'cert.pem'), 'utf8');
    expect(new X509Certificate(cert).fingerprint256).toBe(tls.fingerprint256);
    const info = await httpsGet(`https://127.0.0.1:${tls.port}/`, cert);
    expect(info.status).toBe(200);
    expect(info.fingerprint256).toBe(tls.fingerprint256);
    expect(JSON.parse(info.body).https).toEqual({ port: tls.port, fingerprint_sha256: tls.fingerprint256 });

    // Plain HTTP tells clients the same fingerprint to pin.
    const plain = await fetch(`http://127.0.0.1:${status.port}/`);
    expect(plain.status).toBe(200);
    expect((await plain.json()).https.fingerprint_sha256).toBe(tls.fingerprint256);

    // Requests with a key go through to Ollama over HTTPS too.
    const { secret } = gate.keys.create({ user: 'alice' });
    const tags = await httpsGet(`https://127.0.0.1:${tls.port}/api/tags`, cert, { Authorization: `Bearer ${secret}` });
    expect(tags.status).toBe(200);
    expect(JSON.parse(tags.body).models).toHaveLength(3);
    expect((await httpsGet(`https://127.0.0.1:${tls.port}/api/tags`, cert)).status).toBe(401);
  });

  it('is not trusted by a client that does not pin it', async () => {
    const gate = gateWith({});
    const { tls } = await gate.listen();
    const other = await generate([{ name: 'commonName', value: 'someone else' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    await expect(httpsGet(`https://127.0.0.1:${tls!.port}/`, other.cert)).rejects.toThrow();
  });

  it('keeps the same certificate across restarts', async () => {
    const first = gateWith({});
    const before = (await first.listen()).tls!.fingerprint256;
    const certText = readFileSync(join(dataDir, 'tls', 'cert.pem'), 'utf8');
    await first.close();
    expect(first.status().tls).toBeNull();

    const second = gateWith({});
    const after = (await second.listen()).tls!;
    expect(after.fingerprint256).toBe(before);
    expect(readFileSync(join(dataDir, 'tls', 'cert.pem'), 'utf8')).toBe(certText);
    const answer = await httpsGet(`https://127.0.0.1:${after.port}/`, certText);
    expect(answer.fingerprint256).toBe(before);
  });

  it('keeps the private key and its certificate readable by their owner only, also a certificate left 0644 before', async () => {
    await gateWith({}).listen();
    const keyFile = join(dataDir, 'tls', 'key.pem');
    const certFile = join(dataDir, 'tls', 'cert.pem');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(certFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'tls')).mode & 0o777).toBe(0o700);
    chmodSync(certFile, 0o644);
    await gateWith({}).listen();
    expect(statSync(certFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8')).toMatch(/-----BEGIN (EC )?PRIVATE KEY-----/);
  });

  it('makes a new pair when the kept key is missing', async () => {
    const first = gateWith({});
    const before = (await first.listen()).tls!.fingerprint256;
    await first.close();
    rmSync(join(dataDir, 'tls', 'key.pem'));
    const second = gateWith({});
    const after = (await second.listen()).tls!;
    expect(after.error).toBeNull();
    expect(after.fingerprint256).not.toBe(before);
    const cert = readFileSync(join(dataDir, 'tls', 'cert.pem'), 'utf8');
    expect((await httpsGet(`https://127.0.0.1:${after.port}/`, cert)).fingerprint256).toBe(after.fingerprint256);
  });

  it('says why HTTPS cannot run without a data directory or certificate, and HTTP serves on', async () => {
    const gate = gateWith({}, { dataDir: null });
    const status = await gate.listen();
    expect(status.state).toBe('listening');
    expect(status.tls?.error).toMatch(/HTTPS.*data directory/);
    expect((await fetch(`http://127.0.0.1:${status.port}/`)).status).toBe(200);
  });
});

describe('HTTPS with the user’s own certificate', () => {
  async function userPair(dir: string): Promise<{ certFile: string; keyFile: string; cert: string }> {
    const pems = await generate([{ name: 'commonName', value: 'my own gate' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const certFile = join(dir, 'mine.crt');
    const keyFile = join(dir, 'mine.key');
    writeFileSync(certFile, pems.cert);
    writeFileSync(keyFile, pems.private, { mode: 0o600 });
    return { certFile, keyFile, cert: pems.cert };
  }

  it('serves the given certificate and does not make one of its own', async () => {
    const own = mkdtempSync(join(tmpdir(), 'gate-tls-own-'));
    try {
      const { certFile, keyFile, cert } = await userPair(own);
      const gate = gateWith({ tlsCertFile: certFile, tlsKeyFile: keyFile });
      const { tls } = await gate.listen();
      expect(tls).toMatchObject({ error: null, certFile, fingerprint256: new X509Certificate(cert).fingerprint256 });
      const answer = await httpsGet(`https://127.0.0.1:${tls!.port}/`, cert);
      expect(answer.status).toBe(200);
      expect(answer.fingerprint256).toBe(tls!.fingerprint256);
      expect(JSON.parse(answer.body).https.fingerprint_sha256).toBe(tls!.fingerprint256);
      expect(existsSync(join(dataDir, 'tls'))).toBe(false);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('works with the user’s files and no data directory', async () => {
    const own = mkdtempSync(join(tmpdir(), 'gate-tls-own-'));
    try {
      const { certFile, keyFile, cert } = await userPair(own);
      const gate = gateWith({ tlsCertFile: certFile, tlsKeyFile: keyFile }, { dataDir: null });
      const { tls } = await gate.listen();
      expect(tls?.error).toBeNull();
      expect((await httpsGet(`https://127.0.0.1:${tls!.port}/`, cert)).status).toBe(200);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('a missing certificate file is reported in the status, naming it, while plain HTTP keeps serving', async () => {
    const own = mkdtempSync(join(tmpdir(), 'gate-tls-own-'));
    try {
      const { keyFile } = await userPair(own);
      const missing = join(own, 'nope.crt');
      const gate = gateWith({ tlsCertFile: missing, tlsKeyFile: keyFile });
      const status = await gate.listen();
      expect(status.state).toBe('listening');
      expect(status.tls).toMatchObject({ fingerprint256: null, urls: [] });
      expect(status.tls!.error).toContain(missing);
      expect(status.tls!.error).toMatch(/^HTTPS: /);
      const plain = await fetch(`http://127.0.0.1:${status.port}/`);
      expect(plain.status).toBe(200);
      expect((await plain.json()).https).toBeNull();
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('a certificate without its key, or a file that is not a certificate, is an error too', async () => {
    const own = mkdtempSync(join(tmpdir(), 'gate-tls-own-'));
    try {
      const { certFile, keyFile } = await userPair(own);
      await expect(loadTlsMaterial({ certFile, keyFile: null, dataDir })).rejects.toThrow(/both a certificate file and a key file/);
      const notPem = join(own, 'junk.crt');
      writeFileSync(notPem, 'hello');
      await expect(loadTlsMaterial({ certFile: notPem, keyFile, dataDir })).rejects.toThrow(`${notPem} is not a PEM certificate`);
      const gate = gateWith({ tlsCertFile: certFile, tlsKeyFile: null });
      const status = await gate.listen();
      expect(status.tls!.error).toMatch(/both a certificate file and a key file/);
      expect((await fetch(`http://127.0.0.1:${status.port}/health`)).status).toBe(200);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });
});

describe('HTTPS turned on and off while running', () => {
  it('starts and stops the HTTPS listener on restart() without touching HTTP', async () => {
    let current: GateSettings = { ...staticSettings({ host: '127.0.0.1', port: 0, upstream: fake.url }).current() };
    const gate = createGateway({ keys: store, settings: { current: () => current }, dataDir, exposureAddresses: () => [] });
    gates.push(gate);
    const status = await gate.listen();
    expect(status.tls).toBeNull();
    current = { ...current, tlsEnabled: true, tlsPort: 0 };
    const on = await gate.restart();
    expect(on.port).toBe(status.port);
    expect(on.tls?.error).toBeNull();
    const cert = readFileSync(join(dataDir, 'tls', 'cert.pem'), 'utf8');
    expect((await httpsGet(`https://127.0.0.1:${on.tls!.port}/`, cert)).status).toBe(200);
    current = { ...current, tlsEnabled: false };
    const off = await gate.restart();
    expect(off.tls).toBeNull();
    await expect(httpsGet(`https://127.0.0.1:${on.tls!.port}/`, cert)).rejects.toThrow();
    expect((await fetch(`http://127.0.0.1:${status.port}/`)).status).toBe(200);
  });
});

describe('HTTPS changed while running: the status is what listens', () => {
  /** A gateway whose settings the test changes, as the store does when the window applies them. */
  async function startMutable(patch: Partial<GateSettings> = {}) {
    const settings: GateSettings = { ...staticSettings({ host: '127.0.0.1', port: 0, upstream: fake.url, ...patch }).current() };
    const gate = createGateway({ keys: store, settings: { current: () => settings }, dataDir, exposureAddresses: () => [] });
    gates.push(gate);
    const status = await gate.listen();
    return { gate, settings, status };
  }
  const served = (port: number) => httpsGet(`https://127.0.0.1:${port}/`, readFileSync(join(dataDir, 'tls', 'cert.pem'), 'utf8'));

  it('turned on by two restarts at once (the settings write and the store file’s echo of it), listens once and says so', async () => {
    const { gate, settings } = await startMutable();
    const port = await freePort();
    Object.assign(settings, { tlsEnabled: true, tlsPort: port });
    // On fresh data the first restart is still making the certificate when the second one starts.
    await Promise.all([gate.restart(), gate.restart()]);
    const { tls } = gate.status();
    expect(tls).toMatchObject({ port, urls: [`https://127.0.0.1:${port}`], error: null });
    const answer = await served(port);
    expect(answer.status).toBe(200);
    expect(answer.fingerprint256).toBe(tls!.fingerprint256);
  });

  it('moves to a new HTTPS port: the new one answers, the old one stops, and the status names the new one', async () => {
    const { gate, settings } = await startMutable({ tlsEnabled: true, tlsPort: await freePort() });
    const before = gate.status().tls!;
    expect(before.error).toBeNull();
    const port = await freePort();
    settings.tlsPort = port;
    const after = (await gate.restart()).tls!;
    expect(after).toMatchObject({ port, urls: [`https://127.0.0.1:${port}`], error: null, fingerprint256: before.fingerprint256 });
    expect((await served(port)).status).toBe(200);
    await expect(served(before.port)).rejects.toThrow();
  });

  it('keeps HTTPS serving on its old port when the new one is taken, says why, and drops the error once the setting is back', async () => {
    const { gate, settings } = await startMutable({ tlsEnabled: true, tlsPort: await freePort() });
    const before = gate.status().tls!;
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      settings.tlsPort = (blocker.address() as AddressInfo).port;
      const failed = (await gate.restart()).tls!;
      expect(failed).toMatchObject({ port: before.port, urls: before.urls, fingerprint256: before.fingerprint256 });
      expect(failed.error).toMatch(/^HTTPS: port \d+ is already in use/);
      expect((await served(before.port)).status).toBe(200);
      settings.tlsPort = before.port;
      expect((await gate.restart()).tls).toEqual(before);
    } finally {
      blocker.close();
    }
  });

  it('turned on where it cannot start, then off: the status says nothing listens, then nothing is wrong', async () => {
    const { gate, settings } = await startMutable();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      Object.assign(settings, { tlsEnabled: true, tlsPort: (blocker.address() as AddressInfo).port });
      const failed = (await gate.restart()).tls!;
      expect(failed).toMatchObject({ urls: [], fingerprint256: null, error: expect.stringMatching(/already in use/) });
      settings.tlsEnabled = false;
      expect((await gate.restart()).tls).toBeNull();
    } finally {
      blocker.close();
    }
  });

  it('serves a new certificate on the same port: the old listener makes way for it', async () => {
    const port = await freePort();
    const { gate, settings } = await startMutable({ tlsEnabled: true, tlsPort: port });
    const before = gate.status().tls!;
    const pems = await generate([{ name: 'commonName', value: 'replacement' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const own = mkdtempSync(join(tmpdir(), 'gate-tls-own-'));
    try {
      writeFileSync(join(own, 'new.crt'), pems.cert);
      writeFileSync(join(own, 'new.key'), pems.private, { mode: 0o600 });
      Object.assign(settings, { tlsCertFile: join(own, 'new.crt'), tlsKeyFile: join(own, 'new.key') });
      const after = (await gate.restart()).tls!;
      expect(after).toMatchObject({ port, error: null, fingerprint256: new X509Certificate(pems.cert).fingerprint256 });
      expect(after.fingerprint256).not.toBe(before.fingerprint256);
      expect((await httpsGet(`https://127.0.0.1:${port}/`, pems.cert)).fingerprint256).toBe(after.fingerprint256);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
