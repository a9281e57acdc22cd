/**
 * `recondo verify` without the command line: checks one session or everything on any engine and either
 * object store. Each session's rows are read in one snapshot (a transaction, REPEATABLE READ on
 * PostgreSQL) so a gateway writing at the same time cannot make a consistent chain look broken; then
 * every object the checked rows name is re-hashed (a segmented body reassembled from its manifest and
 * segments first, `segment_check.ts`), and with `all` every object the store lists.
 * @example
 * const report = await verifyStores(db, objects, { all: true, keys: await trustedKeys(db, localKey) });
 * if (!report.ok) Deno.exit(1);
 * @module
 */
import type { Db, Queryable, Row } from "../../storage/db/db.ts";
import type { ObjectStore } from "../../storage/objects/store.ts";
import { checkSessionChain, type SessionRows } from "./chain_check.ts";
import { checkObjects, type ObjectRef } from "./object_check.ts";
import { checkPackedBodies } from "./packed_check.ts";
import { checkSegmentedBodies } from "./segment_check.ts";
import {
  checkToolResultSegments,
  collectToolResultSegments,
  type ToolResultSegments,
} from "./tool_result_check.ts";
import { isFailure, type Problem, type VerifyReport } from "./report.ts";
import type { TrustedKeys } from "./trusted_keys.ts";
import { withToolResultText } from "../../storage/packed_text.ts";

/** Thrown for a session id that names nothing; the CLI prints its message. */
export class UnknownSessionError extends Error {
  constructor(readonly sessionId: string) {
    super(`No session "${sessionId}"`);
    this.name = "UnknownSessionError";
  }
}

/** What to check and how to report progress. */
export interface VerifyOptions {
  /** One session, or `all`. */
  sessionId?: string;
  all?: boolean;
  keys: TrustedKeys;
  onProgress?: (phase: "chains" | "objects", done: number, total: number) => void;
  /** Objects fetched at once (default 8). */
  concurrency?: number;
}

