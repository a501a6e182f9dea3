import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageLedger, type UsageSample, monthFile, utcDay } from './usage.js';
import { FakeClock } from '../../test/support/fake-clock.js';

const DAY1 = Date.UTC(2026, 10, 26, 23, 59, 0); // 2026-11-26
const DAY2 = Date.UTC(2026, 10, 27, 0, 1, 0); // 2026-11-27, two minutes later

function sample(overrides: Partial<UsageSample> = {}): UsageSample {
  return {
    keyId: 'k1',
    user: 'alice',
    time: DAY2,
    failed: false,
    promptTokens: 10,
    completionTokens: 5,
    bytesIn: 100,
    bytesOut: 1_000,
    durationMs: 12.4,
    backend: 'default',
    ...overrides,
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gate-usage-unit-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('UsageLedger in memory', () => {
  it('adds up per key and per UTC day', () => {
    const ledger = new UsageLedger(new FakeClock(DAY2));
    ledger.record(sample({ time: DAY1 }));
    ledger.record(sample({ time: DAY2 }));
    ledger.record(
      sample({ time: DAY2 + 1_000, failed: true, promptTokens: null, completionTokens: null, bytesIn: 7, bytesOut: 50, durationMs: 0.6, backend: 'big' }),
    );
    ledger.record(sample({ keyId: 'k2', user: 'bob', time: DAY2, promptTokens: 1, completionTokens: 2 }));
    const rows = ledger.query();
    expect(rows).toEqual([
      {
        day: '2026-11-27',
        keyId: 'k1',
        user: 'alice',
        requests: 2,
        errors: 1,
        promptTokens: 10,
        completionTokens: 5,
        bytesIn: 107,
        bytesOut: 1_050,
        durationMs: 13,
        backends: { default: 1, big: 1 },
      },
      {
        day: '2026-11-27',
        keyId: 'k2',
        user: 'bob',
        requests: 1,
        errors: 0,
        promptTokens: 1,
        completionTokens: 2,
        bytesIn: 100,
        bytesOut: 1_000,
        durationMs: 12,
        backends: { default: 1 },
      },
      {
        day: '2026-11-26',
        keyId: 'k1',
        user: 'alice',
        requests: 1,
        errors: 0,
        promptTokens: 10,
        completionTokens: 5,
        bytesIn: 100,
        bytesOut: 1_000,
        durationMs: 12,
        backends: { default: 1 },
      },
    ]);
  });

  it('filters by first day and by key', () => {
    const ledger = new UsageLedger(new FakeClock(DAY2));
    ledger.record(sample({ time: DAY1 }));
    ledger.record(sample({ time: DAY2 }));
    ledger.record(sample({ keyId: 'k2', user: 'bob', time: DAY1 }));
    expect(ledger.query({ since: '2026-11-27' }).map((r) => `${r.day} ${r.keyId}`)).toEqual(['2026-11-27 k1']);
    expect(ledger.query({ since: '2026-11-26' })).toHaveLength(3);
    expect(ledger.query({ since: '2026-11-28' })).toEqual([]);
    expect(ledger.query({ keyId: 'k2' }).map((r) => `${r.day} ${r.keyId}`)).toEqual(['2026-11-26 k2']);
    expect(ledger.query({ keyId: 'k1', since: '2026-11-27' })).toHaveLength(1);
    expect(ledger.query({ keyId: 'nope' })).toEqual([]);
  });

  it('hands out copies: changing a row returned by query changes nothing', () => {
    const ledger = new UsageLedger(new FakeClock(DAY2));
    ledger.record(sample());
    ledger.query()[0]!.requests = 1_000;
    expect(ledger.query()[0]!.requests).toBe(1);
  });

  it('counts prompt plus completion tokens of today (UTC) only', () => {
    const clock = new FakeClock(DAY1);
    const ledger = new UsageLedger(clock);
    ledger.record(sample({ time: DAY1, promptTokens: 100, completionTokens: 50 }));
    expect(ledger.tokensToday('k1')).toBe(150);
    clock.time = DAY2; // past midnight UTC
    expect(ledger.tokensToday('k1')).toBe(0);
    ledger.record(sample({ time: DAY2, promptTokens: 3, completionTokens: null }));
    ledger.record(sample({ time: DAY2, promptTokens: null, completionTokens: 4 }));
    expect(ledger.tokensToday('k1')).toBe(7);
    expect(ledger.tokensToday('k2')).toBe(0);
  });

  it('names days in UTC', () => {
    expect(utcDay(DAY1)).toBe('2026-11-26');
    expect(utcDay(DAY2)).toBe('2026-11-27');
  });

  it('names the day right at its edges, whatever day was asked for before', () => {
    const midnight = Date.UTC(2026, 11, 31);
    expect(utcDay(midnight - 1)).toBe('2026-12-30');
    expect(utcDay(midnight)).toBe('2026-12-31');
    expect(utcDay(midnight - 1)).toBe('2026-12-30');
    expect(utcDay(midnight + 86_400_000 - 1)).toBe('2026-12-31');
    expect(utcDay(midnight + 86_400_000)).toBe('2027-01-01');
    expect(utcDay(0)).toBe('1970-01-01');
    expect(utcDay(-1)).toBe('1969-12-31');
  });
});

describe('UsageLedger on disk', () => {
  it('keeps usage across instances', async () => {
    const file = join(dir, 'usage.json');
    const first = new UsageLedger(new FakeClock(DAY2), file);
    await first.load(); // no file yet: an empty ledger
    expect(first.query()).toEqual([]);
    first.record(sample({ time: DAY1 }));
    first.record(sample());
    first.record(sample());
    await first.flush();

    const second = new UsageLedger(new FakeClock(DAY2), file);
    await second.load();
    expect(second.query()).toEqual(first.query());
    expect(second.query({ since: '2026-11-27' })[0]).toMatchObject({ requests: 2, promptTokens: 20, completionTokens: 10 });
    expect(second.tokensToday('k1')).toBe(30);
    second.record(sample());
    await second.flush();

    const third = new UsageLedger(new FakeClock(DAY2), file);
    await third.load();
    expect(third.query({ since: '2026-11-27' })[0]!.requests).toBe(3);
  });

  it('counts what was recorded before load on top of what the file holds', async () => {
    const file = join(dir, 'usage.json');
    const first = new UsageLedger(new FakeClock(DAY2), file);
    first.record(sample());
    await first.flush();
    const second = new UsageLedger(new FakeClock(DAY2), file);
    second.record(sample());
    await second.load();
    expect(second.query()[0]!.requests).toBe(2);
    await second.flush();
    const third = new UsageLedger(new FakeClock(DAY2), file);
    await third.load();
    expect(third.query()[0]!.requests).toBe(2);
  });

  it('two ledgers on one file (the app and `serve`) flushing in turn keep both counts', async () => {
    const file = join(dir, 'usage.json');
    const app = new UsageLedger(new FakeClock(DAY2), file);
    const cli = new UsageLedger(new FakeClock(DAY2), file);
    await app.load();
    await cli.load();
    let expected = 0;
    for (let round = 0; round < 5; round++) {
      app.record(sample({ promptTokens: 1, completionTokens: 0 }));
      app.record(sample({ keyId: 'k2', user: 'bob' }));
      expected++;
      await app.flush();
      cli.record(sample({ promptTokens: 1, completionTokens: 0 }));
      expected++;
      await cli.flush();
    }
    // an empty flush changes nothing
    await app.flush();
    const reader = new UsageLedger(new FakeClock(DAY2), file);
    await reader.load();
    expect(reader.query({ keyId: 'k1' })[0]).toMatchObject({ requests: expected, promptTokens: expected });
    expect(reader.query({ keyId: 'k2' })[0]).toMatchObject({ requests: 5 });
    // Each ledger sees the other's counts after its own flush.
    expect(cli.tokensToday('k1')).toBe(expected);
    await app.flush();
    app.record(sample({ promptTokens: 1, completionTokens: 0 }));
    await app.flush();
    expect(app.tokensToday('k1')).toBe(expected + 1);
  });

  it('keeps counts recorded while a flush is writing', async () => {
    const file = join(dir, 'usage.json');
    const ledger = new UsageLedger(new FakeClock(DAY2), file);
    await ledger.load();
    ledger.record(sample());
    const writing = ledger.flush();
    ledger.record(sample());
    expect(ledger.query()[0]!.requests).toBe(2);
    await writing;
    expect(ledger.query()[0]!.requests).toBe(2);
    await ledger.flush();
    const reader = new UsageLedger(new FakeClock(DAY2), file);
    await reader.load();
    expect(reader.query()[0]!.requests).toBe(2);
  });

  it('flushes asked for at once run one after another, losing nothing', async () => {
    const file = join(dir, 'usage.json');
    const ledger = new UsageLedger(new FakeClock(DAY2), file);
    await ledger.load();
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      ledger.record(sample());
      flushes.push(ledger.flush());
    }
    await Promise.all(flushes);
    const reader = new UsageLedger(new FakeClock(DAY2), file);
    await reader.load();
    expect(reader.query()[0]!.requests).toBe(10);
  });

  it('writes atomically: no temporary file is left beside the usage file, which is only readable by its owner', async () => {
    const file = join(dir, 'usage.json');
    const ledger = new UsageLedger(new FakeClock(DAY2), file);
    for (let i = 0; i < 3; i++) {
      ledger.record(sample());
      await ledger.flush();
    }
    expect(readdirSync(dir)).toEqual(['usage-2026-11.json']);
    expect(JSON.parse(readFileSync(monthFile(file, '2026-11'), 'utf8'))).toMatchObject({ version: 1, rows: [{ keyId: 'k1', requests: 3 }] });
    expect(statSync(monthFile(file, '2026-11')).mode & 0o777).toBe(0o600);
  });

  it('creates the directory of the usage file when missing', async () => {
    const file = join(dir, 'nested', 'deeper', 'usage.json');
    const ledger = new UsageLedger(new FakeClock(DAY2), file);
    ledger.record(sample());
    await ledger.flush();
    expect(JSON.parse(readFileSync(monthFile(file, '2026-11'), 'utf8')).rows).toHaveLength(1);
  });

  it('does not write on record: flushes happen later, in the background', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const file = join(dir, 'usage.json');
      const ledger = new UsageLedger(new FakeClock(DAY2), file);
      ledger.record(sample());
      expect(readdirSync(dir)).toEqual([]);
      await vi.advanceTimersByTimeAsync(2_000);
      vi.useRealTimers();
      await ledger.flush(); // waits for the background write to finish
      expect(JSON.parse(readFileSync(monthFile(file, '2026-11'), 'utf8')).rows[0].requests).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    ['not JSON', '{"rows": [ broken'],
    ['JSON without rows', '{"version": 1}'],
    ['JSON null', 'null'],
  ])('a corrupt month file (%s): load names it, it stays untouched, and flushes keep the counts pending', async (_what, content) => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const file = join(dir, 'usage.json');
    const month = monthFile(file, '2026-11');
    writeFileSync(month, content);
    const ledger = new UsageLedger(new FakeClock(DAY2), file);
    await expect(ledger.load()).rejects.toThrow(month);
    await expect(ledger.load()).rejects.toThrow(/not valid/);
    ledger.record(sample());
    ledger.record(sample());
    expect(ledger.query()[0]!.requests).toBe(2); // counted in memory all the same
    await expect(ledger.flush()).rejects.toThrow(month);
    expect(readFileSync(month, 'utf8')).toBe(content);
    expect(readdirSync(dir)).toEqual(['usage-2026-11.json']);

    // Once the user moves the broken file away, the pending counts are written, none lost.
    rmSync(month);
    ledger.record(sample());
    await ledger.flush();
    const reader = new UsageLedger(new FakeClock(DAY2), file);
    await reader.load();
    expect(reader.query()[0]!.requests).toBe(3);
  });

  it('a corrupt usage.json (from before month files): load names it, it stays untouched, and new counts are still saved', async () => {
    const file = join(dir, 'usage.json');
    writeFileSync(file, '{"rows": [ broken');
    const ledger = new UsageLedger(new FakeClock(DAY2), file);
    await expect(ledger.load()).rejects.toThrow(file);
    ledger.record(sample());
    await ledger.flush();
    expect(readFileSync(file, 'utf8')).toBe('{"rows": [ broken');
    expect(JSON.parse(readFileSync(monthFile(file, '2026-11'), 'utf8')).rows[0].requests).toBe(1);
  });

  it('a usage file that cannot be read (a directory) is an error naming it', async () => {
    const file = join(dir, 'usage.json');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(file);
    const ledger = new UsageLedger(new FakeClock(DAY2), file);
    await expect(ledger.load()).rejects.toThrow(`cannot read usage file ${file}`);
    const month = monthFile(file, '2026-11');
    mkdirSync(month);
    ledger.record(sample());
    await expect(ledger.flush()).rejects.toThrow(`could not write usage file ${month}: EISDIR`);
    expect(ledger.query()[0]!.requests).toBe(1);
  });

  it('two ledgers on one file (the app and `serve`) flushing at the same moment keep both counts: a flush is made again on what the other wrote', async () => {
    const file = join(dir, 'usage.json');
    const app = new UsageLedger(new FakeClock(DAY2), file);
    const cli = new UsageLedger(new FakeClock(DAY2), file);
    for (let round = 0; round < 20; round++) {
      app.record(sample({ promptTokens: 1, completionTokens: 0 }));
      cli.record(sample({ promptTokens: 1, completionTokens: 0 }));
      await Promise.all([app.flush(), cli.flush()]);
    }
    const reader = new UsageLedger(new FakeClock(DAY2), file);
    await reader.load();
    expect(reader.query()[0]).toMatchObject({ requests: 40, promptTokens: 40 });
    expect(readdirSync(dir)).toEqual(['usage-2026-11.json']);
  });

  it('writes each month to its own file, and adds in what usage.json held before month files', async () => {
    const file = join(dir, 'usage.json');
    const row = (day: string, requests: number) => ({
      day,
      keyId: 'k1',
      user: 'alice',
      requests,
      errors: 0,
      promptTokens: requests,
      completionTokens: 0,
      bytesIn: 0,
      bytesOut: 0,
      durationMs: 0,
    });
    // An older version's file: every month in one file, the current day included.
    const old = JSON.stringify({ version: 1, rows: [row('2026-09-30', 1), row('2026-11-27', 2)] });
    writeFileSync(file, old);
    const ledger = new UsageLedger(new FakeClock(DAY2), file);
    await ledger.load();
    ledger.record(sample({ time: Date.UTC(2026, 9, 31, 12) })); // a late flush of October
    ledger.record(sample());
    ledger.record(sample({ time: Date.UTC(2026, 11, 1, 0, 0) })); // just past midnight into December
    await ledger.flush();
    expect(readdirSync(dir).sort()).toEqual(['usage-2026-10.json', 'usage-2026-11.json', 'usage-2026-12.json', 'usage.json']);
    expect(readFileSync(file, 'utf8')).toBe(old);
    expect(JSON.parse(readFileSync(monthFile(file, '2026-11'), 'utf8')).rows).toEqual([expect.objectContaining({ day: '2026-11-27', requests: 1 })]);
    expect(ledger.tokensToday('k1')).toBe(2 + 15);

    const reader = new UsageLedger(new FakeClock(DAY2), file);
    await reader.load();
    expect(reader.query().map((r) => [r.day, r.requests])).toEqual([
      ['2026-12-01', 1],
      ['2026-11-27', 3],
      ['2026-10-31', 1],
      ['2026-09-30', 1],
    ]);
    expect(reader.tokensToday('k1')).toBe(2 + 15);
  });

  it('without a file, flush is a no-op and nothing is written', async () => {
    const ledger = new UsageLedger(new FakeClock(DAY2));
    ledger.record(sample());
    await ledger.load();
    await ledger.flush();
    expect(ledger.query()[0]!.requests).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });
});
