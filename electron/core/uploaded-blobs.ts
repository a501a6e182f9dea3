/**
 * The blobs each key with a model allow-list has uploaded through the gate (POST /api/blobs/…,
 * which Ollama accepts only when the bytes match the digest). `/api/create` may build a model from
 * those files only: a digest is public, so naming another model's layers would copy a model the key
 * may not use. Kept in memory; after a restart a client simply uploads again, since the gate
 * answers "not found" to its check for a blob this key has not uploaded.
 */
export class UploadedBlobs {
  private byKey = new Map<string, Set<string>>();

  constructor(private readonly perKey = 1_000) {}

  add(keyId: string, digest: string): void {
    let digests = this.byKey.get(keyId);
    if (!digests) this.byKey.set(keyId, (digests = new Set()));
    const normal = normalDigest(digest);
    digests.delete(normal); // re-inserted last: the Set runs from least to most recently uploaded
    digests.add(normal);
    if (digests.size > this.perKey) digests.delete(digests.values().next().value!);
  }

  has(keyId: string, digest: string): boolean {
    return this.byKey.get(keyId)?.has(normalDigest(digest)) ?? false;
  }
}

/** Ollama takes `sha256:HEX` and `sha256-HEX` alike. */
function normalDigest(digest: string): string {
  return digest.trim().toLowerCase().replace(/^sha256-/, 'sha256:');
}
