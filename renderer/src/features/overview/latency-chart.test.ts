import { describe, expect, it } from 'vitest';
import { latencyChart } from './latency-chart.js';

const NOW = 1_000_000_000;

describe('the latency chart', () => {
  it('places probes by time across the window and by latency up the axis', () => {
    const chart = latencyChart(
      [
        { time: NOW - 600_000, ms: 0 },
        { time: NOW - 300_000, ms: 20 },
        { time: NOW, ms: 40 },
      ],
      { now: NOW, width: 452, height: 128 },
    );
    expect(chart.plot).toEqual({ left: 44, top: 8, right: 444, bottom: 108 });
    expect(chart.ticks.map((tick) => tick.value)).toEqual([0, 20, 40]);
    expect(chart.lines).toEqual(['44,108 244,58 444,8']);
    expect(chart.points).toEqual([
      { x: 44, y: 108 },
      { x: 244, y: 58 },
      { x: 444, y: 8 },
    ]);
    expect(chart.failures).toEqual([]);
  });

  it('breaks the line where a probe failed and marks the failure', () => {
    const chart = latencyChart(
      [
        { time: NOW - 400_000, ms: 5 },
        { time: NOW - 300_000, ms: 6 },
        { time: NOW - 200_000, ms: null },
        { time: NOW - 100_000, ms: 7 },
      ],
      { now: NOW, width: 452, height: 128 },
    );
    expect(chart.lines).toHaveLength(2);
    expect(chart.failures).toEqual([310.7]);
  });

  it('leaves out probes older than the window and copes with none at all', () => {
    expect(latencyChart([{ time: NOW - 3_600_000, ms: 9 }], { now: NOW }).lines).toEqual([]);
    const empty = latencyChart([], { now: NOW });
    expect(empty.lines).toEqual([]);
    expect(empty.ticks.map((tick) => tick.value)).toEqual([0, 1]);
  });
});
