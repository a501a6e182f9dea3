import { type Hash, createHash } from 'node:crypto';

/**
 * The blobs each key with a model allow-list has uploaded through the gate. `/api/create` may build
 * a model from those files only: a digest is public, so naming another model's layers would copy a
 * model the key may not use. An upload counts when its bytes are proven to match the digest: Ollama
 * answers 201 only after checking them, but 200 for a blob it already has, without reading a byte,
 * so then the gate's own hash of everything the client sent must match. Kept in memory; after a
 * restart a client simply uploads again, since the gate answers "not found" to its check for a blob
 * this key has not uploaded.
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

/** Hashes an upload's bytes as they stream through, to prove them against the digest they claim. */
export class UploadProof {
  private readonly hash: Hash = createHash('sha256');
  private complete = false;

  constructor(readonly digest: string) {}

  async *tap(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    for await (const chunk of source) {
      this.hash.update(chunk);
      yield chunk;
    }
    this.complete = true;
  }

  /** Whether every byte of the body went through and they hash to the digest. */
  get matches(): boolean {
    return this.complete && `sha256:${this.hash.copy().digest('hex')}` === normalDigest(this.digest);
  }
}

/** Ollama takes `sha256:HEX` and `sha256-HEX` alike. */
function normalDigest(digest: string): string {
  return digest
    .trim()
    .toLowerCase()
    .replace(/^sha256-/, 'sha256:');
}
