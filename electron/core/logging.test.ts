import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import log from 'electron-log/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configureLogging, rotateLogFiles } from './logging.js';

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

  it('writes a rotating gate.log in the logs folder through electron-log, in the background', async () => {
    const logger = log.create({ logId: `test-${Date.now()}` });
    logger.transports.console.level = false;
    const { file, unwritable } = configureLogging(logger, dir, { maxSize: 2_000, keep: 2 });
    expect(file).toBe(join(dir, 'gate.log'));
    expect(unwritable).toBeNull();
    // Appended asynchronously, a batch at a time: each batch lands before the next is logged.
    const landed = async (text: string) => {
      for (let waited = 0; !(existsSync(file) && readFileSync(file, 'utf8').includes(text)) && waited < 5_000; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
    };
    for (let i = 0; i < 200; i++) {
      logger.info(`line ${i} ${'x'.repeat(40)}`);
      if (i % 20 === 19) await landed(`line ${i} `);
    }
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
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('a folder it cannot write: one warning naming the file and why, and the file transport off', () => {
    writeFileSync(join(dir, 'logs'), 'a file where the folder should be');
    const logger = log.create({ logId: `test-unwritable-${Date.now()}` });
    const said: string[] = [];
    logger.transports.console.writeFn = ({ message }) => void said.push(String(message.data.join(' ')));
    const setup = configureLogging(logger, join(dir, 'logs'));
    expect(setup.unwritable).toMatch(/EEXIST|ENOTDIR/);
    expect(logger.transports.file.level).toBe(false);
    expect(said).toEqual([expect.stringContaining(`cannot write the log file ${join(dir, 'logs', 'gate.log')}`)]);
  });
});
