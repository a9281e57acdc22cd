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
  return sameSecret(hashProxyToken(key, token), expectedHash.toLowerCase());
}

/** Whether two secrets are equal, in time that does not depend on where they differ. */
export function sameSecret(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A developer as stored: a token given in clear becomes its keyed hash; the clear token is dropped. */
export function withTokenHashed<T extends { token?: string; tokenHash?: string }>(
  developer: T,
  key: Uint8Array,
): Omit<T, "token"> {
  const { token, ...rest } = developer;
  return token ? { ...rest, tokenHash: hashProxyToken(key, token) } : rest;
}
