import { randomFillSync } from 'node:crypto';

/** Random bytes fetched in bulk: one call to the system's generator serves 1,024 request ids. */
const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;

/** 8 random hex characters naming one request in logs and in X-Request-Id (not a secret). */
export function newRequestId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('hex', offset, offset + 4);
  offset += 4;
  return id;
}
