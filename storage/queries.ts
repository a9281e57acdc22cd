/**
 * Read-side queries over captured sessions, for the CLI inspector, the UI and `verify`. Same SQL on both
 * engines; results use the snake_case field names of the CLI's `--json` output (issue 4 §6), times as
 * ISO-8601 strings, token counts and costs as numbers (`cost_usd` of a turn is `null` when unpriced).
 * @example
 * const sessions = await listSessions(db, { limit: 20 });
 * const detail = await getSession(db, sessions[0].id); // with turns, tool calls and decisions
 * @module
 */
import type { Db, Row, SqlValue } from "./db/db.ts";
import { withToolResultText } from "./packed_text.ts";
import { withToolResultTexts } from "./tool_result_text.ts";
import { mergeHeaders } from "./header_sets.ts";
import { likePattern } from "./like_pattern.ts";
import type { ObjectStore } from "./objects/store.ts";

/** One line of `recondo sessions`. */
export interface SessionSummary {
  id: string;
  provider: string;
  model: string | null;
  developer: string | null;
  team: string | null;
  repo: string | null;
  branch: string | null;
  intent: string | null;
  client_address: string | null;
  started_at: string;
  last_activity_at: string;
  turn_count: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
}

/** A turn as `session <id> --json` lists it. */
export interface TurnSummary {
  id: string;
  session_id: string;
  seq: number;
  provider: string;
  api: string | null;
  model: string | null;
  status: number | null;
  outcome: string | null;
  started_at: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: number | null;
  /** What the provider said the turn cost (OpenRouter's `usage.cost`), beside our `cost_usd`; else null. */
  provider_reported_cost_usd: number | null;
  /** The Azure OpenAI deployment the request named; null elsewhere. */
  deployment: string | null;
  ttfb_ms: number | null;
  duration_ms: number | null;
  prompt: string | null;
  tool_calls: { id: string; name: string; arguments: string }[];
  request_sha256: string;
  response_sha256: string;
  decisions: { policy: string; hook: string; kind: string; reason: string }[];
}

/** A session with its turns in sequence order. */
export interface SessionDetail extends SessionSummary {
  turns: TurnSummary[];
}

/** Everything about one turn, for `recondo turn <id>`. */
export interface TurnDetail extends TurnSummary {
  developer: string | null;
  team: string | null;
  stop_reason: string | null;
  response_id: string | null;
  response_text: string | null;
  usage_estimated: boolean;
  tool_results: { call_id: string; tool_call_id: string | null; content: string; is_error: boolean }[];
  prev_hash: string;
  hash: string;
  exchange: {
    method: string;
    host: string;
    path: string;
    request_headers: Record<string, string>;
    response_headers: Record<string, string> | null;
    request_bytes: number;
    response_bytes: number;
  } | null;
}

/** Filters of `listSessions`; times are epoch milliseconds. */
export interface SessionFilter {
  developer?: string;
  team?: string;
  provider?: string;
  since?: number;
  until?: number;
  /** Default 100. */
  limit?: number;
  offset?: number;
}

const iso = (ms: unknown) => new Date(Number(ms)).toISOString();
const num = (v: unknown) => Number(v ?? 0);
const numOrNull = (v: unknown) => v === null || v === undefined ? null : Number(v);
const strOrNull = (v: unknown) => v === null || v === undefined ? null : String(v);

function sessionSummary(r: Row): SessionSummary {
  return {
    id: String(r.id),
    provider: String(r.provider),
    model: strOrNull(r.model),
    developer: strOrNull(r.developer),
    team: strOrNull(r.team),
    repo: strOrNull(r.repo),
    branch: strOrNull(r.branch),
    intent: strOrNull(r.intent),
    client_address: strOrNull(r.client_address),
    started_at: iso(r.started_at),
    last_activity_at: iso(r.last_activity_at),
    turn_count: num(r.turn_count),
    input_tokens: num(r.input_tokens),
    output_tokens: num(r.output_tokens),
    cache_read_tokens: num(r.cache_read_tokens),
    cache_write_tokens: num(r.cache_write_tokens),
    reasoning_tokens: num(r.reasoning_tokens),
    cost_usd: num(r.cost_usd),
  };
}

