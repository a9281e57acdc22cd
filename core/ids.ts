/**
 * Identifiers that sort by creation time (UUID version 7), so exchanges and turns list in order
 * without a separate timestamp index.
 * @module
 */

/** Two hex digits per byte value: one lookup per byte instead of `toString(16)` + `padStart`. */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** Random bytes drawn 4 KiB at a time: one `getRandomValues` call per 512 ids, not per id. */
const POOL = new Uint8Array(4096);
let poolAt = POOL.length;

/** A UUID v7 string: 48 bits of epoch milliseconds, then random bits. */
export function newId(now: number = Date.now()): string {
  if (poolAt + 10 > POOL.length) {
    crypto.getRandomValues(POOL);
    poolAt = 0;
  }
  const r = POOL.subarray(poolAt, poolAt + 10);
  poolAt += 10;
  // 48-bit milliseconds as two parts: the high 16 bits and the low 32 (bitwise ops are 32-bit).
  const high = Math.floor(now / 0x1_0000_0000);
  const low = now >>> 0;
  return HEX[(high >>> 8) & 0xff] + HEX[high & 0xff] + HEX[low >>> 24] + HEX[(low >>> 16) & 0xff] + "-" +
    HEX[(low >>> 8) & 0xff] + HEX[low & 0xff] + "-" +
    HEX[0x70 | (r[0] & 0x0f)] + HEX[r[1]] + "-" +
    HEX[0x80 | (r[2] & 0x3f)] + HEX[r[3]] + "-" +
    HEX[r[4]] + HEX[r[5]] + HEX[r[6]] + HEX[r[7]] + HEX[r[8]] + HEX[r[9]];
}
