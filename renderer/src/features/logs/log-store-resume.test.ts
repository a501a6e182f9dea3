import { describe, expect, it } from 'vitest';
import { fakeGate } from '../../testing/fake-gate.js';
import { entry } from '../../testing/log-entries.js';
import { LogStore, connectLogStore } from './log-store.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const ids = (store: LogStore) => store.snapshot().map((e) => `${e.seq}:${e.id}`);

/** A gate whose log history the test replaces, as a restarted process would. */
function gateWithHistory(history: ReturnType<typeof entry>[]) {
  const current = { history };
  const fake = fakeGate({
    'logs.recent': (request) => {
      const after = (request as { after?: number } | undefined)?.after ?? 0;
      return current.history.filter((e) => e.seq > after);
    },
  });
  return { fake, current };
}

describe('the log store after a lost connection', () => {
  it('connected again to the same gate: fetches only what came after its newest entry', async () => {
    const { fake, current } = gateWithHistory([entry(1), entry(2)]);
    const store = new LogStore(100);
    const first = connectLogStore(fake.gate, store);
    await settle();
    first();
    current.history = [entry(1), entry(2), entry(3), entry(4)];
    const stop = connectLogStore(fake.gate, store);
    await settle();
    expect(store.snapshot().map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(fake.calls.map((c) => c.request)).toEqual([{ limit: 100 }, { after: 1, limit: 100 }]);
    stop();
  });

  it('connected to a gate that restarted (seq from 1 again): its history replaces the old one', async () => {
    const { fake, current } = gateWithHistory([entry(1), entry(2), entry(3)]);
    const store = new LogStore(100);
    const first = connectLogStore(fake.gate, store);
    await settle();
    first();
    const restarted = (seq: number) => ({ ...entry(seq), id: `new0000${seq}` });
    current.history = [restarted(1)];
    connectLogStore(fake.gate, store);
    await settle();
    expect(ids(store)).toEqual(['1:new00001']);

    // Also when the new process has as many entries, or more: the ids tell.
    current.history = [restarted(1), restarted(2), restarted(3), restarted(4)];
    const other = new LogStore(100);
    other.add([entry(1), entry(2), entry(3)]);
    connectLogStore(fake.gate, other);
    await settle();
    expect(ids(other)).toEqual(['1:new00001', '2:new00002', '3:new00003', '4:new00004']);
  });
});
