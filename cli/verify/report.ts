/**
 * What `recondo verify` reports. The `--json` shape is a contract other tools read:
 * `{ ok, checked_objects, checked_turns, problems: [{ kind, turn_id, detail }] }` plus the extra counts
 * below. Every problem kind but `deleted_by_policy` makes `ok` false and the exit code non-zero.
 * @module
 */

/**
 * - `object_modified`: an object's bytes (decompressed) no longer hash to its address, or are not gzip; a
 *   segment of a segmented body does not hash to its name (reported for every turn whose body uses it), or
 *   the body reassembled from its manifest does not hash to its address (a manifest row was edited).
 * - `object_missing`: a turn or exchange names an object the store does not have; a segment of a
 *   segmented body, its pack, or a manifest its delta chain builds on is gone (reported per turn).
 * - `row_modified`: a turn's row, tool calls or tool results no longer hash to its recorded hash, or its
 *   exchange row disagrees with it.
 * - `turn_deleted`: a sequence number is missing (or a signed head / the session head / an exchange
 *   names a turn that is gone) and no deletion was recorded.
 * - `turn_inserted`: a turn that the session never recorded: no exchange for it, beyond the session head,
 *   a second link to the same predecessor, or a sequence number that was deleted by policy.
 * - `chain_broken`: a turn does not link to the hash of the turn before it, or a validly signed head no
 *   longer matches the chain (the chain was rewritten).
 * - `signature_invalid`: a chain-head signature does not verify, or its key is unknown or untrusted.
 * - `deleted_by_policy`: a recorded deletion (retention, data-subject request). Not a failure.
 */
export type ProblemKind =
  | "object_modified"
  | "object_missing"
  | "row_modified"
  | "turn_deleted"
  | "turn_inserted"
  | "chain_broken"
  | "signature_invalid"
  | "deleted_by_policy";

/** One finding. */
export interface Problem {
  kind: ProblemKind;
  /** The turn concerned, when one is known. */
  turn_id: string | null;
  session_id: string | null;
  /** Human-readable: what was expected and what was found. */
  detail: string;
}

/** The whole result. */
export interface VerifyReport {
  ok: boolean;
  /** Bodies and objects re-hashed (a segmented body counts once, however many segments it has). */
  checked_objects: number;
  /** Distinct segments of segmented bodies checked. */
  checked_segments: number;
  checked_turns: number;
  checked_sessions: number;
  checked_signatures: number;
  /** Turns newer than their session's latest signed head: chained, but not yet covered by a signature. */
  unsigned_turns: number;
  problems: Problem[];
}

/** Whether a finding is a failure (everything but a recorded deletion). */
export function isFailure(problem: Problem): boolean {
  return problem.kind !== "deleted_by_policy";
}

/** Short form of a hash for details. */
export function short(hash: unknown): string {
  return hash === null || hash === undefined ? "none" : String(hash).slice(0, 16);
}
