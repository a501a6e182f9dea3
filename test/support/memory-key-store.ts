import type { KeyPatches, KeyRecord, KeyStore } from '../../electron/core/keys.js';

/** A key store in memory, for tests: every read and write is a copy, as with a file. */
export class MemoryKeyStore implements KeyStore {
  private records: KeyRecord[];
  constructor(records: KeyRecord[] = []) {
    this.records = records.map((r) => ({ ...r }));
  }
  list(): KeyRecord[] {
    return this.records.map((r) => ({ ...r }));
  }
  add(record: KeyRecord): void {
    this.records.push({ ...record });
  }
  update(id: string, patch: Partial<Omit<KeyRecord, 'id'>>): void {
    const index = this.records.findIndex((r) => r.id === id);
    if (index >= 0) this.records[index] = { ...this.records[index]!, ...patch };
  }
  updateEach(patches: KeyPatches): void {
    for (const [id, patch] of patches) this.update(id, patch);
  }
  remove(id: string): void {
    this.records = this.records.filter((r) => r.id !== id);
  }
}
