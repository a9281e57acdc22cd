/**
 * Password hashing for UI accounts with scrypt (`node:crypto`), stored as
 * `scrypt$N$r$p$<salt b64>$<hash b64>` so the cost can be raised later without breaking old hashes.
 * @example
 * const stored = await hashPassword("correct horse");
 * await verifyPassword("correct horse", stored); // true
 * @module
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

const N = 16_384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (error, key) => {
      if (error) reject(new Error("scrypt failed", { cause: error }));
      else resolve(key);
    });
  });
}

/** Hashes `password` with a fresh 16-byte salt. */
export async function hashPassword(password: string): Promise<string> {
  if (password.length < 8) {
    throw new RangeError(`A password must have at least 8 characters, got ${password.length}`);
  }
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/** Whether `password` matches `stored` (constant-time compare); a malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  if (![n, r, p].every(Number.isSafeInteger) || n > 1_048_576) return false;
  const expected = Buffer.from(parts[5], "base64");
  const key = await derive(password, Buffer.from(parts[4], "base64"), n, r, p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}
