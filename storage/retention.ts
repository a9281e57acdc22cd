/**
 * Deletion by policy (retention, a data-subject request). Turns are append-only: the triggers let a
 * turn's rows go only once a `deletions` row names it, and that row is itself permanent. It keeps the
 * deleted turn's session, sequence number and hash, so `verify` can bridge the gap in the chain and report
 * "deleted by policy" instead of tampering. Objects are not touched here: the caller decides whether the
 * returned hashes are still referenced elsewhere and whether Object Lock allows removing them.
 * @module
 */
import { newId } from "../core/ids.ts";
import type { Db } from "./db/db.ts";

/** What a deletion removed. */
export interface DeletedTurn {
  turnId: string;
  sessionId: string;
  seq: number;
  /** Object hashes the turn referenced (request and response bodies). */
  objects: string[];
}

/** Deletes one turn (with its tool calls, tool results and exchange row), recording why. */
export async function deleteTurnByPolicy(
  db: Db,
  turnId: string,
  reason: string,
  now: number = Date.now(),
): Promise<DeletedTurn> {
  if (!reason.trim()) throw new Error(`Cannot delete turn ${turnId}: a reason is required`);
  return await db.transaction(async (tx) => {
    const [turn] = await tx.query<
      {
        session_id: string;
        seq: number;
        hash: string;
        request_sha256: string;
        response_sha256: string;
        exchange_id: string;
      }
    >(
      "SELECT session_id, seq, hash, request_sha256, response_sha256, exchange_id FROM turns WHERE id = $1",
      [turnId],
    );
    if (!turn) throw new Error(`Cannot delete turn ${turnId}: no such turn`);
    await tx.run(
      `INSERT INTO deletions (id, target, target_id, session_id, seq, hash, reason, deleted_at)
       VALUES ($1, 'turn', $2, $3, $4, $5, $6, $7)`,
      [newId(now), turnId, turn.session_id, Number(turn.seq), turn.hash, reason, now],
    );
    await tx.run("DELETE FROM tool_results WHERE turn_id = $1", [turnId]);
    await tx.run("DELETE FROM tool_calls WHERE turn_id = $1", [turnId]);
    await tx.run("DELETE FROM events WHERE turn_id = $1", [turnId]);
    await tx.run("DELETE FROM turns WHERE id = $1", [turnId]);
    await tx.run("DELETE FROM exchanges WHERE id = $1", [turn.exchange_id]);
    return {
      turnId,
      sessionId: turn.session_id,
      seq: Number(turn.seq),
      objects: [...new Set([turn.request_sha256, turn.response_sha256])],
    };
  });
}
