/**
 * Session boundaries. A turn joins, in order of preference: the session the client names (Claude Code's
 * session id, Codex's `session-id`); the session of the turn its `previous_response_id` continues; the
 * latest session of the same owner whose conversation opened the same way (prefix fingerprint) and was
 * active within the idle gap; else a new session. Runs inside the writer's transaction; on PostgreSQL the
 * chosen session row is locked (`FOR UPDATE`) so concurrent turns — from this or another replica — take
 * sequence numbers and chain links one at a time.
 * @module
 */
import { newId } from "../core/ids.ts";
import type { Queryable, SqlValue } from "../storage/db/db.ts";

/** What the resolver needs to know about the turn. */
export interface SessionInput {
  engine: "sqlite" | "postgres";
  provider: string;
  /** The developer, else `addr:<client host>`: sessions never span two owners. */
  owner: string;
  clientKey: string | null;
  previousResponseId: string | null;
  fingerprint: string | null;
  at: number;
  idleGapMs: number;
  developer: string | null;
  team: string | null;
  clientAddress: string;
}

/** The locked session row: where the chain currently ends. */
export interface SessionHead {
  id: string;
  headSeq: number;
  headHash: string | null;
}

/** Inserts a session; says whether it did (`false`: a session with `clientKey` exists already). */
async function insertSession(
  tx: Queryable,
  input: SessionInput,
  clientKey: string | null,
): Promise<{ id: string; inserted: boolean }> {
  const id = newId(input.at);
  const values: SqlValue[] = [
    id,
    clientKey,
    clientKey ? null : input.fingerprint,
    input.owner,
    input.provider,
    input.developer,
    input.team,
    input.clientAddress,
    input.at,
  ];
  const conflict = clientKey ? " ON CONFLICT (client_key) DO NOTHING" : "";
  const changed = await tx.run(
    `INSERT INTO sessions (id, client_key, fingerprint, owner, provider, developer, team, client_address,
       started_at, last_activity_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)${conflict}`,
    values,
  );
  return { id, inserted: changed === 1 };
}

type HeadRow = { id: string; head_seq: number; head_hash: string | null };
/** What every lookup below reads of a session: its id and chain head. */
const HEAD = "SELECT id, head_seq, head_hash FROM sessions";

function headOf(row: HeadRow): SessionHead {
  return { id: String(row.id), headSeq: Number(row.head_seq), headHash: row.head_hash };
}

/** A session created in this transaction: its chain is empty, and the row is ours until commit. */
function fresh(id: string): SessionHead {
  return { id, headSeq: 0, headHash: null };
}

/**
 * Finds or creates the session of a turn and locks its row for the rest of the transaction. The row found
 * is read with its head in the same statement (locked on PostgreSQL, `FOR UPDATE`), and a session created
 * here needs no reading back: one statement per turn fewer than finding, then locking.
 */
export async function resolveSession(tx: Queryable, input: SessionInput): Promise<SessionHead> {
  const lock = input.engine === "postgres" ? " FOR UPDATE" : "";
  if (input.clientKey) {
    const byKey = `${HEAD} WHERE client_key = $1${lock}`;
    const [existing] = await tx.query<HeadRow>(byKey, [input.clientKey]);
    if (existing) return headOf(existing);
    const created = await insertSession(tx, input, input.clientKey);
    if (created.inserted) return fresh(created.id);
    // Another writer (a replica) created it meanwhile: its row, locked.
    const [row] = await tx.query<HeadRow>(byKey, [input.clientKey]);
    if (!row) throw new Error(`Session of client key vanished while a turn was being written`);
    return headOf(row);
  }
  if (input.previousResponseId) {
    const previous = await tx.query<{ session_id: string }>(
      "SELECT session_id FROM turns WHERE response_id = $1 ORDER BY started_at DESC LIMIT 1",
      [input.previousResponseId],
    );
    if (previous.length) {
      const id = String(previous[0].session_id);
      const [row] = await tx.query<HeadRow>(`${HEAD} WHERE id = $1${lock}`, [id]);
      if (!row) throw new Error(`Session ${id} vanished while a turn was being written`);
      return headOf(row);
    }
  }
  const since = input.at - input.idleGapMs;
  const [recent] = input.fingerprint
    ? await tx.query<HeadRow>(
      `${HEAD} WHERE client_key IS NULL AND owner = $1 AND fingerprint = $2
         AND last_activity_at >= $3 ORDER BY last_activity_at DESC LIMIT 1${lock}`,
      [input.owner, input.fingerprint, since],
    )
    : await tx.query<HeadRow>(
      `${HEAD} WHERE client_key IS NULL AND owner = $1 AND provider = $2
         AND fingerprint IS NULL AND last_activity_at >= $3 ORDER BY last_activity_at DESC LIMIT 1${lock}`,
      [input.owner, input.provider, since],
    );
  if (recent) return headOf(recent);
  return fresh((await insertSession(tx, input, null)).id);
}
