import { getHeapStatistics } from 'node:v8';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleCompaction } from './idle-memory.js';

describe('IdleCompaction', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const compaction = (collect: () => void) => new IdleCompaction({ minRequests: 3, quietMs: 10_000, collect, now: () => Date.now() });

  it('collects twice, a second apart, once the gate has been quiet after a burst', () => {
    const collect = vi.fn();
    const idle = compaction(collect);
    for (let i = 0; i < 3; i++) idle.noteRequest();
    vi.advanceTimersByTime(9_999);
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(collect).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1_000);
    expect(collect).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(60_000);
    expect(collect).toHaveBeenCalledTimes(2);
  });

  it('waits while requests keep coming, and counts the next burst from zero', () => {
    const collect = vi.fn();
    const idle = compaction(collect);
    for (let i = 0; i < 3; i++) idle.noteRequest();
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(6_000);
      idle.noteRequest();
    }
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(10_000);
    expect(collect).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1_000);
    idle.noteRequest();
    idle.noteRequest();
    vi.advanceTimersByTime(60_000);
    expect(collect).toHaveBeenCalledTimes(2);
  });

  it('never collects for a trickle, and not after stop()', () => {
    const collect = vi.fn();
    const trickle = compaction(collect);
    trickle.noteRequest();
    trickle.noteRequest();
    vi.advanceTimersByTime(60_000);
    const stopped = compaction(collect);
    for (let i = 0; i < 3; i++) stopped.noteRequest();
    stopped.stop();
    vi.advanceTimersByTime(60_000);
    expect(collect).not.toHaveBeenCalled();
  });

  it('skips the second collection when requests came back in between', () => {
    const collect = vi.fn();
    const idle = compaction(collect);
    for (let i = 0; i < 3; i++) idle.noteRequest();
    vi.advanceTimersByTime(10_000);
    idle.noteRequest();
    vi.advanceTimersByTime(1_000);
    expect(collect).toHaveBeenCalledTimes(1);
  });
});

describe("IdleCompaction's own collection", () => {
  it('returns a heap grown by garbage to about its live size, in a process started without --expose-gc', async () => {
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
    let garbage: unknown[] | undefined = Array.from({ length: 400 }, () => Array.from({ length: 10_000 }, (_, i) => ({ i })));
    const grown = getHeapStatistics().total_heap_size;
    expect(garbage).toHaveLength(400);
    garbage = undefined;
    new IdleCompaction({ minRequests: 1, quietMs: 10 }).noteRequest();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(grown).toBeGreaterThan(100_000_000);
    expect(getHeapStatistics().total_heap_size).toBeLessThan(grown / 2);
  });
});