function groupBy(rows: Row[], key: string): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const r of rows) {
    const k = String(r[key]);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

/** Reads one session's chain rows in a single snapshot. */
export function readSessionRows(db: Db, sessionId: string): Promise<SessionRows> {
  return db.transaction(async (tx: Queryable) => {
    if (db.engine === "postgres") await tx.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const q = (sql: string) => tx.query(sql, [sessionId]);
    const [session] = await q("SELECT * FROM sessions WHERE id = $1");
    return {
      sessionId,
      session: session ?? null,
      turns: await q("SELECT * FROM turns WHERE session_id = $1 ORDER BY seq"),
      toolCalls: groupBy(
        await q("SELECT * FROM tool_calls WHERE session_id = $1 ORDER BY turn_id, idx"),
        "turn_id",
      ),
      toolResults: groupBy(
        withToolResultText(await q("SELECT * FROM tool_results WHERE session_id = $1")),
        "turn_id",
      ),
      heads: await q("SELECT * FROM chain_heads WHERE session_id = $1 ORDER BY seq, signed_at"),
      deletions: await q("SELECT * FROM deletions WHERE session_id = $1 ORDER BY seq"),
      exchanges: await q(
        "SELECT id, turn_id, request_sha256, response_sha256, captured_at FROM exchanges WHERE session_id = $1",
      ),
    };
  });
}

async function sessionIds(db: Db, options: VerifyOptions): Promise<string[]> {
  if (options.sessionId !== undefined) {
    const found = await db.query(
      `SELECT id FROM sessions WHERE id = $1 UNION SELECT session_id FROM turns WHERE session_id = $1
       UNION SELECT session_id FROM deletions WHERE session_id = $1`,
      [options.sessionId],
    );
    if (!found.length) throw new UnknownSessionError(options.sessionId);
    return [options.sessionId];
  }
  const rows = await db.query(
    `SELECT id FROM sessions UNION SELECT session_id FROM turns
     UNION SELECT session_id FROM deletions WHERE session_id IS NOT NULL`,
  );
  return rows.map((r) => String(r.id)).sort();
}

function addRef(refs: Map<string, ObjectRef>, sha: unknown, turnId: unknown, sessionId: unknown): void {
  if (typeof sha !== "string" || !sha) return;
  const ref = refs.get(sha);
  const turn = typeof turnId === "string" ? turnId : null;
  if (ref) {
    ref.uses++;
    if (!ref.referenced) ref.referenced = true;
    if (turn && !ref.turnIds.includes(turn)) ref.turnIds.push(turn);
    return;
  }
  refs.set(sha, {
    referenced: true,
    turnId: turn,
    turnIds: turn ? [turn] : [],
    sessionId: typeof sessionId === "string" ? sessionId : null,
    uses: 1,
  });
}

/** Checks chains, signatures and objects; see the module doc. */
export async function verifyStores(
  db: Db,
  objects: ObjectStore,
  options: VerifyOptions,
): Promise<VerifyReport> {
  if (!options.all && options.sessionId === undefined) {
    throw new RangeError("verify needs a session id or --all");
  }
  const ids = await sessionIds(db, options);
  const problems: Problem[] = [];
  const refs = new Map<string, ObjectRef>();
  const toolResultSegments: ToolResultSegments = new Map();
  let checkedTurns = 0;
  let checkedSignatures = 0;
  let unsignedTurns = 0;
  for (const [i, id] of ids.entries()) {
    const rows = await readSessionRows(db, id);
    const result = await checkSessionChain(rows, options.keys);
    problems.push(...result.problems);
    checkedTurns += result.checkedTurns;
    checkedSignatures += result.checkedSignatures;
    unsignedTurns += result.unsignedTurns;
    for (const t of rows.turns) {
      addRef(refs, t.request_sha256, t.id, id);
      addRef(refs, t.response_sha256, t.id, id);
    }
    collectToolResultSegments(toolResultSegments, id, [...rows.toolResults.values()].flat());
    for (const ex of rows.exchanges) {
      addRef(refs, ex.request_sha256, ex.turn_id, id);
      addRef(refs, ex.response_sha256, ex.turn_id, id);
    }
    options.onProgress?.("chains", i + 1, ids.length);
  }
  if (options.all) {
    const loose = await db.query(
      "SELECT request_sha256, response_sha256 FROM exchanges WHERE session_id IS NULL",
    );
    for (const ex of loose) {
      addRef(refs, ex.request_sha256, null, null);
      addRef(refs, ex.response_sha256, null, null);
    }
    for await (const sha of objects.list()) {
      if (!refs.has(sha)) {
        refs.set(sha, { referenced: false, turnId: null, turnIds: [], sessionId: null, uses: 0 });
      }
    }
  }
  const deleted = new Map<string, { reason: string; deleted_at: number }>();
  for (
    const d of await db.query("SELECT target_id, reason, deleted_at FROM deletions WHERE target = 'object'")
  ) {
    deleted.set(String(d.target_id), { reason: String(d.reason), deleted_at: Number(d.deleted_at) });
  }
  // Segmented bodies are reassembled and re-hashed; every other object (whole bodies, packs) as before.
  const segmented = await checkSegmentedBodies(db, objects, refs, {
    concurrency: options.concurrency,
    onProgress: (done, total) => options.onProgress?.("objects", done, total),
  });
  problems.push(...segmented.problems);
  problems.push(
    ...await checkToolResultSegments(db, objects, toolResultSegments, { concurrency: options.concurrency }),
  );
  const rest = new Map([...refs].filter(([sha]) => !segmented.bodies.has(sha)));
  const packed = await checkPackedBodies(db, objects, rest, { concurrency: options.concurrency });
  problems.push(...packed.problems);
  const whole = new Map([...rest].filter(([sha]) => !packed.bodies.has(sha)));
  const checked = await checkObjects(objects, whole, {
    deleted,
    concurrency: options.concurrency,
    onProgress: (done, total) => options.onProgress?.("objects", done, total),
  });
  problems.push(...checked.problems);
  return {
    ok: !problems.some(isFailure),
    checked_objects: checked.checked + segmented.bodies.size + packed.bodies.size,
    checked_segments: segmented.segments,
    checked_turns: checkedTurns,
    checked_sessions: ids.length,
    checked_signatures: checkedSignatures,
    unsigned_turns: unsignedTurns,
    problems,
  };
}
