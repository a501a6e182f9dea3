/**
 * The recent request history a window sees first, and the throttle that keeps live log traffic to
 * the window at a pace it can render whatever the gate is doing.
 */

/**
 * A bounded ring: the newest `capacity` items, each numbered in arrival order (`seq`, from 1).
 * Items are kept as given and copied with their number only when read: on a busy gate many more
 * are pushed than anyone reads.
 */
export class RecentBuffer<T extends object> {
  private readonly items: Array<{ item: T; seq: number }> = [];
  private start = 0;
  private lastSeq = 0;

  constructor(
    readonly capacity = 2_000,
    /** items kept from an earlier run, oldest first: numbering goes on after the last of them */
    restored: ReadonlyArray<T & { seq: number }> = [],
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    for (const { seq, ...rest } of restored.slice(-capacity)) this.items.push({ item: rest as unknown as T, seq });
    this.lastSeq = restored.reduce((last, item) => Math.max(last, item.seq), 0);
  }

  /** Numbers and stores an item, dropping the oldest when full; returns its number. */
  push(item: T): number {
    const entry = { item, seq: ++this.lastSeq };
    if (this.items.length < this.capacity) this.items.push(entry);
    else {
      this.items[this.start] = entry;
      this.start = (this.start + 1) % this.capacity;
    }
    return entry.seq;
  }

  /** Oldest first: the last `limit` items, only those numbered above `after` when given. */
  recent({ limit = this.capacity, after = 0 }: { limit?: number; after?: number } = {}): Array<T & { seq: number }> {
    const ordered = [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
    const newer = after > 0 ? ordered.filter((entry) => entry.seq > after) : ordered;
    const wanted = limit >= newer.length ? newer : newer.slice(newer.length - limit);
    return wanted.map(({ item, seq }) => ({ ...item, seq }));
  }

  get size(): number {
    return this.items.length;
  }
}

export interface BatcherOptions {
  /** the shortest time between two batches; 100 ms is at most ten messages a second */
  intervalMs?: number;
  /** the most items one batch carries; under a flood the oldest pending ones are dropped */
  maxBatch?: number;
  now?: () => number;
}

/**
 * Collects items and hands them on in batches, at most one batch per interval. After a quiet spell
 * the first item goes out at once; under load items wait for the rest of the interval.
 */
export class Batcher<T> {
  private pending: T[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastEmit = Number.NEGATIVE_INFINITY;
  private readonly intervalMs: number;
  private readonly maxBatch: number;
  private readonly now: () => number;

  constructor(
    private readonly emit: (batch: T[]) => void,
    options: BatcherOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 100;
    this.maxBatch = options.maxBatch ?? 2_000;
    this.now = options.now ?? (() => Date.now());
  }

  push(item: T): void {
    this.pending.push(item);
    // Trimmed in chunks, not per item, so a flood costs amortised O(1) per push.
    if (this.pending.length > this.maxBatch * 2) this.pending = this.pending.slice(-this.maxBatch);
    if (this.timer) return;
    const wait = Math.max(0, this.lastEmit + this.intervalMs - this.now());
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref?.();
  }

  /** Sends what is pending now (if anything). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending.length > this.maxBatch ? this.pending.slice(-this.maxBatch) : this.pending;
    this.pending = [];
    this.lastEmit = this.now();
    this.emit(batch);
  }

  /** Drops what is pending and stops the timer. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }
}
