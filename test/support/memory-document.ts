import type { JsonDocument } from '../../electron/core/gate-store.js';

/** A store file in memory, for a GateStore in tests: every read and write is a copy, as with a file. */
export class MemoryDocument implements JsonDocument {
  readonly path = '/nowhere/gate.json';
  /** the names written, in order */
  readonly writes: string[] = [];
  private data: Record<string, unknown> = {};
  get store(): Record<string, unknown> {
    return structuredClone(this.data);
  }
  set(key: string, value: unknown): void {
    this.writes.push(key);
    this.data[key] = structuredClone(value);
  }
}
