import type { GateApi, LogEntry } from '../../../../electron/shared/contract.js';

/**
 * The window's copy of the request log: entries in seq order, at most `capacity` of them, merged
 * from the history (`logs.recent`) and the live batches (`logs` event) whatever order they come
 * in. A snapshot is a new array only when something changed, for useSyncExternalStore.
 */
export class LogStore {
  private entries: readonly LogEntry[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(readonly capacity = 10_000) {}

  /** Oldest first. */
  snapshot = (): readonly LogEntry[] => this.entries;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** the newest seq held, or -1 */
  get lastSeq(): number {
    return this.entries.at(-1)?.seq ?? -1;
  }

  /**
   * Adds entries. Returns the seq after which some were missed (a live batch that does not follow
   * on from what is held: the connection dropped, or the history had not arrived yet), else null.
   */
  add(batch: readonly LogEntry[]): number | null {
    if (batch.length === 0) return null;
    const last = this.lastSeq;
    const first = batch[0]!.seq;
    const gap = last >= 0 && first > last + 1 ? last : null;
    const ordered = batch.every((entry, i) => i === 0 || entry.seq > batch[i - 1]!.seq);
    let next: LogEntry[];
    if (ordered && first > last) next = [...this.entries, ...batch];
    else {
      const bySeq = new Map<number, LogEntry>();
      for (const entry of this.entries) bySeq.set(entry.seq, entry);
      for (const entry of batch) bySeq.set(entry.seq, entry);
      next = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    }
    if (next.length > this.capacity) next = next.slice(next.length - this.capacity);
    this.entries = next;
    for (const listener of [...this.listeners]) listener();
    return gap;
  }

  clear(): void {
    this.entries = [];
    for (const listener of [...this.listeners]) listener();
  }
}

/** Fills the store from the gate: live batches first, so nothing falls between them and the history. */
export function connectLogStore(gate: GateApi, store: LogStore): () => void {
  let live = true;
  let fetching = false;
  const catchUp = async (after?: number) => {
    if (fetching) return;
    fetching = true;
    try {
      const result = await gate.logs.recent(after === undefined ? { limit: store.capacity } : { after, limit: store.capacity });
      if (live && result.ok) store.add(result.value);
    } finally {
      fetching = false;
    }
  };
  // Connected again (after a lost connection) with entries held: fetch only what came after them,
  // unless the gate is another process now (seq starts again from 1), whose history replaces ours.
  const resume = async () => {
    const held = store.snapshot().at(-1);
    const last = store.lastSeq;
    const result = await gate.logs.recent({ after: last - 1, limit: store.capacity });
    if (!live || !result.ok) return;
    const first = result.value[0];
    const sameProcess = first !== undefined && (first.seq > last || (first.seq === last && first.id === held?.id));
    if (sameProcess) store.add(result.value);
    else {
      const fresh = await gate.logs.recent({ limit: store.capacity });
      if (!live || !fresh.ok) return;
      store.clear();
      store.add(fresh.value);
    }
  };
  const stop = gate.on('logs', (batch) => {
    const missedAfter = store.add(batch);
    if (missedAfter !== null) void catchUp(missedAfter);
  });
  void (store.lastSeq >= 0 ? resume() : catchUp());
  return () => {
    live = false;
    stop();
  };
}
