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

async function insertSession(tx: Queryable, input: SessionInput, clientKey: string | null): Promise<string> {
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
  await tx.run(
    `INSERT INTO sessions (id, client_key, fingerprint, owner, provider, developer, team, client_address,
       started_at, last_activity_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)${conflict}`,
    values,
  );
  return id;
}

async function findSession(tx: Queryable, input: SessionInput): Promise<string> {
  if (input.clientKey) {
    const existing = await tx.query<{ id: string }>("SELECT id FROM sessions WHERE client_key = $1", [
      input.clientKey,
    ]);
    if (existing.length) return existing[0].id;
    await insertSession(tx, input, input.clientKey);
    const row = await tx.query<{ id: string }>("SELECT id FROM sessions WHERE client_key = $1", [
      input.clientKey,
    ]);
    return row[0].id;
  }
  if (input.previousResponseId) {
    const previous = await tx.query<{ session_id: string }>(
      "SELECT session_id FROM turns WHERE response_id = $1 ORDER BY started_at DESC LIMIT 1",
      [input.previousResponseId],
    );
    if (previous.length) return previous[0].session_id;
  }
  const since = input.at - input.idleGapMs;
  const recent = input.fingerprint
    ? await tx.query<{ id: string }>(
      `SELECT id FROM sessions WHERE client_key IS NULL AND owner = $1 AND fingerprint = $2
         AND last_activity_at >= $3 ORDER BY last_activity_at DESC LIMIT 1`,
      [input.owner, input.fingerprint, since],
    )
    : await tx.query<{ id: string }>(
      `SELECT id FROM sessions WHERE client_key IS NULL AND owner = $1 AND provider = $2
         AND fingerprint IS NULL AND last_activity_at >= $3 ORDER BY last_activity_at DESC LIMIT 1`,
      [input.owner, input.provider, since],
    );
  if (recent.length) return recent[0].id;
  return await insertSession(tx, input, null);
}

/** Finds or creates the session of a turn and locks its row for the rest of the transaction. */
export async function resolveSession(tx: Queryable, input: SessionInput): Promise<SessionHead> {
  const id = await findSession(tx, input);
  const lock = input.engine === "postgres" ? " FOR UPDATE" : "";
  const rows = await tx.query<{ head_seq: number; head_hash: string | null }>(
    `SELECT head_seq, head_hash FROM sessions WHERE id = $1${lock}`,
    [id],
  );
  if (!rows.length) throw new Error(`Session ${id} vanished while a turn was being written`);
  return { id, headSeq: Number(rows[0].head_seq), headHash: rows[0].head_hash };
}
