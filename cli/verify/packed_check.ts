/**
 * Checks small bodies stored as members of their write batch's pack (`storage/bodies/batch_pack.ts`):
 * each is read with a ranged read of its member, decompressed and re-hashed against the address every
 * turn and exchange row records, as a segment is. The pack itself is an ordinary object to `--all`.
 * @module
 */
import { readSegments } from "../../storage/bodies/read.ts";
import type { Db } from "../../storage/db/db.ts";
import type { ObjectStore } from "../../storage/objects/store.ts";
import type { ObjectRef } from "./object_check.ts";
import type { Problem } from "./report.ts";

/** What the check found; `bodies` are the hashes it handled (the object check skips them). */
export interface PackedCheck {
  problems: Problem[];
  bodies: Set<string>;
}

/** Checks every body among `refs` that lies in a pack. */
export async function checkPackedBodies(
  db: Db,
  objects: ObjectStore,
  refs: Map<string, ObjectRef>,
  options: { concurrency?: number } = {},
): Promise<PackedCheck> {
  const shas = [...refs.keys()];
  const packed: string[] = [];
  for (let i = 0; i < shas.length; i += 500) {
    const slice = shas.slice(i, i + 500);
    const rows = await db.query<{ sha256: string }>(
      `SELECT sha256 FROM stored_objects WHERE pack_sha256 IS NOT NULL AND sha256 IN (${
        slice.map((_, j) => `$${j + 1}`).join(", ")
      })`,
      slice,
    );
    packed.push(...rows.map((r) => String(r.sha256)));
  }
  const problems: Problem[] = [];
  const reads = await readSegments(db, objects, packed, { concurrency: options.concurrency });
  for (const [sha, read] of reads) {
    if (read.ok) continue;
    const ref = refs.get(sha)!;
    const uses = ref.uses > 1 ? ` (shared by ${ref.uses} rows)` : "";
    const kind = read.problem === "missing" ? "object_missing" : "object_modified";
    for (const turn of ref.turnIds.length ? ref.turnIds : [ref.turnId]) {
      problems.push({
        kind,
        turn_id: turn,
        session_id: ref.sessionId,
        detail: `body ${sha} ${read.detail}${uses}`,
      });
    }
  }
  return { problems, bodies: new Set(packed) };
}
