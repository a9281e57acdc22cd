/**
 * Read queries behind the UI's Sessions list: filters on every column a team asks about, full-text search
 * over prompts, responses and tool-call arguments, and keyset paging on `(last_activity_at, id)` so page
 * 500 costs the same as page 1. Same SQL on both engines.
 * @example
 * const page = await browseSessions(db, { team: "core", q: "migration" });
 * const next = await browseSessions(db, { team: "core", q: "migration", after: page.next });
 * @module
 */
import type { Db, SqlValue } from "../db/db.ts";
import { likePattern } from "../like_pattern.ts";

/** Filters of the Sessions page; times are epoch milliseconds. */
export interface BrowseFilter {
  developer?: string;
  team?: string;
  repo?: string;
  provider?: string;
  model?: string;
  since?: number;
  until?: number;
  /** Case-insensitive substring of a prompt, a response or a tool call's name or arguments. */
  q?: string;
  /** The `next` cursor of the previous page. */
  after?: string;
  /** Default 50, at most 500. */
  limit?: number;
}

/** A row of the Sessions table. */
export interface BrowseRow {
  id: string;
  provider: string;
  model: string | null;
  developer: string | null;
  team: string | null;
  repo: string | null;
  branch: string | null;
  intent: string | null;
  startedAt: number;
  lastActivityAt: number;
  turnCount: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** One page and the cursor of the next one (`null` on the last page). */
export interface BrowsePage {
  rows: BrowseRow[];
  next: string | null;
}

/**
 * The condition that finds `text` as a substring of an `ui_search_*` row's `body` (trigram FTS5 without
 * positions, migration 090), ignoring ASCII case. FTS5 answers a `LIKE` from its trigrams only when the
 * pattern has no `ESCAPE` clause, so text without wildcard characters is one indexed `LIKE`; otherwise its
 * longest literal run of 3+ characters picks the candidates through the index and the escaped pattern
 * checks them exactly (`100%` must not match `1000`). Text with no such run is an exact scan.
 */
function trigramLike(text: string, p: (value: SqlValue) => string): string {
  if (!/[\\%_]/.test(text)) return `body LIKE ${p(`%${text}%`)}`;
  const exact = `body LIKE ${p(likePattern(text))} ESCAPE '\\'`;
  const run = text.split(/[\\%_]/).reduce((a, b) => (b.length > a.length ? b : a), "");
  return run.length >= 3 ? `body LIKE ${p(`%${run}%`)} AND ${exact}` : exact;
}

/** Reads a `next` cursor; throws a `RangeError` naming the value when it is not one of ours. */
export function parseCursor(cursor: string): { at: number; id: string } {
  const colon = cursor.indexOf(":");
  const at = Number(cursor.slice(0, colon));
  if (colon < 1 || !Number.isSafeInteger(at)) throw new RangeError(`Not a page cursor: "${cursor}"`);
  return { at, id: cursor.slice(colon + 1) };
}

/** Sessions, most recently active first, one page at a time. */
export async function browseSessions(db: Db, filter: BrowseFilter = {}): Promise<BrowsePage> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const p = (value: SqlValue) => {
    params.push(value);
    return `$${params.length}`;
  };
  for (const column of ["developer", "team", "repo", "provider", "model"] as const) {
    const value = filter[column];
    if (value) where.push(`s.${column} = ${p(value)}`);
  }
  if (filter.since !== undefined) where.push(`s.last_activity_at >= ${p(filter.since)}`);
  if (filter.until !== undefined) where.push(`s.started_at < ${p(filter.until)}`);
  if (filter.q && db.engine === "sqlite" && filter.q.length >= 3) {
    where.push(`s.id IN (SELECT session_id FROM ui_search_turns WHERE ${trigramLike(filter.q, p)}
      UNION SELECT session_id FROM ui_search_tools WHERE ${trigramLike(filter.q, p)})`);
  } else if (filter.q) {
    const like = db.engine === "postgres" ? "ILIKE" : "LIKE";
    const pattern = p(likePattern(filter.q));
    where.push(
      `(EXISTS (SELECT 1 FROM turns t WHERE t.session_id = s.id AND (t.prompt ${like} ${pattern} ESCAPE '\\'
      OR t.response_text ${like} ${pattern} ESCAPE '\\'))
      OR EXISTS (SELECT 1 FROM tool_calls c WHERE c.session_id = s.id AND (c.arguments ${like} ${pattern} ESCAPE '\\'
      OR c.name ${like} ${pattern} ESCAPE '\\')))`,
    );
  }
  if (filter.after) {
    const { at, id } = parseCursor(filter.after);
    const a = p(at);
    where.push(`(s.last_activity_at < ${a} OR (s.last_activity_at = ${a} AND s.id < ${p(id)}))`);
  }
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
  const rows = await db.query(
    `SELECT s.* FROM sessions s ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY s.last_activity_at DESC, s.id DESC LIMIT ${p(limit + 1)}`,
    params,
  );
  const page = rows.slice(0, limit).map((r): BrowseRow => ({
    id: String(r.id),
    provider: String(r.provider),
    model: r.model === null ? null : String(r.model),
    developer: r.developer === null ? null : String(r.developer),
    team: r.team === null ? null : String(r.team),
    repo: r.repo === null ? null : String(r.repo),
    branch: r.branch === null ? null : String(r.branch),
    intent: r.intent === null ? null : String(r.intent),
    startedAt: Number(r.started_at),
    lastActivityAt: Number(r.last_activity_at),
    turnCount: Number(r.turn_count),
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    costUsd: Number(r.cost_usd),
  }));
  const last = page.at(-1);
  return { rows: page, next: rows.length > limit && last ? `${last.lastActivityAt}:${last.id}` : null };
}

/** Distinct values of a session column, for the filter drop-downs. */
export async function distinctValues(
  db: Db,
  column: "developer" | "team" | "repo" | "provider" | "model",
): Promise<string[]> {
  const rows = await db.query(
    `SELECT DISTINCT ${column} AS v FROM sessions WHERE ${column} IS NOT NULL ORDER BY v LIMIT 500`,
  );
  return rows.map((r) => String(r.v));
}
