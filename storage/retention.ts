/**
 * Deletion by policy (retention, a data-subject request). Turns are append-only: the triggers let a
 * turn's rows go only once a `deletions` row names it, and that row is itself permanent. It keeps the
 * deleted turn's session, sequence number and hash, so `verify` can bridge the gap in the chain and report
 * "deleted by policy" instead of tampering. Objects are not touched here: the caller decides whether the
 * returned hashes are still referenced elsewhere and whether Object Lock allows removing them.
 * @module
 */
import { deleteUnusedHeaderSets } from "./header_sets.ts";
import { newId } from "../core/ids.ts";
import type { Db } from "./db/db.ts";

/**
 * Thrown when the turn to delete does not exist, e.g. because another replica's retention run deleted it
 * first; batch deletion catches it and moves on.
 */
export class TurnNotFoundError extends Error {
  constructor(readonly turnId: string) {
    super(`Cannot delete turn ${turnId}: no such turn`);
    this.name = "TurnNotFoundError";
  }
}

/** What a deletion removed. */
export interface DeletedTurn {
  turnId: string;
  sessionId: string;
  seq: number;
  /** Object hashes the turn referenced (request and response bodies). */
  objects: string[];
}

/**
 * Deletes one turn (with its tool calls, tool results, events and exchange row), recording why, and takes
 * its usage off its session's totals.
 */
export async function deleteTurnByPolicy(
  db: Db,
  turnId: string,
  reason: string,
  now: number = Date.now(),
): Promise<DeletedTurn> {
  if (!reason.trim()) throw new Error(`Cannot delete turn ${turnId}: a reason is required`);
  return await db.transaction(async (tx) => {
    // FOR UPDATE: two replicas deleting the same turn queue here, and the second sees it gone instead of
    // recording a second deletion and taking its usage off the session twice.
    const [turn] = await tx.query<
      {
        session_id: string;
        seq: number;
        hash: string;
        request_sha256: string;
        response_sha256: string;
        exchange_id: string;
        input_tokens: number;
        output_tokens: number;
        cache_read_tokens: number;
        cache_write_5m_tokens: number;
        cache_write_1h_tokens: number;
        reasoning_tokens: number;
        cost_usd: number | null;
      }
    >(
      `SELECT session_id, seq, hash, request_sha256, response_sha256, exchange_id, input_tokens, output_tokens,
              cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens, cost_usd
       FROM turns WHERE id = $1${db.engine === "postgres" ? " FOR UPDATE" : ""}`,
      [turnId],
    );
    if (!turn) throw new TurnNotFoundError(turnId);
    await tx.run(
      `INSERT INTO deletions (id, target, target_id, session_id, seq, hash, reason, deleted_at)
       VALUES ($1, 'turn', $2, $3, $4, $5, $6, $7)`,
      [newId(now), turnId, turn.session_id, Number(turn.seq), turn.hash, reason, now],
    );
    await tx.run("DELETE FROM tool_results WHERE turn_id = $1", [turnId]);
    await tx.run("DELETE FROM tool_calls WHERE turn_id = $1", [turnId]);
    await tx.run("DELETE FROM events WHERE turn_id = $1", [turnId]);
    await tx.run("DELETE FROM turns WHERE id = $1", [turnId]);
    const sets = await tx.query(
      "SELECT request_headers_base, response_headers_base FROM exchanges WHERE id = $1",
      [turn.exchange_id],
    );
    await tx.run("DELETE FROM exchanges WHERE id = $1", [turn.exchange_id]);
    // A header set goes with the last exchange naming it: it holds that session's headers too.
    await deleteUnusedHeaderSets(tx, sets.flatMap((r) => [r.request_headers_base, r.response_headers_base]));
    // The session row is a running total (not append-only): it must describe the turns that remain, or
    // the UI and spend views would count deleted usage forever. The chain head stays: it names a hash
    // that the deletions row now vouches for.
    const greatest = db.engine === "postgres" ? "GREATEST" : "MAX";
    await tx.run(
      `UPDATE sessions SET
         turn_count = turn_count - 1,
         input_tokens = input_tokens - $2,
         output_tokens = output_tokens - $3,
         cache_read_tokens = cache_read_tokens - $4,
         cache_write_tokens = cache_write_tokens - $5,
         reasoning_tokens = reasoning_tokens - $6,
         cost_usd = ${greatest}(cost_usd - $7, 0)
       WHERE id = $1`,
      [
        turn.session_id,
        Number(turn.input_tokens),
        Number(turn.output_tokens),
        Number(turn.cache_read_tokens),
        Number(turn.cache_write_5m_tokens) + Number(turn.cache_write_1h_tokens),
        Number(turn.reasoning_tokens),
        Number(turn.cost_usd ?? 0),
      ],
    );
    return {
      turnId,
      sessionId: turn.session_id,
      seq: Number(turn.seq),
      objects: [...new Set([turn.request_sha256, turn.response_sha256])],
    };
  });
}
