/**
 * A pack: the new segments of one request body in one object, so an exchange costs one object write
 * however many segments are new (on S3, one PUT). It is a multi-member gzip file: the first member is an
 * index (JSON: pack id, then each segment's hash and size), each further member one segment, compressed
 * on its own so a ranged read of its bytes decompresses alone. Decompressed whole, a pack is the index
 * followed by the segments, and its name is the SHA-256 of exactly that, so it is an ordinary
 * content-addressed object to the store, `verify --all` and retention. The random pack id makes every
 * pack unique: no two exchanges ever write the same pack, so a pack is never reused while retention
 * removes it.
 * @module
 */
import { createHash } from "node:crypto";
import { gunzipBytes, sha256Hex } from "../objects/content.ts";
import { gzipMember } from "../objects/gzip_member.ts";

/** Where one segment lies in a pack. */
export interface PackMember {
  sha256: string;
  /** Byte range of its gzip member in the stored pack. */
  offset: number;
  length: number;
  /** Uncompressed bytes. */
  size: number;
}

/** A pack ready to store. */
export interface Pack {
  sha256: string;
  gzipped: Uint8Array;
  /** Decompressed size (index and segments). */
  size: number;
  members: PackMember[];
}

/**
 * Builds a pack of `segments` (each already hashed). Each member is a gzip member of its own, deflated
 * only where it pays (`gzipMember`: a short one is stored as it is, still valid gzip).
 */
export async function buildPack(segments: readonly { sha256: string; bytes: Uint8Array }[]): Promise<Pack> {
  const index = new TextEncoder().encode(
    JSON.stringify({
      recondo_pack: 1,
      id: crypto.randomUUID(),
      segments: segments.map((s) => [s.sha256, s.bytes.length]),
    }) + "\n",
  );
  const gz = await Promise.all([index, ...segments.map((s) => s.bytes)].map(gzipMember));
  const total = gz.reduce((n, g) => n + g.length, 0);
  const gzipped = new Uint8Array(total);
  const hash = createHash("sha256").update(index);
  const members: PackMember[] = [];
  let offset = 0;
  for (const [i, g] of gz.entries()) {
    gzipped.set(g, offset);
    if (i > 0) {
      const s = segments[i - 1];
      hash.update(s.bytes);
      members.push({ sha256: s.sha256, offset, length: g.length, size: s.bytes.length });
    }
    offset += g.length;
  }
  const size = index.length + segments.reduce((n, s) => n + s.bytes.length, 0);
  return { sha256: hash.digest("hex"), gzipped, size, members };
}

/** What reading one member found. */
export type MemberRead =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; problem: "missing" | "not_gzip" | "hash"; detail: string };

/** Decompresses one member's stored bytes and checks them against the segment's hash. */
export async function openMember(gz: Uint8Array | null, sha: string): Promise<MemberRead> {
  if (gz === null || gz.length === 0) return { ok: false, problem: "missing", detail: "not in the store" };
  let bytes: Uint8Array;
  try {
    bytes = await gunzipBytes(gz);
  } catch (error) {
    return { ok: false, problem: "not_gzip", detail: `not valid gzip: ${(error as Error).message}` };
  }
  const actual = sha256Hex(bytes);
  if (actual !== sha) return { ok: false, problem: "hash", detail: `now hashes to ${actual.slice(0, 16)}` };
  return { ok: true, bytes };
}
