/**
 * The Session page's turn-by-turn trace: `getSession` (storage/queries.ts) plus what the page shows beyond
 * the CLI's summary — each turn's response text, thinking and stop reason, the tool results that came back in it,
 * and whether each policy decision was enforced or only observed.
 * @module
 */
import type { Db, Row } from "../db/db.ts";
import { getSession, type SessionDetail, type TurnSummary } from "../queries.ts";
import type { ObjectStore } from "../objects/store.ts";
import { withToolResultTexts } from "../tool_result_text.ts";

/** One turn of the trace. */
export interface TraceTurn extends TurnSummary {
  responseText: string | null;
  /** The model's visible thinking, when it showed any. */
  thinkingText: string | null;
  stopReason: string | null;
  usageEstimated: boolean;
  /** `toolName` is the name of the call the result answers, when that call was captured. */
  toolResults: { callId: string; toolName: string | null; content: string; isError: boolean }[];
  decisionsFull: { policy: string; hook: string; kind: string; reason: string; enforced: boolean }[];
}

/** A session with its trace, or `null` for an unknown id. */
export interface SessionTrace extends Omit<SessionDetail, "turns"> {
  turns: TraceTurn[];
}

function group(rows: Row[]): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const r of rows) {
    const key = String(r.turn_id);
    out.set(key, [...(out.get(key) ?? []), r]);
  }
  return out;
}

/**
 * Reads the session `id` with every turn's full trace; tool results kept as request segments are read
 * from `objects` (a marker names them when it is `null`).
 */
export async function sessionTrace(
  db: Db,
  id: string,
  options: { objects?: ObjectStore | null } = {},
): Promise<SessionTrace | null> {
  const session = await getSession(db, id);
  if (!session) return null;
  const texts = new Map(
    (await db.query(
      "SELECT id, response_text, thinking_text, stop_reason, usage_estimated FROM turns WHERE session_id = $1",
      [id],
    ))
      .map((r) => [String(r.id), r]),
  );
  const results = group(
    await withToolResultTexts(
      db,
      options.objects ?? null,
      await db.query(
        `SELECT r.*, c.name AS tool_name FROM tool_results r LEFT JOIN tool_calls c ON c.id = r.tool_call_id
       WHERE r.session_id = $1 ORDER BY r.turn_id, r.call_id, r.id`,
        [id],
      ),
    ),
  );
  const decisions = group(
    await db.query(
      "SELECT * FROM events WHERE session_id = $1 AND kind = 'decision' AND turn_id IS NOT NULL ORDER BY at, id",
      [id],
    ),
  );
  return {
    ...session,
    turns: session.turns.map((t): TraceTurn => {
      const row = texts.get(t.id);
      return {
        ...t,
        responseText: row?.response_text === null || row?.response_text === undefined
          ? null
          : String(row.response_text),
        thinkingText: row?.thinking_text === null || row?.thinking_text === undefined
          ? null
          : String(row.thinking_text),
        stopReason: row?.stop_reason === null || row?.stop_reason === undefined
          ? null
          : String(row.stop_reason),
        usageEstimated: Boolean(row?.usage_estimated),
        toolResults: (results.get(t.id) ?? []).map((r) => ({
          callId: String(r.call_id),
          toolName: r.tool_name === null || r.tool_name === undefined ? null : String(r.tool_name),
          content: String(r.content),
          isError: Boolean(r.is_error),
        })),
        decisionsFull: (decisions.get(t.id) ?? []).map((d) => ({
          policy: String(d.policy),
          hook: String(d.hook),
          kind: String(d.decision),
          reason: String(d.reason),
          enforced: Boolean(d.enforced),
        })),
      };
    }),
  };
}
