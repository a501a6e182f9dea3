import { describe, expect, it } from 'vitest';
import type { KeyView, SessionView } from '../../../../electron/shared/contract.js';
import { sessionRows } from './sessions.js';

const session = (ip: string, lastSeenAt: number, expiresAt: number): SessionView => ({ ip, keyId: 'k1', user: 'alice', createdAt: 0, lastSeenAt, expiresAt });

describe('session rows', () => {
  it('lists the most recently seen first, with the key prefix and the time left', () => {
    const keys = [{ id: 'k1', prefix: 'og_ab12' } as KeyView];
    const rows = sessionRows([session('10.0.0.2', 100, 5_000), session('10.0.0.3', 200, 900)], keys, 1_000);
    expect(rows.map((row) => [row.ip, row.keyPrefix, row.remainingMs])).toEqual([
      ['10.0.0.3', 'og_ab12', 0],
      ['10.0.0.2', 'og_ab12', 4_000],
    ]);
  });

  it('copes with a key that is gone', () => {
    expect(sessionRows([session('::1', 0, 10)], [], 0)[0]!.keyPrefix).toBeNull();
  });
});
