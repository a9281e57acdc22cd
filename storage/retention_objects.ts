/**
 * The object half of deletion by policy. Bodies are content-addressed and shared between turns, so a body
 * goes only when no remaining turn or exchange names it. S3 Object Lock may still retain it: then it is
 * kept (not an error), noted in `retention_pending_objects` with the lock's end, and a later run removes
 * it once the lock has expired — unless a new turn names it by then. A legal hold (on any version) keeps
 * it the same way; a hold has no end, so it is noted as due at once and every later run asks again.
 * @module
 */
import { newId } from "../core/ids.ts";
import { log } from "../core/log.ts";
import type { Db } from "./db/db.ts";
import type { ObjectStore } from "./objects/store.ts";
import type { RetentionResult } from "./retention_run.ts";

/** What object removal needs from the run. */
export interface ObjectRemovalOptions {
  reason: string;
  now: () => number;
}

/**
 * Whether any remaining row names the object. One round trip; each branch is an indexed lookup
 * (migration 030) and `LIMIT 1` stops at the first hit.
 */
export async function objectStillNamed(db: Db, sha: string): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 AS x FROM turns WHERE request_sha256 = $1
     UNION ALL SELECT 1 AS x FROM turns WHERE response_sha256 = $1
     UNION ALL SELECT 1 AS x FROM exchanges WHERE request_sha256 = $1
     UNION ALL SELECT 1 AS x FROM exchanges WHERE response_sha256 = $1
     LIMIT 1`,
    [sha],
  );
  return rows.length > 0;
}

const MAX_FAILURES_LISTED = 20;

type Outcome = "deleted" | "shared" | "locked" | "held" | "failed";

async function removeOne(
  db: Db,
  objects: ObjectStore,
  sha: string,
  result: RetentionResult,
  options: ObjectRemovalOptions,
): Promise<Outcome> {
  if (await objectStillNamed(db, sha)) {
    result.objects_shared++;
    return "shared";
  }
  const now = options.now();
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
  // Recorded first: the deletion itself is part of the audit trail, even if the store then fails.
  await db.run(
    "INSERT INTO deletions (id, target, target_id, reason, deleted_at) VALUES ($1, 'object', $2, $3, $4)",
    [newId(now), sha, options.reason, now],
  );
  try {
    await objects.delete(sha);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    result.objects_failed++;
    if (result.failures.length < MAX_FAILURES_LISTED) result.failures.push({ sha256: sha, error: message });
    log.warn("retention.object_failed", { sha256: sha, error });
    return "failed";
  }
  result.objects_deleted++;
  // Capture deduplicates by asking the store first: a turn captured in the instant between our check and
  // the delete may name a body that is now gone. Rare (old bodies seldom recur); make it visible.
  if (await objectStillNamed(db, sha)) log.error("retention.object_race", { sha256: sha });
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
