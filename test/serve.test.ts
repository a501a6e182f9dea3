import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadTlsMaterial } from '../electron/core/tls.js';
import { CLI, CLI_CWD, CLI_ENV, ServeProcess, runCliOk } from './support/cli.js';
import { type FakeOllama, startFakeOllama } from './support/fake-ollama.js';

function cli(dataDir: string, ...args: string[]): string {
  return runCliOk(dataDir, args);
}

describe('ollama-gate serve', () => {
  let dataDir: string;
  let fake: FakeOllama;
  let serve: ServeProcess | undefined;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gate-serve-'));
    fake = await startFakeOllama();
  });
  afterEach(async () => {
    await serve?.stop('SIGKILL');
    serve = undefined;
    await fake.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves keys made by the CLI, logs one line per request without the key, and stops cleanly on SIGTERM', async () => {
    const created = JSON.parse(cli(dataDir, 'keys', 'add', 'alice', '--json').trim().split('\n').at(-1)!);
    const started = await ServeProcess.start(dataDir, fake.url);
    serve = started.serve;
    const res = await fetch(`${started.url}/api/tags`, { headers: { Authorization: `Bearer ${created.key}` } });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id')!;
    const line = await serve.waitForLine(new RegExp(`\\[${id}\\]`));
    expect(line).toMatch(/alice .*GET \/api\/tags -> 200/);
    expect(await serve.stop('SIGTERM')).toBe(0);
    expect(serve.output.join('\n')).not.toContain(created.key);
    expect(serve.output.join('\n')).not.toMatch(/error/i);
    expect(readFileSync(join(dataDir, 'logs', 'gate.log'), 'utf8')).toContain(`[${id}]`);
    // It names users, key prefixes and addresses: readable by this user only, like the store.
    expect(statSync(join(dataDir, 'logs', 'gate.log')).mode & 0o777).toBe(0o600);
  });

  it('stops cleanly on SIGTERM that comes while it still waits for Ollama at start', async () => {
    // An upstream that takes connections and never answers: start-up waits on its first probe.
    const silent = createNetServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const started = await ServeProcess.start(dataDir, `http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
      serve = started.serve;
      expect(serve.output.join('\n')).not.toMatch(/Ollama .*(answers at|is not reachable)/);
      expect(await serve.stop('SIGTERM')).toBe(0);
      expect(serve.output.join('\n')).toMatch(/SIGTERM: shutting down/);
      // The probe cut by the shutdown is not news of an Ollama gone down.
      expect(serve.output.join('\n')).not.toMatch(/is not reachable/);
    } finally {
      silent.close();
    }
  });

  it('sees a key disabled by another process within a second: 403, and its IP session ends', async () => {
    const created = JSON.parse(cli(dataDir, 'keys', 'add', 'bob', '--json').trim().split('\n').at(-1)!);
    const started = await ServeProcess.start(dataDir, fake.url);
    serve = started.serve;
    const auth = await fetch(`${started.url}/auth`, { method: 'POST', body: JSON.stringify({ api_key: created.key }) });
    expect(auth.status).toBe(200);
    expect((await fetch(`${started.url}/api/tags`)).status).toBe(200);

    cli(dataDir, 'keys', 'disable', 'bob');
    const disabledAt = Date.now();
    let status = 0;
    while (Date.now() - disabledAt < 1_000) {
      status = (await fetch(`${started.url}/api/tags`, { headers: { 'X-API-Key': created.key } })).status;
      if (status === 403) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(403);
    expect((await fetch(`${started.url}/api/tags`)).status).toBe(401);
  });

  it('prints one line when Ollama goes down (with why) and one when it is back (with its version), and none in between', { timeout: 30_000 }, async () => {
    const started = await ServeProcess.start(dataDir, fake.url);
    serve = started.serve;
    await serve.waitForLine(/Ollama 0\.12\.6 answers at/);
    const port = fake.port;
    await fake.close();
    await serve.waitForLine(/Ollama is not reachable at http:\/\/127\.0\.0\.1:\d+: Ollama (is not running or refused|closed) the connection/, 15_000);
    fake = await startFakeOllama({ port, version: '0.13.1' });
    await serve.waitForLine(/Ollama 0\.13\.1 answers at/, 15_000);
    // Probes every few seconds in between printed nothing more: one line per change.
    expect(
      serve.output.filter((line) => /not reachable/.test(line)),
      serve.output.join('\n'),
    ).toHaveLength(1);
    expect(serve.output.filter((line) => /answers at/.test(line))).toHaveLength(2);
  });

  it('prints the HTTPS URL and fingerprint when HTTPS is turned on while it runs, and a line when it is turned off', { timeout: 30_000 }, async () => {
    const started = await ServeProcess.start(dataDir, fake.url, { args: ['--admin-port', '0'] });
    serve = started.serve;
    const login = new URL((await serve.waitForLine(/Open the web admin: (http:\/\/\S+)/)).match(/Open the web admin: (http:\/\/\S+)/)![1]!);
    // The admin token is kept for the next start, readable by this user only.
    expect(readFileSync(join(dataDir, 'admin-token'), 'utf8').trim()).toBe(login.searchParams.get('token'));
    expect(statSync(join(dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
    const call = async (method: string, body: unknown) => {
      const res = await fetch(`${login.origin}/gate/${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${login.searchParams.get('token')}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await res.json()) as { ok: boolean };
    };
    const free = await new Promise<number>((resolve) => {
      const probe = createTlsServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    expect((await call('settings.update', { proxy: { tlsEnabled: true, tlsPort: free } })).ok).toBe(true);
    await serve.waitForLine(new RegExp(`HTTPS on https://127\\.0\\.0\\.1:${free}`), 15_000);
    await serve.waitForLine(/Certificate .*, SHA-256 fingerprint [0-9A-F:]{95}/);
    expect((await call('settings.update', { proxy: { tlsEnabled: false } })).ok).toBe(true);
    await serve.waitForLine(/HTTPS is off$/, 10_000);
    expect(serve.output.filter((line) => /HTTPS on/.test(line))).toHaveLength(1);
  });

  it('keeps the admin token of an earlier run, making its file private again if it was loosened', async () => {
    const token = 'A'.repeat(43);
    writeFileSync(join(dataDir, 'admin-token'), `${token}\n`, { mode: 0o644 });
    const started = await ServeProcess.start(dataDir, fake.url, { args: ['--admin-port', '0'] });
    serve = started.serve;
    const login = new URL((await serve.waitForLine(/Open the web admin: (http:\/\/\S+)/)).match(/Open the web admin: (http:\/\/\S+)/)![1]!);
    expect(login.searchParams.get('token')).toBe(token);
    expect(statSync(join(dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
  });

  it('also picks up a key added after it started', async () => {
    const started = await ServeProcess.start(dataDir, fake.url);
    serve = started.serve;
    await serve.waitForLine(/No keys yet/);
    const created = JSON.parse(cli(dataDir, 'keys', 'add', 'late', '--json').trim().split('\n').at(-1)!);
    const deadline = Date.now() + 1_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await fetch(`${started.url}/api/tags`, { headers: { 'X-API-Key': created.key } })).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
  });

  it('forwards to an Ollama behind HTTPS, and refuses one whose certificate it cannot verify', async () => {
    // A TLS terminator in front of the fake, with a self-signed certificate for 127.0.0.1.
    const tls = await loadTlsMaterial({ certFile: null, keyFile: null, dataDir: join(dataDir, 'upstream-tls') });
    const fakePort = Number(new URL(fake.url).port);
    const terminator = createTlsServer({ cert: tls.cert, key: tls.key }, (clear) => {
      const plain = connect(fakePort, '127.0.0.1');
      clear.pipe(plain).pipe(clear);
      clear.on('error', () => plain.destroy());
      plain.on('error', () => clear.destroy());
    });
    await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
    const upstream = `https://127.0.0.1:${(terminator.address() as AddressInfo).port}`;
    const caFile = join(dataDir, 'upstream-ca.pem');
    writeFileSync(caFile, tls.cert);
    const created = JSON.parse(cli(dataDir, 'keys', 'add', 'tls', '--json').trim().split('\n').at(-1)!);
    try {
      const trusting = await ServeProcess.start(dataDir, upstream, { env: { ...CLI_ENV, NODE_EXTRA_CA_CERTS: caFile } });
      serve = trusting.serve;
      const chat = await fetch(`${trusting.url}/api/chat`, {
        method: 'POST',
        headers: { 'X-API-Key': created.key },
        body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: false }),
      });
      expect(chat.status).toBe(200);
      expect((await chat.json()) as { message: { role: string } }).toMatchObject({ message: { role: 'assistant' } });
      const health = (await (await fetch(`${trusting.url}/health`)).json()) as { ollama: { reachable: boolean } };
      expect(health.ollama.reachable).toBe(true);
      await serve.stop('SIGKILL');

      const wary = await ServeProcess.start(dataDir, upstream);
      serve = wary.serve;
      const refused = await fetch(`${wary.url}/api/tags`, { headers: { 'X-API-Key': created.key } });
      expect(refused.status).toBe(502);
      expect(((await refused.json()) as { error: string }).error).toMatch(/certificate/);
    } finally {
      terminator.close();
    }
  });

  it('refuses to start on a corrupt store, names the file and leaves it untouched', async () => {
    const file = join(dataDir, 'gate.json');
    writeFileSync(file, '{"keys": [ broken');
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: CLI_ENV,
      cwd: CLI_CWD,
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(file);
    expect(stderr).toMatch(/not valid JSON/);
    expect(readFileSync(file, 'utf8')).toBe('{"keys": [ broken');
  });

  it('keeps serving when its store file breaks while it runs, reports it once, and stops cleanly', { timeout: 20_000 }, async () => {
    const created = JSON.parse(cli(dataDir, 'keys', 'add', 'alice', '--json').trim().split('\n').at(-1)!);
    const started = await ServeProcess.start(dataDir, fake.url);
    serve = started.serve;
    const ask = () => fetch(`${started.url}/api/tags`, { headers: { 'X-API-Key': created.key } });
    expect((await ask()).status).toBe(200);
    const file = join(dataDir, 'gate.json');
    writeFileSync(file, '{"keys": [ broken');
    // The last use is written back within 5 s: to a file it cannot read now.
    await serve.waitForLine(/could not save when keys were last used: cannot read the store file/, 8_000);
    expect((await ask()).status).toBe(200);
    expect(await serve.stop()).toBe(0);
    expect(serve.output.filter((line) => line.includes('could not save when keys were last used'))).toHaveLength(1);
    expect(readFileSync(file, 'utf8')).toBe('{"keys": [ broken');
  });

  it('a log folder it cannot write: one line naming the path and the fix, no stack trace, and it serves on', async () => {
    writeFileSync(join(dataDir, 'logs'), 'a file where the log folder should be');
    const created = JSON.parse(cli(dataDir, 'keys', 'add', 'alice', '--json').trim().split('\n').at(-1)!);
    const started = await ServeProcess.start(dataDir, fake.url);
    serve = started.serve;
    expect((await fetch(`${started.url}/api/tags`, { headers: { 'X-API-Key': created.key } })).status).toBe(200);
    expect(await serve.stop()).toBe(0);
    const warnings = serve.output.filter((line) => line.includes('cannot write the log file'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${join(dataDir, 'logs', 'gate.log')} (EEXIST`);
    expect(warnings[0]).toContain('requests are logged to the console only');
    expect(serve.output.join('\n')).not.toMatch(/^\s+at /m);
  });

  it('a data folder it cannot use: exit 1 with one line naming the path', async () => {
    const notAFolder = join(dataDir, 'plain-file');
    writeFileSync(notAFolder, '');
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--no-admin', '--data-dir', join(notAFolder, 'data')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: CLI_ENV,
      cwd: CLI_CWD,
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    expect(await new Promise<number | null>((resolve) => child.once('exit', resolve))).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringContaining(`ollama-gate: cannot read the store file ${join(notAFolder, 'data', 'gate.json')}: ENOTDIR`),
    ]);
  });

  it('says clearly when its port is already taken', async () => {
    const first = await ServeProcess.start(dataDir, fake.url);
    serve = first.serve;
    const port = new URL(first.url).port;
    const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', port, '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: CLI_ENV,
      cwd: CLI_CWD,
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(`port ${port} is already in use`);
  });
});
