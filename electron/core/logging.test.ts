import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import log from 'electron-log/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RequestLogEntry } from '../core/events.js';
import { configureLogging, logRequest, rotateLogFiles } from './logging.js';

describe('logging', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gate-logs-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('rotates gate.log to gate.1.log, gate.2.log…, keeping a bounded number', () => {
    const file = join(dir, 'gate.log');
    for (let round = 1; round <= 5; round++) {
      writeFileSync(file, `round ${round}`);
      rotateLogFiles(file, 3);
    }
    expect(readdirSync(dir).sort()).toEqual(['gate.1.log', 'gate.2.log', 'gate.3.log']);
    expect(readFileSync(join(dir, 'gate.1.log'), 'utf8')).toBe('round 5');
    expect(readFileSync(join(dir, 'gate.3.log'), 'utf8')).toBe('round 3');
  });

  it('writes a rotating gate.log in the logs folder through electron-log', () => {
    const logger = log.create({ logId: `test-${Date.now()}` });
    logger.transports.console.level = false;
    const file = configureLogging(logger, dir, { maxSize: 2_000, keep: 2 });
    logger.errorHandler.stopCatching();
    expect(file).toBe(join(dir, 'gate.log'));
    for (let i = 0; i < 200; i++) logger.info(`line ${i} ${'x'.repeat(40)}`);
    expect(existsSync(file)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['gate.1.log', 'gate.2.log', 'gate.log']);
    expect(readFileSync(file, 'utf8')).toContain('line 199');
    // It names users, key prefixes and addresses: this user's only, like the store.
    for (const name of readdirSync(dir)) expect(statSync(join(dir, name)).mode & 0o777, name).toBe(0o600);
  });

  it('makes a gate.log an earlier version left readable by others private', () => {
    const file = join(dir, 'gate.log');
    writeFileSync(file, 'old\n', { mode: 0o644 });
    const logger = log.create({ logId: `test-old-${Date.now()}` });
    logger.transports.console.level = false;
    configureLogging(logger, dir);
    logger.errorHandler.stopCatching();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('logs one line per request with the masked key, failures as warnings', () => {
    const lines: Array<[string, string]> = [];
    const logger = { info: (line: string) => void lines.push(['info', line]), warn: (line: string) => void lines.push(['warn', line]) };
    const entry: RequestLogEntry = {
      id: '3fa9c2d1', time: 0, method: 'POST', path: '/api/chat', ip: '192.168.1.23', user: 'alice', keyId: 'k1', keyPrefix: 'og_Zk2Qw',
      keySource: 'bearer', decision: 'allowed', status: 200, ttfbMs: 180.3, durationMs: 2410, bytesIn: 312, bytesOut: 18_600, model: 'llama3.2',
      promptTokens: 10, completionTokens: 20, requestBody: null, outcome: 'ok', error: null, reason: null, client: 'ollama-js/0.6.3', answeredBy: 'ollama',
    };
    logRequest(logger, entry);
    logRequest(logger, { ...entry, status: 403, outcome: 'denied', error: 'the key is disabled' });
    expect(lines[0]).toEqual(['info', expect.stringContaining('[3fa9c2d1] 192.168.1.23 alice (og_Zk2Qw… via bearer) POST /api/chat -> 200')]);
    expect(lines[1]![0]).toBe('warn');
  });
});
