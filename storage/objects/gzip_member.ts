/**
 * One gzip member per pack member (`storage/bodies/pack.ts`), compressed only where it pays. A body under
 * `STORE_BELOW_BYTES` is written as a gzip member of _stored_ deflate blocks (RFC 1951 §3.2.4: the bytes
 * as they are, framed, with the usual CRC-32): still valid gzip, so every reader (`gunzipBytes`, ranged
 * reads, `verify`) decompresses and hashes it as before, but building it costs a CRC instead of a zlib
 * stream (~1 µs against ~20–40 µs for a 2 KB body), and deflate gains little on a few hundred bytes.
 * Bodies up to `SYNC_UP_TO_BYTES` are compressed on the calling thread (the capture worker): for small
 * inputs the hop to libuv's pool costs more than it spares.
 * @module
 */
import zlib from "node:zlib";
import { gzipBytes } from "./content.ts";

/** Bodies shorter than this are stored, not deflated. */
export const STORE_BELOW_BYTES = 1024;
/** Bodies up to this size are deflated synchronously, larger ones on libuv's pool. */
export const SYNC_UP_TO_BYTES = 64 * 1024;
/** Largest stored deflate block (its length field is 16 bits). */
const MAX_STORED_BLOCK = 65_535;

/** A gzip member of `bytes`: stored when short, deflated otherwise. */
export function gzipMember(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length < STORE_BELOW_BYTES) return Promise.resolve(storedGzip(bytes));
  if (bytes.length > SYNC_UP_TO_BYTES) return gzipBytes(bytes);
  const out = zlib.gzipSync(bytes, { windowBits: windowBitsFor(bytes.length) });
  return Promise.resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
}

/**
 * The smallest deflate window that holds all of an input of `length` bytes (plus zlib's lookahead margin
 * of 262): the same matches, so the same output as the default 32 KiB window, but zlib sets up and clears
 * less memory per stream (a 2 KB body: ~55 → ~48 µs).
 */
export function windowBitsFor(length: number): number {
  let bits = 9;
  while (bits < 15 && 1 << bits < length + 262) bits++;
  return bits;
}

/**
 * `bytes` as one gzip member of stored deflate blocks (no compression), e.g. for a short body. Framed here
 * rather than by a library: fflate 0.8.3's `gzipSync(…, { level: 0 })` (~5 µs) writes a member that fails
 * its CRC for a 65,535-byte input (checked 2026-12-07), and zlib's level 0 (~10 µs) still sets up a stream.
 */
export function storedGzip(bytes: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(bytes.length / MAX_STORED_BLOCK));
  const out = new Uint8Array(10 + blocks * 5 + bytes.length + 8);
  // Header: magic, deflate, no flags, no mtime, no extra flags, OS unknown.
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
  const view = new DataView(out.buffer);
  let at = 10;
  for (let block = 0; block < blocks; block++) {
    const start = block * MAX_STORED_BLOCK;
    const length = Math.min(MAX_STORED_BLOCK, bytes.length - start);
    out[at] = block === blocks - 1 ? 1 : 0; // BFINAL, BTYPE 00 (stored)
    view.setUint16(at + 1, length, true);
    view.setUint16(at + 3, ~length & 0xffff, true);
    out.set(bytes.subarray(start, start + length), at + 5);
    at += 5 + length;
  }
  view.setUint32(at, zlib.crc32(bytes) >>> 0, true);
  view.setUint32(at + 4, bytes.length >>> 0, true);
  return out;
}
