import { describe, expect, it } from 'vitest';
import type { UsageRow } from '../../../../electron/shared/contract.js';
import { backendTotals, metricOf, totalsByKey, usageChart, usageDays } from './usage-chart.js';

const row = (day: string, keyId: string, requests: number, tokens = 0, backends: Record<string, number> = { default: requests }): UsageRow => ({
  day,
  keyId,
  user: keyId.toUpperCase(),
  requests,
  errors: 0,
  promptTokens: tokens,
  completionTokens: 0,
  bytesIn: 0,
  bytesOut: 0,
  durationMs: 0,
  backends,
});

describe('usage', () => {
  it('lists the days of a range in UTC, oldest first', () => {
    expect(usageDays(Date.UTC(2026, 2, 1, 23, 30), 3)).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
  });

  it('totals each key, busiest first', () => {
    const totals = totalsByKey([row('2026-01-01', 'a', 2, 10), row('2026-01-02', 'a', 3, 5), row('2026-01-02', 'b', 9)]);
    expect(totals.map((t) => [t.keyId, t.requests, t.promptTokens])).toEqual([
      ['b', 9, 0],
      ['a', 5, 15],
    ]);
    expect(metricOf(totals[1]!, 'tokens')).toBe(15);
  });

  it('totals each key’s requests by the backend that answered them', () => {
    const rows = [
      row('2026-01-01', 'a', 5, 0, { default: 2, big: 3 }),
      row('2026-01-02', 'a', 4, 0, { big: 1, all: 1, default: 2 }),
      row('2026-01-02', 'b', 2, 0, { default: 2 }),
    ];
    const [a, b] = totalsByKey(rows);
    expect(a!.backends).toEqual({ default: 4, big: 4, all: 1 });
    expect(b!.backends).toEqual({ default: 2 });
    // The default first, then the busiest; a backend with no request is left out.
    expect(backendTotals([...rows, row('2026-01-03', 'c', 0, 0, { spare: 0 })])).toEqual([
      { name: 'default', requests: 6 },
      { name: 'big', requests: 4 },
      { name: 'all', requests: 1 },
    ]);
    // One Ollama: one name, nothing worth breaking down.
    expect(backendTotals([row('2026-01-01', 'a', 3)])).toEqual([{ name: 'default', requests: 3 }]);
    // Rows from before several backends carry none.
    expect(backendTotals([{ backends: undefined as unknown as Record<string, number> }])).toEqual([]);
  });

  it('stacks each day’s keys in legend order on a rounded axis', () => {
    const chart = usageChart([row('2026-01-02', 'a', 30), row('2026-01-02', 'b', 10), row('2026-01-01', 'b', 5)], {
      days: ['2026-01-01', '2026-01-02'],
      metric: 'requests',
      series: ['a', 'b'],
      width: 248,
      height: 130,
    });
    // plot: 48..240 wide, 8..108 tall; the axis ends at 40
    expect(chart.ticks.map((t) => t.value)).toEqual([0, 10, 20, 30, 40]);
    const [first, second] = chart.bars;
    expect(first!.segments).toEqual([{ keyId: 'b', series: 1, value: 5, y: 95.5, height: 12.5 }]);
    expect(second!.total).toBe(40);
    expect(second!.segments.map((s) => [s.keyId, s.y, s.height])).toEqual([
      ['a', 33, 75],
      ['b', 8, 25],
    ]);
    expect(second!.x).toBeGreaterThan(first!.x);
  });

  it('draws an empty range without dividing by zero', () => {
    const chart = usageChart([], { days: usageDays(Date.UTC(2026, 0, 31), 30), metric: 'tokens', series: [] });
    expect(chart.bars).toHaveLength(30);
    expect(chart.bars.every((bar) => bar.segments.length === 0)).toBe(true);
    expect(chart.ticks.map((t) => t.value)).toEqual([0, 1]);
    expect(chart.labels.at(-1)!.day).toBe('2026-01-31');
  });
});