function turnSummary(r: Row, calls: Row[], decisions: Row[]): TurnSummary {
  return {
    id: String(r.id),
    session_id: String(r.session_id),
    seq: num(r.seq),
    provider: String(r.provider),
    api: strOrNull(r.api),
    model: strOrNull(r.model),
    status: numOrNull(r.status),
    outcome: strOrNull(r.outcome),
    started_at: iso(r.started_at),
    input_tokens: num(r.input_tokens),
    output_tokens: num(r.output_tokens),
    cache_read_tokens: num(r.cache_read_tokens),
    cache_write_tokens: num(r.cache_write_5m_tokens) + num(r.cache_write_1h_tokens),
    reasoning_tokens: num(r.reasoning_tokens),
    cost_usd: numOrNull(r.cost_usd),
    provider_reported_cost_usd: numOrNull(r.provider_reported_cost_usd),
    deployment: strOrNull(r.deployment),
    ttfb_ms: numOrNull(r.ttfb_ms),
    duration_ms: numOrNull(r.duration_ms),
    prompt: strOrNull(r.prompt),
    tool_calls: calls.map((c) => ({
      id: String(c.call_id),
      name: String(c.name),
      arguments: String(c.arguments),
    })),
    request_sha256: String(r.request_sha256),
    response_sha256: String(r.response_sha256),
    decisions: decisions.map((d) => ({
      policy: String(d.policy),
      hook: String(d.hook),
      kind: String(d.decision),
      reason: String(d.reason),
    })),
  };
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

/** Sessions, most recently active first. */
export async function listSessions(db: Db, filter: SessionFilter = {}): Promise<SessionSummary[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const add = (sql: string, value: SqlValue) => {
    params.push(value);
    where.push(sql.replace("?", `$${params.length}`));
  };
  if (filter.developer !== undefined) add("developer = ?", filter.developer);
  if (filter.team !== undefined) add("team = ?", filter.team);
  if (filter.provider !== undefined) add("provider = ?", filter.provider);
  if (filter.since !== undefined) add("last_activity_at >= ?", filter.since);
  if (filter.until !== undefined) add("started_at < ?", filter.until);
  params.push(filter.limit ?? 100, filter.offset ?? 0);
  const rows = await db.query(
    `SELECT * FROM sessions ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY last_activity_at DESC, id DESC LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
  return rows.map(sessionSummary);
}

/** One session with its turns, or `null` for an unknown id. */
export async function getSession(db: Db, id: string): Promise<SessionDetail | null> {
  const [row] = await db.query("SELECT * FROM sessions WHERE id = $1", [id]);
  if (!row) return null;
  const turns = await db.query("SELECT * FROM turns WHERE session_id = $1 ORDER BY seq", [id]);
  const calls = groupBy(
    await db.query("SELECT * FROM tool_calls WHERE session_id = $1 ORDER BY idx", [id]),
    "turn_id",
  );
  const decisions = groupBy(
    await db.query(
      "SELECT * FROM events WHERE session_id = $1 AND kind = 'decision' AND turn_id IS NOT NULL ORDER BY at, id",
      [id],
    ),
    "turn_id",
  );
  return {
    ...sessionSummary(row),
    turns: turns.map((t) => turnSummary(t, calls.get(String(t.id)) ?? [], decisions.get(String(t.id)) ?? [])),
  };
}

/**
 * One turn with its texts, tool results, chain link and exchange, or `null` for an unknown id. Tool
 * results kept as request segments are read from `objects` (a marker names them when it is `null`).
 */
export async function getTurn(
  db: Db,
  id: string,
  options: { objects?: ObjectStore | null } = {},
): Promise<TurnDetail | null> {
  const [t] = await db.query("SELECT * FROM turns WHERE id = $1", [id]);
  if (!t) return null;
  const calls = await db.query("SELECT * FROM tool_calls WHERE turn_id = $1 ORDER BY idx", [id]);
  const decisions = await db.query(
    "SELECT * FROM events WHERE turn_id = $1 AND kind = 'decision' ORDER BY at, id",
    [id],
  );
  const results = await withToolResultTexts(
    db,
    options.objects ?? null,
    await db.query("SELECT * FROM tool_results WHERE turn_id = $1 ORDER BY call_id, id", [id]),
  );
  const [ex] = await db.query(
    `SELECT e.*, rq.headers AS request_headers_set, rs.headers AS response_headers_set FROM exchanges e
     LEFT JOIN header_sets rq ON rq.id = e.request_headers_base
     LEFT JOIN header_sets rs ON rs.id = e.response_headers_base WHERE e.id = $1`,
    [String(t.exchange_id)],
  );
  return {
    ...turnSummary(t, calls, decisions),
    developer: strOrNull(t.developer),
    team: strOrNull(t.team),
    stop_reason: strOrNull(t.stop_reason),
    response_id: strOrNull(t.response_id),
    response_text: strOrNull(t.response_text),
    usage_estimated: Boolean(t.usage_estimated),
    tool_results: results.map((r) => ({
      call_id: String(r.call_id),
      tool_call_id: strOrNull(r.tool_call_id),
      content: String(r.content),
      is_error: Boolean(r.is_error),
    })),
    prev_hash: String(t.prev_hash),
    hash: String(t.hash),
    exchange: ex
      ? {
        method: String(ex.method),
        host: String(ex.host),
        path: String(ex.path),
        request_headers: mergeHeaders(ex.request_headers, ex.request_headers_set),
        response_headers: ex.response_headers === null
          ? null
          : mergeHeaders(ex.response_headers, ex.response_headers_set),
        request_bytes: num(ex.request_bytes),
        response_bytes: num(ex.response_bytes),
      }
      : null,
  };
}

/** A search hit: which turn, and where the text matched. */
export interface SearchHit {
  turn_id: string;
  session_id: string;
  seq: number;
  started_at: string;
  matched_in: "prompt" | "response" | "tool_call";
  /** Up to 160 characters around the first match. */
  snippet: string;
}

function snippet(text: string, needle: string): string {
  const at = text.toLowerCase().indexOf(needle.toLowerCase());
  const from = Math.max(0, at - 60);
  return text.slice(from, from + 160).replace(/\s+/g, " ");
}

/** Turns whose prompt, response text or tool-call arguments contain `text` (case-insensitive). */
export async function searchTurns(
  db: Db,
  text: string,
  options: { limit?: number } = {},
): Promise<SearchHit[]> {
  const like = db.engine === "postgres" ? "ILIKE" : "LIKE";
  const pattern = likePattern(text);
  const limit = options.limit ?? 50;
  const turns = await db.query(
    `SELECT id, session_id, seq, started_at, prompt, response_text FROM turns
     WHERE prompt ${like} $1 ESCAPE '\\' OR response_text ${like} $1 ESCAPE '\\'
     ORDER BY started_at DESC LIMIT $2`,
    [pattern, limit],
  );
  const calls = await db.query(
    `SELECT t.id, t.session_id, t.seq, t.started_at, c.name, c.arguments FROM tool_calls c
     JOIN turns t ON t.id = c.turn_id
     WHERE c.arguments ${like} $1 ESCAPE '\\' OR c.name ${like} $1 ESCAPE '\\'
     ORDER BY t.started_at DESC LIMIT $2`,
    [pattern, limit],
  );
  const hits: SearchHit[] = [];
  const base = (r: Row) => ({
    turn_id: String(r.id),
    session_id: String(r.session_id),
    seq: num(r.seq),
    started_at: iso(r.started_at),
  });
  const lower = text.toLowerCase();
  for (const r of turns) {
    const prompt = String(r.prompt ?? "");
    const inPrompt = prompt.toLowerCase().includes(lower);
    hits.push({
      ...base(r),
      matched_in: inPrompt ? "prompt" : "response",
      snippet: snippet(inPrompt ? prompt : String(r.response_text ?? ""), text),
    });
  }
  for (const r of calls) {
    hits.push({ ...base(r), matched_in: "tool_call", snippet: snippet(`${r.name} ${r.arguments}`, text) });
  }
  hits.sort((a, b) => b.started_at.localeCompare(a.started_at));
  return hits.slice(0, limit);
}

/**
 * The raw rows `verify` needs for one session: turns in `seq` order, their tool calls (by `idx`) and
 * tool results (in `turnHash` order) keyed by turn id, signed heads, and recorded deletions.
 */
export async function chainRows(db: Db, sessionId: string): Promise<{
  turns: Row[];
  toolCalls: Map<string, Row[]>;
  toolResults: Map<string, Row[]>;
  heads: Row[];
  deletions: Row[];
}> {
  return {
    turns: await db.query("SELECT * FROM turns WHERE session_id = $1 ORDER BY seq", [sessionId]),
    toolCalls: groupBy(
      await db.query("SELECT * FROM tool_calls WHERE session_id = $1 ORDER BY turn_id, idx", [sessionId]),
      "turn_id",
    ),
    toolResults: groupBy(
      withToolResultText(
        await db.query("SELECT * FROM tool_results WHERE session_id = $1 ORDER BY turn_id, call_id, id", [
          sessionId,
        ]),
      ),
      "turn_id",
    ),
    heads: await db.query("SELECT * FROM chain_heads WHERE session_id = $1 ORDER BY seq, signed_at", [
      sessionId,
    ]),
    deletions: await db.query("SELECT * FROM deletions WHERE session_id = $1 ORDER BY seq", [sessionId]),
  };
}
