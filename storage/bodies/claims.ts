/**
 * The per-hash agreement between capture and retention (`stored_objects`). Capture (1) makes sure a
 * hash has a row before it relies on an object being in the store, and (2) in the very transaction that
 * writes the rows naming it, requires that row still `present`. Retention removes an object only under
 * that row's lock, after finding no row names it: it marks the row `deleting`, deletes the object, then
 * the row. So either capture's naming rows commit first (retention then sees them and keeps the object),
 * or retention's mark does (capture's transaction then fails with `StaleObjectError` and the record is
 * retried, storing the object again). A turn can never name an object retention removed.
 * @module
 */
import type { Db, Queryable } from "../db/db.ts";

/**
 * Thrown when an object a record relies on was claimed by retention (or vanished) between preparing the
 * record and committing it. Capture's retry stores the object again.
 */
export class StaleObjectError extends Error {
  constructor(readonly sha256: string, what: string) {
    super(`Cannot name object ${sha256}: ${what}; the record is retried`);
    this.name = "StaleObjectError";
  }
}

/**
 * Step (1) for a whole object: inserts its row unless there is one, and throws `StaleObjectError` while
 * retention is removing it (capture's retry waits for the removal to finish). Says whether the row is a
 * pack member: then the bytes are stored already, in a pack (`batch_pack.ts`).
 */
export async function ensureObjectRow(
  db: Queryable,
  sha: string,
  size: number,
  now: number,
): Promise<{ packed: boolean }> {
  await db.run(
    `INSERT INTO stored_objects (sha256, state, touched_at, size) VALUES ($1, 'present', $2, $3)
     ON CONFLICT (sha256) DO NOTHING`,
    [sha, now, size],
  );
  const [row] = await db.query<{ state: string; pack_sha256: unknown }>(
    "SELECT state, pack_sha256 FROM stored_objects WHERE sha256 = $1",
    [sha],
  );
  if (row?.state !== "present") throw new StaleObjectError(sha, "retention is removing it");
  return { packed: row.pack_sha256 !== null };
}

/**
 * Step (2): inside the naming transaction, throws unless every row is `present`. On PostgreSQL the rows
 * are read `FOR SHARE`: concurrent captures naming the same segment (a shared system prompt) do not wait
 * for each other, but retention's `FOR UPDATE` waits for them, and they for it.
 */
export async function requirePresent(
  tx: Queryable,
  engine: Db["engine"],
  shas: readonly string[],
): Promise<void> {
  const unique = [...new Set(shas)];
  for (let i = 0; i < unique.length; i += 500) {
    const slice = unique.slice(i, i + 500);
    const rows = await tx.query<{ sha256: string }>(
      `SELECT sha256 FROM stored_objects WHERE state = 'present' AND sha256 IN (${
        slice.map((_, j) => `$${j + 1}`).join(", ")
      })${engine === "postgres" ? " FOR SHARE" : ""}`,
      slice,
    );
    if (rows.length !== slice.length) {
      const present = new Set(rows.map((r) => String(r.sha256)));
      const gone = slice.find((s) => !present.has(s)) ?? slice[0];
      throw new StaleObjectError(gone, "retention removed it after it was found stored");
    }
  }
}

/** Retention's side: what removing an object under the agreement found. */
export type RemovalClaim = "claimed" | "named";

/**
 * Marks `sha`'s row `deleting` (creating it for objects stored before the agreement existed) unless
 * `stillNamed` finds a row naming it; both under the row's lock, in one transaction.
 */
export async function claimForRemoval(
  db: Db,
  sha: string,
  now: number,
  stillNamed: (tx: Queryable) => Promise<boolean>,
): Promise<RemovalClaim> {
  return await db.transaction(async (tx) => {
    await tx.run(
      `INSERT INTO stored_objects (sha256, state, touched_at) VALUES ($1, 'present', $2)
       ON CONFLICT (sha256) DO NOTHING`,
      [sha, now],
    );
    await tx.query(
      `SELECT state FROM stored_objects WHERE sha256 = $1${db.engine === "postgres" ? " FOR UPDATE" : ""}`,
      [sha],
    );
    if (await stillNamed(tx)) return "named";
    await tx.run("UPDATE stored_objects SET state = 'deleting' WHERE sha256 = $1", [sha]);
    return "claimed";
  });
}

/** After the object is gone (or its removal failed: `present` again), ends the claim. */
export async function endRemoval(db: Queryable, sha: string, removed: boolean): Promise<void> {
  if (removed) await db.run("DELETE FROM stored_objects WHERE sha256 = $1", [sha]);
  else await db.run("UPDATE stored_objects SET state = 'present' WHERE sha256 = $1", [sha]);
}
