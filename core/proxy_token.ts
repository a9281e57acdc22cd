/**
 * Proxy tokens (`HTTPS_PROXY=http://name:token@gateway`) are secrets: Recondo keeps only their keyed hash
 * (HMAC-SHA256 with the fleet's HMAC key), shows a new token once, and compares hashes in constant time.
 * The `proxy-token:` prefix separates these hashes from API-key hashes made with the same key.
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** The keyed hash stored for `token`, lower-case hex. */
export function hashProxyToken(key: Uint8Array, token: string): string {
  return createHmac("sha256", key).update(`proxy-token:${token}`, "utf8").digest("hex");
}

/** A new random token (24 bytes, URL-safe base64: usable as the password of a proxy URL as is). */
export function newProxyToken(): string {
  return randomBytes(24).toString("base64url");
}

/** Whether `token` hashes to `expectedHash`, in constant time. */
export function proxyTokenMatches(key: Uint8Array, token: string, expectedHash: string): boolean {
  const given = new TextEncoder().encode(hashProxyToken(key, token));
  const expected = new TextEncoder().encode(expectedHash.toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
