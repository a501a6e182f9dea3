import { describe, expect, it } from 'vitest';
import { newRequestId } from './request-id.js';

describe('newRequestId', () => {
  it('gives 8 hex characters, and ids that do not repeat across many refills of its pool', () => {
    const ids = Array.from({ length: 10_000 }, () => newRequestId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}$/);
    // 10,000 draws from 2^32: a repeat is a one-in-a-hundred event; two would mean a reused pool.
    expect(new Set(ids).size).toBeGreaterThanOrEqual(ids.length - 1);
  });
});
