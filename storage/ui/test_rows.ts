/**
 * Test support: inserts capture rows (sessions, turns, tool calls, exchanges, events) with only the
 * fields a UI query cares about set, the rest filled with valid defaults. Also used by the UI benchmark.
 * @module
 */
import type { Queryable, SqlValue } from "../db/db.ts";

async function insert(db: Queryable, table: string, row: Record<string, SqlValue>): Promise<void> {
  const columns = Object.keys(row);
  await db.run(
    `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")})`,
    Object.values(row),
  );
}

/** A session row. */
export function insertSession(
  db: Queryable,
  s: {
    id: string;
    at: number;
    developer?: string;
    team?: string;
    repo?: string;
    model?: string;
    cost?: number;
    turns?: number;
  },
): Promise<void> {
  return insert(db, "sessions", {
    id: s.id,
    owner: s.developer ?? "anonymous",
    provider: "anthropic",
    model: s.model ?? "claude-sonnet-4-5",
    developer: s.developer ?? null,
    team: s.team ?? null,
    repo: s.repo ?? null,
    started_at: s.at - 1000,
    last_activity_at: s.at,
    turn_count: s.turns ?? 1,
    cost_usd: s.cost ?? 0,
  });
}

/** A turn row (and its exchange) of session `sessionId`. */
export async function insertTurn(
  db: Queryable,
  t: {
    id: string;
    sessionId: string;
    seq: number;
    at: number;
    prompt?: string;
    response?: string;
    cost?: number;
    team?: string;
    developer?: string;
    model?: string;
  },
): Promise<void> {
  await insert(db, "turns", {
    id: t.id,
    session_id: t.sessionId,
    seq: t.seq,
    exchange_id: `ex-${t.id}`,
    provider: "anthropic",
    model: t.model ?? "claude-sonnet-4-5",
    status: 200,
    developer: t.developer ?? null,
    team: t.team ?? null,
    started_at: t.at,
    input_tokens: 100,
    output_tokens: 10,
    cache_read_tokens: 0,
    cache_write_5m_tokens: 0,
    cache_write_1h_tokens: 0,
    reasoning_tokens: 0,
    usage_estimated: 0,
    cost_usd: t.cost ?? 0.01,
    prompt: t.prompt ?? null,
    response_text: t.response ?? null,
    request_sha256: "0".repeat(64),
    response_sha256: "0".repeat(64),
    prev_hash: "0".repeat(64),
    hash: "1".repeat(64),
  });
  await insert(db, "exchanges", {
    id: `ex-${t.id}`,
    connection_id: "c",
    kind: "http",
    provider: "anthropic",
    method: "POST",
    host: "api.anthropic.com",
    path: "/v1/messages",
    status: 200,
    client_address: "127.0.0.1:1",
    client_via: "none",
    started_at: t.at,
    request_bytes: 1,
    response_bytes: 1,
    request_headers: "{}",
    errors: "[]",
    session_id: t.sessionId,
    turn_id: t.id,
    captured_at: t.at + 100,
  });
}

/** A tool call of turn `turnId`. */
export function insertToolCall(
  db: Queryable,
  c: { id: string; turnId: string; sessionId: string; name: string; arguments: string },
): Promise<void> {
  return insert(db, "tool_calls", {
    id: c.id,
    turn_id: c.turnId,
    session_id: c.sessionId,
    idx: 0,
    call_id: c.id,
    name: c.name,
    arguments: c.arguments,
    server: 0,
  });
}

/** A policy decision event. */
export function insertDecision(
  db: Queryable,
  e: {
    id: string;
    at: number;
    policy: string;
    decision: string;
    enforced: boolean;
    engine: "sqlite" | "postgres";
  },
): Promise<void> {
  return insert(db, "events", {
    id: e.id,
    exchange_id: "ex",
    kind: "decision",
    policy: e.policy,
    hook: "request",
    decision: e.decision,
    enforced: e.engine === "postgres" ? e.enforced : e.enforced ? 1 : 0,
    reason: "test",
    at: e.at,
  });
}
