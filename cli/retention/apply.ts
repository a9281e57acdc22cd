/**
 * Deletion by policy from the command line: retention (`--older-than`) and data-subject requests (a
 * developer, a session, a turn). Each turn goes through `storage/retention.ts`, which records the deletion
 * before the append-only triggers let the rows go, so `verify` reports `deleted_by_policy` rather than
 * tampering. Then the bodies no other row names are removed from the object store, each recorded first
 * as a `deletions` row with target `object`; an object the store refuses to delete (S3 Object Lock) is
 * kept and reported, never forced.
 * @example
 * const result = await applyRetention(db, objects, { olderThan: Date.now() - 90 * 86_400_000 }, {
 *   reason: "retention: 90 days",
 * });
 * @module
 */
import type { Db, SqlValue } from "../../storage/db/db.ts";
import type { ObjectStore } from "../../storage/objects/store.ts";
import { deleteTurnByPolicy } from "../../storage/retention.ts";
import { newId } from "../../core/ids.ts";

/** Which turns to delete; at least one field, all given ones must match. */
export interface RetentionSelection {
  /** Turns that started before this time (epoch ms). */
  olderThan?: number;
  developer?: string;
  sessionId?: string;
  turnId?: string;
}

/** What a run did (or, with `dryRun`, would do). */
export interface RetentionResult {
  dry_run: boolean;
  reason: string;
  turn_ids: string[];
  sessions: number;
  objects_deleted: number;
  /** Objects still named by other rows (deduplicated bodies), left in place. */
  objects_shared: number;
  /** Objects the store refused to delete, with its error (for example Object Lock retention). */
  objects_kept: { sha256: string; error: string }[];
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
    throw new RangeError("Name what to delete: --older-than, --developer, --session or --turn");
  }
  return { sql: where.join(" AND "), params };
}

async function stillNamed(db: Db, sha: string): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 AS x FROM turns WHERE request_sha256 = $1 OR response_sha256 = $1
     UNION ALL SELECT 1 AS x FROM exchanges WHERE request_sha256 = $1 OR response_sha256 = $1`,
    [sha],
  );
  return rows.length > 0;
}

/** Deletes the selected turns and their now-unreferenced objects; see the module doc. */
export async function applyRetention(
  db: Db,
  objects: ObjectStore,
  selection: RetentionSelection,
  options: { reason: string; dryRun?: boolean; keepObjects?: boolean; now?: number },
): Promise<RetentionResult> {
  const reason = options.reason.trim();
  if (!reason) throw new RangeError("A deletion needs a --reason; it is kept with the deletion record");
  const now = options.now ?? Date.now();
  const { sql, params } = whereOf(selection);
  const turns = await db.query<
    { id: string; session_id: string; request_sha256: string; response_sha256: string }
  >(
    `SELECT id, session_id, request_sha256, response_sha256 FROM turns WHERE ${sql} ORDER BY session_id, seq`,
    params,
  );
  const result: RetentionResult = {
    dry_run: Boolean(options.dryRun),
    reason,
    turn_ids: turns.map((t) => t.id),
    sessions: new Set(turns.map((t) => t.session_id)).size,
    objects_deleted: 0,
    objects_shared: 0,
    objects_kept: [],
  };
  if (options.dryRun) return result;
  const candidates = new Set<string>();
  for (const t of turns) {
    const deleted = await deleteTurnByPolicy(db, t.id, reason, now);
    for (const sha of deleted.objects) candidates.add(sha);
  }
  if (options.keepObjects) return result;
  for (const sha of candidates) {
    if (await stillNamed(db, sha)) {
      result.objects_shared++;
      continue;
    }
    await db.run(
      "INSERT INTO deletions (id, target, target_id, reason, deleted_at) VALUES ($1, 'object', $2, $3, $4)",
      [newId(now), sha, reason, now],
    );
    try {
      await objects.delete(sha);
      result.objects_deleted++;
    } catch (error) {
      result.objects_kept.push({
        sha256: sha,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return result;
}
