import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { entry as logEntry } from '../../renderer/src/testing/log-entries.js';
import { openStore } from '../cli/open-store.js';
import { startFakeOllama } from '../../test/support/fake-ollama.js';
import type { GateResult, LogEntry } from '../shared/contract.js';
import type { RequestLogEntry } from './events.js';
import { createGateway } from './gateway.js';
import { RecentBuffer } from './log-buffer.js';
import { LogHistoryFile, type LogHistoryOptions } from './log-history.js';
import { createGateService } from './service.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gate-history-'));
  file = join(dir, 'request-history.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function history(options: Partial<Omit<LogHistoryOptions, 'limit'>> & { limit?: number; bodies?: boolean } = {}): LogHistoryFile {
  const { limit = 5, bodies = false, ...rest } = options;
  return new LogHistoryFile({ file, limit: () => limit, keepBodies: () => bodies, flushMs: 10, report: () => {}, ...rest });
}

const lines = () => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const seqsOnDisk = () => lines().map((line) => (JSON.parse(line) as LogEntry).seq);
const settle = () => new Promise((resolve) => setTimeout(resolve, 60));
const { seq: _, ...template } = logEntry(0);

/** A gate's history as the service keeps it: numbered in memory, and handed to the file. */
function run(file: LogHistoryFile, count: number, capacity = 100): RecentBuffer<RequestLogEntry> {
  const buffer = new RecentBuffer<RequestLogEntry>(capacity, file.load());
  for (let i = 0; i < count; i++) {
    const item = { ...template, id: `req${i}` };
    file.add(item, buffer.push(item));
  }
  return buffer;
}

