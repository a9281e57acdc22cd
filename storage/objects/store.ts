/**
 * The object store contract: content-addressed, gzipped bodies keyed by the SHA-256 of their exact
 * (uncompressed) bytes. Two implementations exist, a local folder and S3; the capture pipeline and
 * `verify` only see this interface.
 * @module
 */

/** What a stored object is, kept beside it where the backend can (S3 metadata). */
export interface ObjectMeta {
  /**
   * `request`, `response` (bodies), `ws-client`/`ws-server` (WebSocket transcripts), `pack` (the new
   * segments of one request body, `storage/bodies/pack.ts`).
   */
  kind: "request" | "response" | "ws-client" | "ws-server" | "pack";
  /** Uncompressed size in bytes. */
  size: number;
  /** The body's content type when known. */
  contentType?: string;
}

/** A content-addressed store of gzipped bodies. Identical bodies are stored once. */
export interface ObjectStore {
  /** Which backend, for logs and `verify` output. */
  readonly kind: "local" | "s3";
  /**
   * Stores `gzipped` under `sha256Hex` (the hash of the *uncompressed* bytes). Storing an existing hash
   * again is a no-op, so callers need not check `has` first.
   */
  put(sha256Hex: string, gzipped: Uint8Array, meta: ObjectMeta): Promise<void>;
  /** The gzipped bytes, or `null` when no such object exists. */
  get(sha256Hex: string): Promise<Uint8Array | null>;
  /**
   * Bytes `[start, end)` of the stored (gzipped) object, or `null` when it is missing: one member of a
   * segment pack (`storage/bodies/pack.ts`) without fetching the whole pack. On S3 a ranged GET.
   */
  getRange(sha256Hex: string, start: number, end: number): Promise<Uint8Array | null>;
  has(sha256Hex: string): Promise<boolean>;
  /**
   * Removes an object (retention) for good: on a versioned S3 bucket every version, not just a delete
   * marker over them. S3 refuses while Object Lock retention holds; ask `retainedUntil` first.
   */
  delete(sha256Hex: string): Promise<void>;
  /**
   * When Object Lock retention on the object ends, so retention can keep it instead of failing to delete
   * it; `null` when nothing retains it (no lock, no such object, or a backend without locks). The date may
   * be in the past: the caller compares it with its own clock.
   */
  retainedUntil(sha256Hex: string): Promise<Date | null>;
  /**
   * Whether an S3 Object Lock legal hold is on for the object, on any of its versions: retention keeps
   * such an object (deleting it would fail) and asks again on later runs, since a hold has no end date.
   * `false` for a backend without holds.
   */
  legalHold(sha256Hex: string): Promise<boolean>;
  /** Every stored hash, in no particular order. */
  list(): AsyncIterable<string>;
  close(): Promise<void>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Throws unless `value` is a lower-case hex SHA-256, so no caller can build a path from junk. */
export function assertSha256Hex(value: string): void {
  if (!SHA256_HEX.test(value)) throw new TypeError(`Not a SHA-256 hex digest: "${value.slice(0, 80)}"`);
}
