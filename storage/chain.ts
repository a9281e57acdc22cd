/**
 * The per-session hash chain. Each turn's `hash` is SHA-256 over a canonical encoding of its row (every
 * stored column but `hash` itself), its tool calls and tool results, and `prev_hash`, the hash of the
 * turn before it in the session (`GENESIS_HASH` for the first). Changing any stored value, deleting or
 * inserting a turn breaks the chain from that point; `verify` recomputes it with `turnHash` over the rows
 * it reads back, on either engine.
 *
 * The encoding is a JSON array of values in the fixed order of `TURN_HASH_FIELDS`, so key order and
 * engine-specific column order cannot change a hash. Numbers are JS numbers, flags booleans.
 * @module
 */
import { createHash } from "node:crypto";

/** `prev_hash` of the first turn of a session. */
export const GENESIS_HASH = "0".repeat(64);

/** The turn columns covered by the hash, in encoding order. */
export const TURN_HASH_FIELDS = [
  "id",
  "session_id",
  "seq",
  "exchange_id",
  "provider",
  "api",
  "model",
  "status",
  "outcome",
  "developer",
  "team",
  "api_key_hash",
  "started_at",
  "ttfb_ms",
  "duration_ms",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_write_5m_tokens",
  "cache_write_1h_tokens",
  "reasoning_tokens",
  "usage_estimated",
  "cost_usd",
  "stop_reason",
  "response_id",
  "prompt",
  "response_text",
  "request_sha256",
  "response_sha256",
  "prev_hash",
] as const;

const BOOLEAN_FIELDS = new Set(["usage_estimated", "server", "is_error"]);
const NUMBER_FIELDS = new Set([
  "seq",
  "status",
  "started_at",
  "ttfb_ms",
  "duration_ms",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_write_5m_tokens",
  "cache_write_1h_tokens",
  "reasoning_tokens",
  "cost_usd",
  "provider_reported_cost_usd",
  "idx",
  "content_from",
  "content_to",
]);

/** The tool-call columns covered, in order. */
export const TOOL_CALL_HASH_FIELDS = ["idx", "call_id", "name", "arguments", "server"] as const;
/** The tool-result columns covered, in order. */
export const TOOL_RESULT_HASH_FIELDS = ["call_id", "tool_call_id", "content", "is_error"] as const;
/**
 * A tool result kept as a segment of its request body has an empty `content` and names the segment in
 * `content_sha256` (the SHA-256 of the exact bytes of the JSON string holding the text) and the text's
 * range in that string (`content_from`, `content_to`): they join the hash as `[name, value]` pairs, only
 * when set, so rows that hold their text keep the hash they were chained with.
 */
export const LATER_TOOL_RESULT_HASH_FIELDS = ["content_sha256", "content_from", "content_to"] as const;

function normalise(field: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (BOOLEAN_FIELDS.has(field)) return Boolean(value);
  if (NUMBER_FIELDS.has(field)) return Number(value);
  return String(value);
}

function pick(row: Record<string, unknown>, fields: readonly string[]): unknown[] {
  return fields.map((f) => normalise(f, row[f]));
}

/**
 * Turn fields added after `recondo.turn.v1`: each joins the hash as a `[name, value]` pair only when set,
 * so every turn stored before the field existed keeps the hash it was chained with.
 */
export const LATER_TURN_HASH_FIELDS = ["thinking_text", "provider_reported_cost_usd", "deployment"] as const;

function later(
  row: Record<string, unknown>,
  fields: readonly string[] = LATER_TURN_HASH_FIELDS,
): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const f of fields) {
    const value = normalise(f, row[f]);
    if (value !== null) out.push([f, value]);
  }
  return out;
}

/**
 * The hash of a turn as stored: `turn` is its row (either engine), `toolCalls` ordered by `idx`,
 * `toolResults` ordered by `call_id` then `id`.
 */
export function turnHash(
  turn: Record<string, unknown>,
  toolCalls: readonly Record<string, unknown>[],
  toolResults: readonly Record<string, unknown>[],
): string {
  const canonical = JSON.stringify([
    "recondo.turn.v1",
    [...pick(turn, TURN_HASH_FIELDS), ...later(turn)],
    toolCalls.map((c) => pick(c, TOOL_CALL_HASH_FIELDS)),
    toolResults.map((r) => [...pick(r, TOOL_RESULT_HASH_FIELDS), ...later(r, LATER_TOOL_RESULT_HASH_FIELDS)]),
  ]);
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}

/**
 * Sorts tool results the way `turnHash` expects them: by call id, then row id, comparing UTF-16 code
 * units (never a collation, which differs between engines and locales).
 */
export function sortToolResults<T extends Record<string, unknown>>(rows: readonly T[]): T[] {
  const cmp = (x: string, y: string) => x < y ? -1 : x > y ? 1 : 0;
  return [...rows].sort((a, b) =>
    cmp(String(a.call_id), String(b.call_id)) || cmp(String(a.id), String(b.id))
  );
}