describe('the request history file', () => {
  it('keeps the newest N across a restart, and numbering goes on after them', async () => {
    const first = history({ limit: 5 });
    run(first, 8);
    await first.close();
    // A burst longer than N between two writes: only its newest N are written at all.
    expect(seqsOnDisk()).toEqual([4, 5, 6, 7, 8]);

    const second = history({ limit: 5 });
    const buffer = run(second, 0);
    expect(buffer.recent().map((e) => e.seq)).toEqual([4, 5, 6, 7, 8]);
    expect(buffer.push({ ...template })).toBe(9);
  });

  it('writes in batches after a pause, never once per request', async () => {
    const file1 = history({ limit: 1_000, flushMs: 50 });
    run(file1, 200);
    // Nothing is written while requests are being handled...
    expect(existsSync(file)).toBe(false);
    await settle();
    // ...and then all of them at once.
    expect(seqsOnDisk()).toHaveLength(200);
    await file1.close();
  });

  it('stays bounded: past twice N lines the file is rewritten with the newest N', async () => {
    const file1 = history({ limit: 3 });
    const buffer = new RecentBuffer<RequestLogEntry>(100, file1.load());
    const most: number[] = [];
    for (let i = 0; i < 20; i++) {
      file1.add(template, buffer.push(template));
      await file1.flush();
      most.push(lines().length);
    }
    expect(Math.max(...most)).toBeLessThanOrEqual(6);
    expect(seqsOnDisk().slice(-3)).toEqual([18, 19, 20]);
    expect(
      history({ limit: 3 })
        .load()
        .map((e) => e.seq),
    ).toEqual([18, 19, 20]);
  });

  it('skips a corrupt line and a partial last one, and tidies the file', async () => {
    const good = (seq: number) => JSON.stringify(logEntry(seq));
    writeFileSync(file, `${good(1)}\nnot json at all\n{"seq":"two"}\n${good(3)}\n${good(4).slice(0, 40)}`);
    const file1 = history({ limit: 10 });
    expect(file1.load().map((e) => e.seq)).toEqual([1, 3]);
    await settle();
    // The next entry is not glued onto the half line: the file was rewritten first.
    file1.add(logEntry(4), 4);
    await file1.close();
    expect(seqsOnDisk()).toEqual([1, 3, 4]);
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
  });

  it('skips lines whose fields have the wrong type or whose seq is past what numbers count, and reads old lines without the newer fields', () => {
    const good = (seq: number) => logEntry(seq) as unknown as Record<string, unknown>;
    const older = { ...good(5) };
    delete older.client;
    delete older.answeredBy;
    delete older.reason;
    const lines = [
      good(1),
      { ...good(2), client: { name: 'object' } },
      { ...good(3), user: ['alice'] },
      { ...good(4), reason: { code: 'no_such_code' } },
      { ...good(6), seq: 9007199254740991 },
      { ...good(7), reason: { code: 'invalid_key', params: 'zz' } },
      older,
    ];
    writeFileSync(file, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    const loaded = history({ limit: 10 }).load();
    expect(loaded.map((e) => e.seq)).toEqual([1, 5]);
    expect(loaded[1]).toMatchObject({ client: null, answeredBy: 'gate', reason: null });
  });

  it.skipIf(process.platform === 'win32')('is readable by this user only, and tightens a file left readable by others', async () => {
    const file1 = history();
    run(file1, 2);
    await file1.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    chmodSync(file, 0o644);
    history().load();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('with N = 0 writes nothing, and removes what an earlier run kept', async () => {
    const off = history({ limit: 0 });
    run(off, 5);
    await off.close();
    expect(existsSync(file)).toBe(false);

    const on = history({ limit: 5 });
    run(on, 3);
    await on.close();
    expect(existsSync(file)).toBe(true);
    const later = history({ limit: 0 });
    expect(later.load()).toEqual([]);
    await settle();
    expect(existsSync(file)).toBe(false);
  });

  it('keeps request bodies only while body logging is on, and drops them when it is turned off', async () => {
    let bodies = true;
    const file1 = history({ limit: 5, keepBodies: () => bodies });
    file1.load();
    file1.add(logEntry(1, { requestBody: '{"prompt":"secret plans"}' }), 1);
    await file1.flush();
    expect(readFileSync(file, 'utf8')).toContain('secret plans');
    bodies = false;
    file1.settingsChanged();
    await settle();
    expect(readFileSync(file, 'utf8')).not.toContain('secret plans');
    file1.add(logEntry(2, { requestBody: '{"prompt":"more plans"}' }), 2);
    await file1.close();
    expect(readFileSync(file, 'utf8')).not.toContain('plans');
    expect(seqsOnDisk()).toEqual([1, 2]);
  });

  it('reports a folder it cannot write to once, and carries on', async () => {
    const reports: string[] = [];
    writeFileSync(join(dir, 'blocker'), '');
    const file1 = new LogHistoryFile({
      file: join(dir, 'blocker', 'history.jsonl'),
      limit: () => 5,
      keepBodies: () => false,
      flushMs: 10,
      report: (m) => reports.push(m),
    });
    file1.load();
    for (let i = 1; i <= 3; i++) {
      file1.add(logEntry(i), i);
      await file1.flush();
    }
    await file1.close();
    // Three failed writes, one report (reading it failed too, before: a folder that is a file).
    expect(reports.filter((report) => report.includes('could not write the request history'))).toHaveLength(1);
  });
});

describe('the service across a restart', () => {
  it('answers logs.recent with the requests of the previous run, numbered on from them', async () => {
    const fake = await startFakeOllama();
    const value = <T>(result: GateResult<T>): T => {
      if (!result.ok) throw new Error(result.error.message);
      return result.value;
    };
    const start = () => {
      const store = openStore(dir);
      store.updateSettings({ host: '127.0.0.1', port: 0, upstream: fake.url, logHistoryEntries: 3 });
      const gateway = createGateway({ keys: store, settings: store, usageFile: join(dir, 'usage.json'), dataDir: dir, exposureAddresses: () => [] });
      const service = createGateService({
        gateway,
        store,
        logHistoryFile: file,
        app: { name: 'Ollama Gate', version: '0', host: 'headless', platform: process.platform, versions: {}, dataDir: dir, logsDir: dir },
      });
      return { store, gateway, service };
    };
    try {
      const first = start();
      const url = value(await first.service.call('proxy.start')).urls[0]!;
      for (let i = 0; i < 5; i++) await fetch(`${url}/api/tags?n=${i}`);
      await first.service.close();
      first.gateway.health.close();
      first.store.close();

      const second = start();
      const recent = value(await second.service.call('logs.recent'));
      expect(recent.map((e) => [e.seq, e.path])).toEqual([
        [3, '/api/tags?n=2'],
        [4, '/api/tags?n=3'],
        [5, '/api/tags?n=4'],
      ]);
      const url2 = value(await second.service.call('proxy.start')).urls[0]!;
      await fetch(`${url2}/health`);
      const next = await (async () => {
        for (let i = 0; i < 100; i++) {
          const after = value(await second.service.call('logs.recent', { after: 5 }));
          if (after.length) return after;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return [];
      })();
      expect(next.map((e) => [e.seq, e.path])).toEqual([[6, '/health']]);
      await second.service.close();
      second.gateway.health.close();
      second.store.close();
    } finally {
      await fake.close();
    }
  });
});
