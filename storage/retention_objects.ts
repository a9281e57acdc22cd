/**
 * The object half of deletion by policy. Bodies are content-addressed and shared between turns, so a body
 * goes only when no remaining turn or exchange names it. A segmented body (`storage/bodies/`) is a
 * manifest row: it goes when no turn, exchange or later manifest (its delta base) names it, and then each
 * of its segments that no other manifest names, and a pack once none of its segments remains. S3 Object
 * Lock may still retain an object: then it is kept (not an error), noted in `retention_pending_objects`
 * with the lock's end, and a later run removes it once the lock has expired — unless a new turn names it
 * by then. A legal hold (on any version) keeps it the same way; a hold has no end, so it is noted as due
 * at once and every later run asks again. Every removal is decided under the hash's row lock (`storage/bodies/claims.ts`), which capture
 * takes too, so a turn captured meanwhile never names a removed object.
 * @module
 */
import { newId } from "../core/ids.ts";
import { log } from "../core/log.ts";
import { claimForRemoval, endRemoval } from "./bodies/claims.ts";
import type { Db, Queryable } from "./db/db.ts";
import type { ObjectStore } from "./objects/store.ts";
import type { RetentionResult } from "./retention_run.ts";

/** What object removal needs from the run. */
export interface ObjectRemovalOptions {
  reason: string;
  now: () => number;
}

/**
 * Whether any remaining row names the hash: a turn or exchange (a body), a manifest (as its delta base or
 * as one of its segments), a segment (as its pack). One round trip; each branch is an indexed lookup
 * (migrations 030, 050) and `LIMIT 1` stops at the first hit.
 */
