/**
 * Hashing and compression of bodies for the object store. SHA-256 is taken over the exact bytes (before
 * gzip), so anyone can re-hash a decompressed object and compare it with the name it is stored under.
 * Compression runs on libuv's thread pool (node:zlib async), off the event loop that serves traffic.
 * @module
 */
import { createHash } from "node:crypto";
import { gunzip, gzip } from "node:zlib";
import { promisify } from "node:util";
import type { ObjectMeta, ObjectStore } from "./store.ts";

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Lower-case hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Gzips `bytes` (level 6, the zlib default: a good ratio for JSON at modest CPU). */
export async function gzipBytes(bytes: Uint8Array): Promise<Uint8Array> {
  const out = await gzipAsync(bytes);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Reverses `gzipBytes`. */
export async function gunzipBytes(bytes: Uint8Array): Promise<Uint8Array> {
  const out = await gunzipAsync(bytes);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Hashes, gzips and stores `bytes` unless an object with that hash already exists; returns the hash.
 * @example const sha = await storeBody(store, body, { kind: "request", size: body.length });
 */
export async function storeBody(store: ObjectStore, bytes: Uint8Array, meta: ObjectMeta): Promise<string> {
  const sha = sha256Hex(bytes);
  if (await store.has(sha)) return sha;
  await store.put(sha, await gzipBytes(bytes), meta);
  return sha;
}

/** Reads an object back and decompresses it; `null` when missing. */
export async function loadBody(store: ObjectStore, sha: string): Promise<Uint8Array | null> {
  const gz = await store.get(sha);
  return gz === null ? null : await gunzipBytes(gz);
}
