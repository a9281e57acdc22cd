/**
 * Stable placeholders: `[REDACTED:<rule>:<8 hex>]`, the hex being a keyed hash of the secret. The same
 * secret gets the same placeholder in every turn (so the model can still tell two secrets apart, and the
 * provider's prompt cache sees identical history), while the hash reveals nothing without the key.
 * @module
 */
import { createHash, randomBytes } from "node:crypto";

/** Keyed hash of a secret, hex. Injected as `PolicyServices.secretHasher`; see `processHasher`. */
export type SecretHasher = (value: string) => string;

/**
 * HMAC-SHA256 under `key`, hex. The gateway should build one from a deployment secret.
 *
 * The keyed inner and outer hash states are computed once and copied per value (RFC 2104), which is about
 * four times faster than `createHmac` per value, whose key setup dominates for short secrets.
 */
export function hmacHasher(key: Uint8Array | string): SecretHasher {
  let bytes = typeof key === "string" ? new TextEncoder().encode(key) : key;
  if (bytes.byteLength > 64) bytes = new Uint8Array(createHash("sha256").update(bytes).digest());
  const padded = (fill: number) => {
    const block = new Uint8Array(64).fill(fill);
    bytes.forEach((b, i) => (block[i] = b ^ fill));
    return block;
  };
  const inner = createHash("sha256").update(padded(0x36));
  const outer = createHash("sha256").update(padded(0x5c));
  return (value) => outer.copy().update(inner.copy().update(value).digest()).digest("hex");
}

let processKeyHasher: SecretHasher | undefined;

/**
 * The fallback when no hasher is injected: HMAC-SHA256 under a random key made once per process. Stable
 * for the process's life; differs between replicas and restarts.
 */
export function processHasher(): SecretHasher {
  processKeyHasher ??= hmacHasher(randomBytes(32));
  return processKeyHasher;
}

/** The first 8 hex digits of the keyed hash: enough to tell the secrets of one conversation apart. */
export function shortHash(hasher: SecretHasher, secret: string): string {
  const hex = hasher(secret).toLowerCase();
  if (!/^[0-9a-f]{8}/.test(hex)) {
    throw new Error(
      `secretHasher must return hex, got ${hex.length} characters starting "${hex.slice(0, 2)}"`,
    );
  }
  return hex.slice(0, 8);
}

/** The text that replaces a secret. Contains no character JSON needs to escape. */
export function placeholder(rule: string, hash: string): string {
  return `[REDACTED:${rule}:${hash}]`;
}
