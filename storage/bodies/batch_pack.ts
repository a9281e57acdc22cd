/**
 * Small whole bodies of a capture write batch, stored together: every body up to `MAX_PACKED_BODY_BYTES`
 * that the store does not hold yet goes, as one member, into a single pack object per batch (`pack.ts`,
 * the same format as the segment packs), instead of one object each. A local store then writes one file
 * (one fsync, one rename) for the whole batch instead of two per exchange, and S3 takes one PUT. Each body
 * keeps its own address, the SHA-256 of its exact bytes: its `stored_objects` row says where in which
 * pack it lies, exactly as a segment's does, so `readBody`, `verify` (member by member) and retention (a
 * member goes when nothing names it, the pack when no member remains) treat it like one.
 *
 * A body already stored in a pack is reused (claimed in the record's transaction); one stored whole by
 * an earlier version of capture stays whole (`storeBody` puts the object back should it be missing).
 * @example
 * const stored = await storeSmallBodies(db, objects, [{ sha256, bytes, meta }], Date.now());
 * await db.transaction((tx) => commitBody(tx, db.engine, stored.get(sha256)!, Date.now()));
 * @module
 */
import type { Db } from "../db/db.ts";
import { storeBody } from "../objects/content.ts";
import type { ObjectMeta, ObjectStore } from "../objects/store.ts";
import { ensureObjectRow, StaleObjectError } from "./claims.ts";
import { buildPack } from "./pack.ts";
import type { PreparedBody } from "./write.ts";

/**
 * Largest body packed with its batch. Bodies above it are stored as objects of their own: a pack is read
 * with ranged reads, but a large body gains little from sharing a file.
 */
export const MAX_PACKED_BODY_BYTES = 64 * 1024;

/** A body to store, hashed already. */
export interface SmallBody {
  sha256: string;
  bytes: Uint8Array;
  meta: ObjectMeta;
}

/**
 * Stores `bodies` (one pack for all those not stored yet) and returns how each is stored, by hash, for
 * `commitBody` to claim inside the record's transaction. Throws `StaleObjectError` while retention is
 * removing one of them.
 */
export async function storeSmallBodies(
  db: Db,
  objects: ObjectStore,
  bodies: readonly SmallBody[],
  now: number,
): Promise<Map<string, PreparedBody>> {
  const unique = new Map(bodies.map((b) => [b.sha256, b]));
  const known = new Map<string, { state: string; pack: unknown }>();
  const shas = [...unique.keys()];
  for (let i = 0; i < shas.length; i += 500) {
    const slice = shas.slice(i, i + 500);
    const rows = await db.query<{ sha256: string; state: string; pack_sha256: unknown }>(
      `SELECT sha256, state, pack_sha256 FROM stored_objects WHERE sha256 IN (${
        slice.map((_, j) => `$${j + 1}`).join(", ")
      })`,
      slice,
    );
    for (const r of rows) known.set(String(r.sha256), { state: String(r.state), pack: r.pack_sha256 });
  }
  const out = new Map<string, PreparedBody>();
  const fresh: SmallBody[] = [];
  for (const body of unique.values()) {
    const row = known.get(body.sha256);
    const size = body.bytes.length;
    if (row?.state === "deleting") throw new StaleObjectError(body.sha256, "retention is removing it");
    if (!row) fresh.push(body);
    else if (row.pack !== null) {
      out.set(body.sha256, { kind: "packed", sha256: body.sha256, size, pack: null });
    } else {
      // Stored whole before packs existed (or its write was cut short): kept whole, put back if missing.
      if ((await ensureObjectRow(db, body.sha256, size, now)).packed) {
        out.set(body.sha256, { kind: "packed", sha256: body.sha256, size, pack: null });
        continue;
      }
      await storeBody(objects, body.bytes, body.meta);
      out.set(body.sha256, { kind: "whole", sha256: body.sha256, size });
    }
  }
  if (!fresh.length) return out;
  const pack = await buildPack(fresh.map((b) => ({ sha256: b.sha256, bytes: b.bytes })));
  await objects.put(pack.sha256, pack.gzipped, { kind: "pack", size: pack.size });
  for (const [i, member] of pack.members.entries()) {
    out.set(member.sha256, {
      kind: "packed",
      sha256: member.sha256,
      size: fresh[i].bytes.length,
      pack: { sha256: pack.sha256, member },
    });
  }
  return out;
}
