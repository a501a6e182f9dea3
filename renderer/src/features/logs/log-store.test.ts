import { describe, expect, it } from 'vitest';
import { fakeGate } from '../../testing/fake-gate.js';
import { entry } from '../../testing/log-entries.js';
import { LogStore, connectLogStore } from './log-store.js';

const seqs = (store: LogStore) => store.snapshot().map((e) => e.seq);

describe('the log store', () => {
  it('appends live batches and keeps a new snapshot only when something changed', () => {
    const store = new LogStore();
    let changes = 0;
    store.subscribe(() => changes++);
    const empty = store.snapshot();
    expect(store.add([])).toBeNull();
    expect(store.snapshot()).toBe(empty);
    store.add([entry(1), entry(2)]);
    store.add([entry(3)]);
    expect(seqs(store)).toEqual([1, 2, 3]);
    expect(changes).toBe(2);
  });

  it('merges history that arrives after live batches, without duplicates', () => {
    const store = new LogStore();
    store.add([entry(5), entry(6)]);
    store.add([entry(3), entry(4), entry(5)]);
    expect(seqs(store)).toEqual([3, 4, 5, 6]);
  });

  it('keeps only the newest entries past its capacity', () => {
    const store = new LogStore(3);
    store.add([entry(1), entry(2), entry(3), entry(4)]);
    store.add([entry(5)]);
    expect(seqs(store)).toEqual([3, 4, 5]);
  });

  it('says after which seq entries were missed', () => {
    const store = new LogStore();
    store.add([entry(1)]);
    expect(store.add([entry(2)])).toBeNull();
    expect(store.add([entry(7), entry(8)])).toBe(2);
  });

  it('fills from the history and the live events, and catches up on a gap', async () => {
    const recent: unknown[] = [];
    const fake = fakeGate({
      'logs.recent': (request) => {
        recent.push(request);
        const after = (request as { after?: number } | undefined)?.after;
        return after === undefined ? [entry(1), entry(2)] : [entry(3), entry(4)];
      },
    });
    const store = new LogStore(100);
    const stop = connectLogStore(fake.gate, store);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(seqs(store)).toEqual([1, 2]);
    fake.emit('logs', [entry(5)]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(seqs(store)).toEqual([1, 2, 3, 4, 5]);
    expect(recent).toEqual([{ limit: 100 }, { after: 2, limit: 100 }]);
    stop();
    expect(fake.listeners('logs')).toBe(0);
  });
});