export async function objectStillNamed(db: Queryable, sha: string): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 AS x FROM turns WHERE request_sha256 = $1
     UNION ALL SELECT 1 AS x FROM turns WHERE response_sha256 = $1
     UNION ALL SELECT 1 AS x FROM exchanges WHERE request_sha256 = $1
     UNION ALL SELECT 1 AS x FROM exchanges WHERE response_sha256 = $1
     UNION ALL SELECT 1 AS x FROM body_manifests WHERE base_sha256 = $1
     UNION ALL SELECT 1 AS x FROM manifest_segments WHERE segment_sha256 = $1
     UNION ALL SELECT 1 AS x FROM stored_objects WHERE pack_sha256 = $1
     LIMIT 1`,
    [sha],
  );
  return rows.length > 0;
}

/**
 * Removes the manifest of a segmented body under its row lock unless something still names it; returns
 * what it named (its own segments and its base), or `null` when it was kept or is already gone.
 */
async function removeManifest(db: Db, sha: string): Promise<string[] | null> {
  return await db.transaction(async (tx) => {
    const [row] = await tx.query<{ base_sha256: string | null }>(
      `SELECT base_sha256 FROM body_manifests WHERE sha256 = $1${
        db.engine === "postgres" ? " FOR UPDATE" : ""
      }`,
      [sha],
    );
    if (!row || await objectStillNamed(tx, sha)) return null;
    const segments = await tx.query<{ segment_sha256: string }>(
      "SELECT segment_sha256 FROM manifest_segments WHERE body_sha256 = $1",
      [sha],
    );
    await tx.run("DELETE FROM manifest_segments WHERE body_sha256 = $1", [sha]);
    await tx.run("DELETE FROM body_manifests WHERE sha256 = $1", [sha]);
    const named = segments.map((s) => String(s.segment_sha256));
    return row.base_sha256 ? [...named, String(row.base_sha256)] : named;
  });
}

async function recordDeletion(
  db: Db,
  sha: string,
  options: ObjectRemovalOptions,
  now: number,
): Promise<void> {
  await db.run(
    "INSERT INTO deletions (id, target, target_id, reason, deleted_at) VALUES ($1, 'object', $2, $3, $4)",
    [newId(now), sha, options.reason, now],
  );
}

const MAX_FAILURES_LISTED = 20;

type Outcome = "deleted" | "shared" | "locked" | "held" | "failed";

/**
 * What a hash is to the run, for its counters: a `body` (or a manifest's base, or a segment pack) counts in
 * `objects_*`, a `segment` in `segments_deleted`, and the `container` pack of small packed bodies
 * (`storage/bodies/batch_pack.ts`) in nothing, since its bodies were counted already.
 */
type Role = "body" | "segment" | "container";

async function removeOne(
  db: Db,
  objects: ObjectStore,
  sha: string,
  result: RetentionResult,
  options: ObjectRemovalOptions,
  role: Role = "body",
): Promise<Outcome> {
  if (await objectStillNamed(db, sha)) {
    if (role !== "container") result.objects_shared++;
    return "shared";
  }
  const now = options.now();
  const [stored] = await db.query<{ pack_sha256: string | null }>(
    "SELECT pack_sha256 FROM stored_objects WHERE sha256 = $1",
    [sha],
  );
  const manifest = await db.query("SELECT 1 AS x FROM body_manifests WHERE sha256 = $1", [sha]);
  if (manifest.length) {
    const named = await removeManifest(db, sha);
    if (!named) {
      result.objects_shared++;
      return "shared";
    }
    await recordDeletion(db, sha, options, now);
    result.manifests_deleted++;
    for (const next of named) await removeOne(db, objects, next, result, options, "segment");
    // A body of the same bytes may also be stored whole (captured before segments existed).
    if (!stored && !(await objects.has(sha))) return "deleted";
  }
  if (stored?.pack_sha256) {
    if (await claimForRemoval(db, sha, now, (tx) => objectStillNamed(tx, sha)) === "named") {
      result.objects_shared++;
      return "shared";
    }
    await endRemoval(db, sha, true);
    if (role === "segment") result.segments_deleted++;
    else {
      await recordDeletion(db, sha, options, now);
      result.objects_deleted++;
    }
    await removeOne(
      db,
      objects,
      stored.pack_sha256,
      result,
      options,
      role === "segment" ? "body" : "container",
    );
    return "deleted";
  }
  const until = await objects.retainedUntil(sha);
  if (until && until.getTime() > now) {
    result.objects_locked++;
    const iso = until.toISOString();
    if (!result.locked_until || iso > result.locked_until) result.locked_until = iso;
    await notePending(db, sha, until.getTime(), options.reason, now);
    return "locked";
  }
  if (await objects.legalHold(sha)) {
    result.objects_held++;
    await notePending(db, sha, now, options.reason, now);
    return "held";
  }
  if (await claimForRemoval(db, sha, now, (tx) => objectStillNamed(tx, sha)) === "named") {
    result.objects_shared++;
    return "shared";
  }
  // Recorded first: the deletion itself is part of the audit trail, even if the store then fails.
  if (role !== "container") await recordDeletion(db, sha, options, now);
  try {
    await objects.delete(sha);
  } catch (error) {
    await endRemoval(db, sha, false);
    const message = error instanceof Error ? error.message : String(error);
    result.objects_failed++;
    if (result.failures.length < MAX_FAILURES_LISTED) result.failures.push({ sha256: sha, error: message });
    log.warn("retention.object_failed", { sha256: sha, error });
    return "failed";
  }
  await endRemoval(db, sha, true);
  if (role !== "container") result.objects_deleted++;
  return "deleted";
}

async function notePending(db: Db, sha: string, until: number, reason: string, now: number): Promise<void> {
  await db.run(
    `INSERT INTO retention_pending_objects (sha256, retained_until, reason, noted_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (sha256) DO UPDATE SET retained_until = excluded.retained_until`,
    [sha, until, reason, now],
  );
}

/** Removes each candidate no row names any more; outcomes are added to `result`. */
export async function removeUnnamedObjects(
  db: Db,
  objects: ObjectStore,
  candidates: Iterable<string>,
  result: RetentionResult,
  options: ObjectRemovalOptions,
): Promise<void> {
  for (const sha of candidates) await removeOne(db, objects, sha, result, options);
}

/**
 * Retries objects earlier runs kept under Object Lock whose lock has since expired (by the recorded
 * date; the store is asked again, since a lock can be extended), and those kept under a legal hold.
 */
export async function sweepPendingObjects(
  db: Db,
  objects: ObjectStore,
  result: RetentionResult,
  options: ObjectRemovalOptions & { batchSize: number },
): Promise<void> {
  let after = "";
  for (;;) {
    const due = await db.query<{ sha256: string; reason: string }>(
      `SELECT sha256, reason FROM retention_pending_objects WHERE retained_until <= $1 AND sha256 > $2
       ORDER BY sha256 LIMIT ${Math.floor(options.batchSize)}`,
      [options.now(), after],
    );
    if (!due.length) return;
    for (const { sha256, reason } of due) {
      after = sha256;
      const { objects_locked, locked_until, objects_held, objects_shared } = result;
      const outcome = await removeOne(db, objects, sha256, result, { ...options, reason });
      // A pending object was reported when it was first kept; a re-check that keeps it only moves its date.
      if (outcome === "locked") Object.assign(result, { objects_locked, locked_until });
      if (outcome === "held") result.objects_held = objects_held;
      if (outcome === "shared") result.objects_shared = objects_shared;
      if (outcome === "deleted") result.pending_removed++;
      if (outcome === "deleted" || outcome === "shared") {
        await db.run("DELETE FROM retention_pending_objects WHERE sha256 = $1", [sha256]);
      }
    }
  }
}
