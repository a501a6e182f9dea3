import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import log from 'electron-log/node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RequestLogEntry } from './events.js';
import { formatLogLine } from './log-line.js';
import { RequestLog, compileStamp } from './request-log.js';

function entry(id: string, outcome: RequestLogEntry['outcome'] = 'ok'): RequestLogEntry {
  return {
    id,
    time: 0,
    method: 'POST',
    path: '/api/chat',
    ip: '127.0.0.1',
    user: 'alice',
    keyId: 'k1',
    keyPrefix: 'og_abcde',
    keySource: 'x-api-key',
    decision: outcome === 'ok' ? 'allowed' : 'denied',
    status: outcome === 'ok' ? 200 : 403,
    ttfbMs: 1.5,
    durationMs: 2.25,
    bytesIn: 120,
    bytesOut: 300,
    model: 'llama3.2',
    promptTokens: null,
    completionTokens: null,
    requestBody: null,
    outcome,
    error: outcome === 'ok' ? null : 'invalid API key',
    reason: outcome === 'ok' ? null : { code: 'invalid_key' },
    client: 'curl/8.5.0',
    answeredBy: outcome === 'ok' ? 'ollama' : 'gate',
    backend: 'default',
  };
}

/** A main logger set up as `ollama-gate serve` sets its own, writing to a temp file and into `written`. */
function mainLogger(file: string, written: Array<{ level: string; text: string }>) {
  const main = log.create({ logId: `request-log-test-${Math.random()}` });
  main.transports.file.resolvePathFn = () => file;
  main.transports.console.format = '{h}:{i}:{s} {text}';
  main.transports.console.writeFn = ({ message }) => written.push({ level: message.level, text: message.data.join(' ') });
  return main;
}

describe('RequestLog', () => {
  let dir: string;
  let file: string;
  let written: Array<{ level: string; text: string }>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'request-log-'));
    file = join(dir, 'logs', 'gate.log');
    written = [];
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes nothing on the request path, then every line within 100 ms in one write, each with its own time', () => {
    const main = mainLogger(file, written);
    const t0 = new Date(2026, 10, 27, 9, 15, 30, 5).getTime();
    let now = t0;
    const requests = new RequestLog(main, () => now);
    requests.add(entry('aaaa0001'));
    now += 1_000;
    requests.add(entry('aaaa0002'));
    expect(written).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(written).toHaveLength(1);
    expect(written[0]!.level).toBe('info');
    expect(written[0]!.text.split('\n')).toEqual([`09:15:30 ${formatLogLine(entry('aaaa0001'))}`, `09:15:31 ${formatLogLine(entry('aaaa0002'))}`]);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toEqual([
      `[2026-11-27 09:15:30.005] [info]  ${formatLogLine(entry('aaaa0001'))}`,
      `[2026-11-27 09:15:31.005] [info]  ${formatLogLine(entry('aaaa0002'))}`,
    ]);
  });

  it('keeps the order, and warns for requests that did not end well', () => {
    const main = mainLogger(file, written);
    const requests = new RequestLog(main);
    requests.add(entry('bbbb0001'));
    requests.add(entry('bbbb0002', 'denied'));
    requests.add(entry('bbbb0003', 'client_aborted'));
    requests.add(entry('bbbb0004'));
    requests.flush();
    expect(written.map((w) => [w.level, w.text.split('\n').map((l) => l.match(/\[(\w+)\]/)![1])])).toEqual([
      ['info', ['bbbb0001']],
      ['warn', ['bbbb0002', 'bbbb0003']],
      ['info', ['bbbb0004']],
    ]);
    const levels = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.match(/\] \[(\w+)\]/)![1]);
    expect(levels).toEqual(['info', 'warn', 'warn', 'info']);
  });

  it('writes a full queue at once, so a flood holds at most a thousand lines', () => {
    const main = mainLogger(file, written);
    const requests = new RequestLog(main);
    for (let i = 0; i < 1_000; i++) requests.add(entry(`cccc${String(i).padStart(4, '0')}`));
    expect(written).toHaveLength(1);
    expect(written[0]!.text.split('\n')).toHaveLength(1_000);
  });

  it('still rotates the log file', () => {
    const main = mainLogger(file, written);
    main.transports.file.maxSize = 2_000;
    const requests = new RequestLog(main);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) requests.add(entry(`dddd000${i}`));
      requests.flush();
    }
    expect(readdirSync(join(dir, 'logs')).sort()).toEqual(['gate.log', 'gate.old.log']);
  });

  it('writes the file asynchronously when the main logger does, all lines still in order', async () => {
    vi.useRealTimers();
    const main = mainLogger(file, written);
    main.transports.file.sync = false;
    const requests = new RequestLog(main);
    main.info('started');
    for (let i = 0; i < 5; i++) requests.add(entry(`eeee000${i}`));
    requests.flush();
    main.info('stopped');
    await vi.waitFor(() => expect(readFileSync(file, 'utf8')).toContain('stopped'));
    const texts = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^\[[^\]]+\] \[\w+\]\s+/, '').split(' ')[0]);
    expect(texts).toEqual(['started', '[eeee0000]', '[eeee0001]', '[eeee0002]', '[eeee0003]', '[eeee0004]', 'stopped']);
  });
});

describe('compileStamp', () => {
  it("lays a line out exactly as electron-log's own formatting does", () => {
    const time = new Date(2026, 0, 2, 3, 4, 5, 67).getTime();
    for (const template of ['{h}:{i}:{s} {text}', '[{y}-{m}-{d} {h}:{i}:{s}.{ms}] [{level}]{scope} {text}', '{text}']) {
      for (const level of ['info', 'warn'] as const) {
        const seen: string[] = [];
        const logger = log.create({ logId: `stamp-test-${Math.random()}` });
        logger.transports.file.level = false;
        logger.transports.console.format = template;
        logger.transports.console.writeFn = ({ message }) => seen.push(message.data.join(' '));
        logger.processMessage({ data: ['GET /api/tags -> 200'], level, date: new Date(time) });
        expect(compileStamp(template)(level, time, 'GET /api/tags -> 200')).toBe(seen[0]);
      }
    }
  });
});

describe('formatLogLine', () => {
  it('names the backend that answered when it is not the default, and nothing more with one Ollama', () => {
    const line = (backend: string | null) => formatLogLine({ ...entry('aaaa0001'), backend });
    expect(line('default')).toBe(line(null));
    expect(line('default')).not.toContain('backend=');
    expect(line('big')).toBe(`${line('default')} backend=big`);
    expect(line('all')).toMatch(/ backend=all$/);
  });
});
