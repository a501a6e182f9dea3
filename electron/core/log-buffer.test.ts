import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher, RecentBuffer } from './log-buffer.js';

describe('RecentBuffer', () => {
  it('numbers items from 1 and keeps only the newest capacity of them, oldest first', () => {
    const buffer = new RecentBuffer<{ n: number }>(3);
    for (let n = 1; n <= 5; n++) buffer.push({ n });
    expect(buffer.size).toBe(3);
    expect(buffer.recent()).toEqual([
      { n: 3, seq: 3 },
      { n: 4, seq: 4 },
      { n: 5, seq: 5 },
    ]);
  });

  it('returns the last `limit` items and only those after a seq', () => {
    const buffer = new RecentBuffer<{ n: number }>(10);
    for (let n = 1; n <= 8; n++) buffer.push({ n });
    expect(buffer.recent({ limit: 2 }).map((e) => e.seq)).toEqual([7, 8]);
    expect(buffer.recent({ after: 5 }).map((e) => e.seq)).toEqual([6, 7, 8]);
    expect(buffer.recent({ after: 5, limit: 1 }).map((e) => e.seq)).toEqual([8]);
    expect(buffer.recent({ after: 8 })).toEqual([]);
  });

  it('stays bounded and ordered after wrapping many times', () => {
    const buffer = new RecentBuffer<{ n: number }>(2_000);
    for (let n = 1; n <= 12_345; n++) buffer.push({ n });
    const recent = buffer.recent();
    expect(recent).toHaveLength(2_000);
    expect(recent[0]!.seq).toBe(10_346);
    expect(recent.at(-1)!.seq).toBe(12_345);
    expect(recent.every((e, i) => i === 0 || e.seq === recent[i - 1]!.seq + 1)).toBe(true);
  });

  it('goes on numbering after the items restored from an earlier run, keeping the newest that fit', () => {
    const restored = [3, 4, 7].map((seq) => ({ n: seq * 10, seq }));
    const buffer = new RecentBuffer<{ n: number }>(2, restored);
    expect(buffer.recent()).toEqual([
      { n: 40, seq: 4 },
      { n: 70, seq: 7 },
    ]);
    expect(buffer.push({ n: 80 })).toBe(8);
    expect(buffer.recent({ after: 6 }).map((e) => e.seq)).toEqual([7, 8]);
  });

  it("copies the item rather than numbering the caller's object", () => {
    const buffer = new RecentBuffer<{ n: number }>();
    const item = { n: 1 };
    buffer.push(item);
    expect(item).toEqual({ n: 1 });
  });
});

describe('Batcher', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the first item after a quiet spell at once, then waits out the interval', () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>((b) => batches.push(b), { intervalMs: 100, now: () => Date.now() });
    batcher.push(1);
    vi.advanceTimersByTime(0);
    expect(batches).toEqual([[1]]);
    batcher.push(2);
    batcher.push(3);
    vi.advanceTimersByTime(99);
    expect(batches).toEqual([[1]]);
    vi.advanceTimersByTime(1);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('emits at most ten batches a second under a burst of thousands, losing nothing that fits', () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>((b) => batches.push(b), { intervalMs: 100, maxBatch: 2_000, now: () => Date.now() });
    // 10,000 items spread over 2 seconds: 5 items every millisecond.
    let next = 0;
    for (let ms = 0; ms < 2_000; ms++) {
      for (let i = 0; i < 5; i++) batcher.push(next++);
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(200);
    expect(batches.length).toBeLessThanOrEqual(21);
    expect(batches.length).toBeGreaterThanOrEqual(19);
    expect(batches.flat()).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
  });

  it('drops the oldest pending items beyond maxBatch in a flood, and still sends one message', () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>((b) => batches.push(b), { intervalMs: 100, maxBatch: 1_000, now: () => Date.now() });
    batcher.push(-1);
    vi.advanceTimersByTime(0);
    for (let i = 0; i < 50_000; i++) batcher.push(i);
    vi.advanceTimersByTime(100);
    expect(batches).toHaveLength(2);
    expect(batches[1]).toHaveLength(1_000);
    expect(batches[1]![0]).toBe(49_000);
    expect(batches[1]!.at(-1)).toBe(49_999);
  });

  it('flush sends at once and close drops what is pending', () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number>((b) => batches.push(b), { intervalMs: 100, now: () => Date.now() });
    batcher.push(1);
    batcher.flush();
    expect(batches).toEqual([[1]]);
    batcher.push(2);
    batcher.close();
    vi.advanceTimersByTime(1_000);
    expect(batches).toEqual([[1]]);
  });
});
