/**
 * Deletion by policy in bulk: retention (`olderThan`) and data-subject requests (a developer, a session, a
 * turn). Turns go in bounded batches through `deleteTurnByPolicy`, which records each deletion before
 * the append-only triggers let its rows go, so `verify` reports `deleted_by_policy` rather than tampering.
 * After each batch, the bodies no remaining row names are removed from the object store (each recorded
 * first as a `deletions` row with target `object`); a body still under S3 Object Lock is kept, noted in
 * `retention_pending_objects`, and removed by a later run once its lock has expired.
 * @example
 * const result = await runRetention(db, objects, { olderThan: Date.now() - 90 * 86_400_000 }, {
 *   reason: "retention: older than 90 days",
 * });
 * @module
 */
import { log } from "../core/log.ts";
import type { Db, SqlValue } from "./db/db.ts";
import type { ObjectStore } from "./objects/store.ts";
import { deleteTurnByPolicy, TurnNotFoundError } from "./retention.ts";
import { removeUnnamedObjects, sweepPendingObjects } from "./retention_objects.ts";

/** Which turns to delete; at least one field, all given ones must match. */
export interface RetentionSelection {
  /** Turns that started before this time (epoch ms). */
  olderThan?: number;
  developer?: string;
  sessionId?: string;
  turnId?: string;
}

/** Options of one run. */
export interface RetentionRunOptions {
  /** Why; kept in every deletion record. */
  reason: string;
  /** Count what would go, delete nothing. */
  dryRun?: boolean;
  /** Leave bodies in the object store. */
  keepObjects?: boolean;
  /** Clock (epoch ms) for deletion records and lock checks. */
  now?: () => number;
  /** Turns per batch (default 200): bounds memory and how long one batch holds the database. */
  batchSize?: number;
  /** Collect the deleted turn ids (at most this many) for the caller to list. */
  listTurnIds?: number;
  /** Called after each batch with the totals so far. */
  onProgress?: (progress: RetentionResult) => void;
  /** Stops between batches (the scheduler's stop). */
  signal?: AbortSignal;
}

/** What a run did (or, with `dryRun`, would do). Snake case: printed as JSON by the CLI. */
export interface RetentionResult {
  dry_run: boolean;
  reason: string;
  turns: number;
  sessions: number;
  /** The first `listTurnIds` turn ids. */
  turn_ids: string[];
  objects_deleted: number;
  /** Objects still named by other rows (deduplicated bodies), left in place. */
  objects_shared: number;
  /** Objects kept because S3 Object Lock still retains them: a later run removes them. */
  objects_locked: number;
  /** Objects kept because an S3 legal hold is on (any version): every later run asks again. */
  objects_held: number;
  /** The latest lock end among them (ISO 8601), or `null`. */
  locked_until: string | null;
  /** Objects the store failed to delete. */
  objects_failed: number;
  /** The first few failures with the store's error. */
  failures: { sha256: string; error: string }[];
  /** Of `objects_deleted`, those an earlier run kept under a lock that has since expired. */
  pending_removed: number;
  /** Manifests of segmented bodies removed (database rows; their packs count in `objects_deleted`). */
  manifests_deleted: number;
  /** Segments no remaining manifest named, removed from their packs' index. */
  segments_deleted: number;
}

function whereOf(selection: RetentionSelection): { sql: string; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const add = (sql: string, value: SqlValue) => {
    params.push(value);
    where.push(`${sql} $${params.length}`);
  };
  if (selection.olderThan !== undefined) add("started_at <", selection.olderThan);
  if (selection.developer !== undefined) add("developer =", selection.developer);
  if (selection.sessionId !== undefined) add("session_id =", selection.sessionId);
  if (selection.turnId !== undefined) add("id =", selection.turnId);
  if (!where.length) {
    throw new RangeError("Name what to delete: an age, a developer, a session or a turn");
  }
  return { sql: where.join(" AND "), params };
}

/**
 * Deletes the selected turns and their now-unreferenced objects; see the module doc. A `null` selection
 * deletes no turn and only retries objects kept under an Object Lock that has since expired.
 */
export async function runRetention(
  db: Db,
  objects: ObjectStore,
  selection: RetentionSelection | null,
  options: RetentionRunOptions,
): Promise<RetentionResult> {
  const reason = options.reason.trim();
  if (!reason) throw new RangeError("A deletion needs a reason; it is kept with the deletion record");
  const now = options.now ?? Date.now;
  const batchSize = options.batchSize ?? 200;
  const listLimit = options.listTurnIds ?? 0;
  const { sql, params } = selection ? whereOf(selection) : { sql: "1 = 0", params: [] };
  const result: RetentionResult = {
    dry_run: Boolean(options.dryRun),
    reason,
    turns: 0,
    sessions: 0,
    turn_ids: [],
    objects_deleted: 0,
    objects_shared: 0,
    objects_locked: 0,
    objects_held: 0,
    locked_until: null,
    objects_failed: 0,
    failures: [],
    pending_removed: 0,
    manifests_deleted: 0,
    segments_deleted: 0,
  };
  if (options.dryRun) {
    const [count] = await db.query<{ turns: number; sessions: number }>(
      `SELECT COUNT(*) AS turns, COUNT(DISTINCT session_id) AS sessions FROM turns WHERE ${sql}`,
      params,
    );
    result.turns = Number(count.turns);
    result.sessions = Number(count.sessions);
    if (listLimit > 0) {
      const rows = await db.query<{ id: string }>(
        `SELECT id FROM turns WHERE ${sql} ORDER BY started_at, id LIMIT ${Math.floor(listLimit)}`,
        params,
      );
      result.turn_ids = rows.map((r) => r.id);
    }
    return result;
  }
  const sessions = new Set<string>();
  const objectOptions = { reason, now, keepObjects: Boolean(options.keepObjects) };
  for (;;) {
    if (options.signal?.aborted) break;
    // Each batch re-reads from the start: the previous batch's turns are gone, so this terminates and
    // needs no cursor, and turns another replica deleted meanwhile simply do not come back.
    const batch = await db.query<{ id: string }>(
      `SELECT id FROM turns WHERE ${sql} ORDER BY started_at, id LIMIT ${Math.floor(batchSize)}`,
      params,
    );
    if (!batch.length) break;
    const candidates = new Set<string>();
    let deletedInBatch = 0;
    for (const { id } of batch) {
      try {
        const deleted = await deleteTurnByPolicy(db, id, reason, now());
        deletedInBatch++;
        result.turns++;
        sessions.add(deleted.sessionId);
        if (result.turn_ids.length < listLimit) result.turn_ids.push(id);
        for (const sha of deleted.objects) candidates.add(sha);
      } catch (error) {
        if (!(error instanceof TurnNotFoundError)) throw error;
      }
    }
    result.sessions = sessions.size;
    if (!objectOptions.keepObjects) {
      await removeUnnamedObjects(db, objects, candidates, result, objectOptions);
    }
    log.info("retention.batch", {
      reason,
      turns: result.turns,
      objectsDeleted: result.objects_deleted,
      objectsLocked: result.objects_locked,
      objectsHeld: result.objects_held,
    });
    options.onProgress?.(result);
    if (deletedInBatch === 0 && batch.length < batchSize) break;
  }
  if (!objectOptions.keepObjects && !options.signal?.aborted) {
    await sweepPendingObjects(db, objects, result, { ...objectOptions, batchSize });
  }
  return result;
}
