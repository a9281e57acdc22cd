/**
 * Human renderings of one session and one turn for the inspector: a block of aligned fields, then tables
 * (turns; tool calls, tool results, policy decisions). `--json` bypasses these entirely.
 * @module
 */
import type { SessionDetail, SessionSummary, TurnDetail, TurnSummary } from "../../storage/queries.ts";
import { bold, type Column, count, renderFields, renderTable, usd, when } from "./table.ts";

/** The columns of `recondo sessions`. */
export const sessionColumns: Column<SessionSummary>[] = [
  { header: "SESSION", value: (s) => s.id, max: 36 },
  { header: "PROVIDER", value: (s) => s.provider },
  { header: "MODEL", value: (s) => s.model, max: 28 },
  { header: "DEVELOPER", value: (s) => s.developer, max: 20 },
  { header: "TEAM", value: (s) => s.team, max: 16 },
  { header: "REPO", value: (s) => s.repo, max: 24 },
  { header: "LAST ACTIVE", value: (s) => when(s.last_activity_at) },
  { header: "TURNS", value: (s) => s.turn_count },
  { header: "IN", value: (s) => count(s.input_tokens), align: "right" },
  { header: "OUT", value: (s) => count(s.output_tokens), align: "right" },
  { header: "COST", value: (s) => usd(s.cost_usd), align: "right" },
  { header: "INTENT", value: (s) => s.intent, max: 40 },
];

/** The columns of `recondo session <id> --turns`. */
export const turnColumns: Column<TurnSummary>[] = [
  { header: "SEQ", value: (t) => t.seq },
  { header: "TURN", value: (t) => t.id },
  { header: "MODEL", value: (t) => t.model, max: 28 },
  { header: "STATUS", value: (t) => t.status },
  { header: "IN", value: (t) => count(t.input_tokens), align: "right" },
  { header: "OUT", value: (t) => count(t.output_tokens), align: "right" },
  { header: "CACHE R", value: (t) => count(t.cache_read_tokens), align: "right" },
  { header: "CACHE W", value: (t) => count(t.cache_write_tokens), align: "right" },
  { header: "COST", value: (t) => usd(t.cost_usd), align: "right" },
  { header: "TTFB", value: (t) => t.ttfb_ms === null ? null : `${t.ttfb_ms}ms`, align: "right" },
  { header: "TIME", value: (t) => t.duration_ms === null ? null : `${t.duration_ms}ms`, align: "right" },
  { header: "TOOLS", value: (t) => t.tool_calls.map((c) => c.name).join(",") || null, max: 24 },
  { header: "PROMPT", value: (t) => t.prompt, max: 40 },
];

/** `recondo session <id>`: the session's fields, and its turns when asked. */
export function renderSession(session: SessionDetail, options: { turns: boolean; color: boolean }): string {
  const color = options.color;
  const head = renderFields([
    ["session", session.id],
    ["provider", session.provider],
    ["model", session.model],
    ["developer", session.developer],
    ["team", session.team],
    ["client", session.client_address],
    [
      "repo",
      session.repo === null ? null : `${session.repo}${session.branch ? ` (${session.branch})` : ""}`,
    ],
    ["intent", session.intent],
    ["started", when(session.started_at)],
    ["last active", when(session.last_activity_at)],
    ["turns", session.turn_count],
    [
      "tokens",
      `in ${count(session.input_tokens)}, out ${count(session.output_tokens)}, cache read ${
        count(session.cache_read_tokens)
      }, cache write ${count(session.cache_write_tokens)}, reasoning ${count(session.reasoning_tokens)}`,
    ],
    ["cost", usd(session.cost_usd)],
  ], { color });
  if (!options.turns) return `${head}\n\n(recondo session ${session.id} --turns lists the turns)`;
  return `${head}\n\n${renderTable(turnColumns, session.turns, { color })}`;
}

/** `recondo turn <id>`: fields, prompt, response, tool calls and results, decisions. */
export function renderTurn(turn: TurnDetail, color: boolean): string {
  const parts = [renderFields([
    ["turn", turn.id],
    ["session", `${turn.session_id} (seq ${turn.seq})`],
    ["api", `${turn.provider} ${turn.api ?? ""}`.trim()],
    ["model", turn.model],
    ["developer", turn.developer],
    ["team", turn.team],
    ["status", turn.status === null ? turn.outcome : `${turn.status} ${turn.outcome ?? ""}`.trim()],
    ["started", when(turn.started_at)],
    ["latency", `ttfb ${turn.ttfb_ms ?? "-"}ms, total ${turn.duration_ms ?? "-"}ms`],
    [
      "tokens",
      `in ${count(turn.input_tokens)}, out ${count(turn.output_tokens)}, cache read ${
        count(turn.cache_read_tokens)
      }, cache write ${count(turn.cache_write_tokens)}, reasoning ${count(turn.reasoning_tokens)}${
        turn.usage_estimated ? " (estimated)" : ""
      }`,
    ],
    ["cost", usd(turn.cost_usd)],
    ...(turn.provider_reported_cost_usd === null
      ? []
      : [["provider-reported cost", usd(turn.provider_reported_cost_usd)] as [string, string]]),
    ...(turn.deployment === null ? [] : [["deployment", turn.deployment] as [string, string]]),
    ["stop", turn.stop_reason],
    [
      "request",
      `${turn.request_sha256}${turn.exchange ? ` (${turn.exchange.request_bytes} bytes)` : ""}`,
    ],
    [
      "response",
      `${turn.response_sha256}${turn.exchange ? ` (${turn.exchange.response_bytes} bytes)` : ""}`,
    ],
    ["chain", `${turn.prev_hash.slice(0, 16)} -> ${turn.hash.slice(0, 16)}`],
  ], { color })];
  if (turn.prompt) parts.push(`${bold("Prompt", color)}\n${turn.prompt}`);
  if (turn.response_text) parts.push(`${bold("Response", color)}\n${turn.response_text}`);
  if (turn.tool_calls.length) {
    parts.push(`${bold("Tool calls", color)}\n${
      renderTable(
        [
          { header: "ID", value: (c: TurnSummary["tool_calls"][number]) => c.id },
          { header: "NAME", value: (c) => c.name },
          { header: "ARGUMENTS", value: (c) => c.arguments, max: 100 },
        ],
        turn.tool_calls,
        { color },
      )
    }`);
  }
  if (turn.tool_results.length) {
    parts.push(`${bold("Tool results", color)}\n${
      renderTable(
        [
          { header: "CALL", value: (r: typeof turn.tool_results[number]) => r.call_id },
          { header: "ERROR", value: (r) => r.is_error ? "yes" : "no" },
          { header: "CONTENT", value: (r) => r.content, max: 100 },
        ],
        turn.tool_results,
        { color },
      )
    }`);
  }
  if (turn.decisions.length) {
    parts.push(`${bold("Policy decisions", color)}\n${
      renderTable(
        [
          { header: "POLICY", value: (d: TurnSummary["decisions"][number]) => d.policy },
          { header: "HOOK", value: (d) => d.hook },
          { header: "KIND", value: (d) => d.kind },
          { header: "REASON", value: (d) => d.reason, max: 80 },
        ],
        turn.decisions,
        { color },
      )
    }`);
  }
  return parts.join("\n\n");
}
