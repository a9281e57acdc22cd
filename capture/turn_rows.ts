/**
 * The rows of a model turn, written inside the record's transaction: the session it joins
 * (`sessions.ts`), the turn with its place in the session's hash chain, its tool calls and tool results,
 * and the session's totals (computed in SQL, `x = x + n`, so concurrent turns add up). An exchange that is
 * no model turn (no parsed request) has none of these; its own row is written by `record_rows.ts`.
 * @module
 */
import { azureDeployment, zeroUsage } from "../providers/mod.ts";
import { GENESIS_HASH, sortToolResults, turnHash } from "../storage/chain.ts";
import type { Db, Queryable, SqlValue } from "../storage/db/db.ts";
import { packText } from "../storage/packed_text.ts";
import type { PersistOptions } from "./persist_types.ts";
import type { PreparedRecord } from "./prepare_record.ts";
import { resolveSession } from "./sessions.ts";
import { insert } from "./sql_insert.ts";

function hostOf(address: string): string {
  const m = address.match(/^\[?(.*?)\]?:\d+$/);
  return m ? m[1] : address;
}

/** What writing a turn's rows decided: the session it joined, the turn's id and its price. */
export interface TurnWritten {
  sessionId: string;
  turnId: string;
  /** The turn's price in USD, `null` when unknown. */
  costUsd: number | null;
}

/** The exchange's times as its rows store them (epoch ms; `ttfb` relative to `start`). */
export interface TurnTiming {
  start: number;
  end: number;
  ttfb: number | null;
}

/**
 * Writes the rows of the model turn `prepared` holds, inside `tx`; returns `null`, writing nothing, when
 * the record is no model turn (no parsed request or no conversation facts).
 */
export async function writeTurnRows(
  tx: Queryable,
  prepared: PreparedRecord,
  options: Pick<PersistOptions, "idleGapMs" | "price"> & { engine: Db["engine"]; timing: TurnTiming },
): Promise<TurnWritten | null> {
  const { record, requestSha, responseSha, facts } = prepared;
  if (!record.parsed || !facts) return null;
  const ex = record.exchange;
  const { engine } = options;
  const { start, end, ttfb } = options.timing;
  const request = record.parsed.request;
  const response = record.parsed.response;
  const head = await resolveSession(tx, {
    engine,
    provider: ex.provider,
    owner: ex.client.developer ?? `addr:${hostOf(ex.client.address)}`,
    clientKey: facts.clientKey,
    previousResponseId: facts.previousResponseId,
    fingerprint: facts.fingerprint,
    at: start,
    idleGapMs: options.idleGapMs,
    developer: ex.client.developer,
    team: ex.client.team,
    clientAddress: ex.client.address,
  });
  const sessionId = head.id;
  const turnId = ex.id;
  const usage = response?.usage ?? zeroUsage();
  // An Azure request names a deployment (in the path, or as the body's `model` on /openai/v1): kept as
  // such, and the model is only what the response says it was.
  const deployment = ex.provider === "azure"
    ? azureDeployment(ex.request.path) ?? request?.model ?? null
    : null;
  const model = response?.model ?? (ex.provider === "azure" ? null : request?.model ?? null);
  const cost = response?.usage && options.price
    ? options.price(ex.provider, model, response.usage, start)
    : null;
  const prompt = request?.userText?.trim() ? request.userText : null;
  const turn: Record<string, SqlValue> = {
    id: turnId,
    session_id: sessionId,
    seq: head.headSeq + 1,
    exchange_id: ex.id,
    provider: ex.provider,
    api: ex.api,
    model,
    status: ex.response?.status ?? null,
    outcome: ex.outcome,
    developer: ex.client.developer,
    team: ex.client.team,
    api_key_hash: record.apiKeyHash,
    started_at: start,
    ttfb_ms: ttfb,
    duration_ms: end - start,
    input_tokens: usage.input,
    output_tokens: usage.output,
    cache_read_tokens: usage.cacheRead,
    cache_write_5m_tokens: usage.cacheWrite5m,
    cache_write_1h_tokens: usage.cacheWrite1h,
    reasoning_tokens: usage.reasoning,
    usage_estimated: usage.estimated,
    cost_usd: cost,
    stop_reason: response?.stopReason ?? null,
    response_id: response?.id ?? null,
    prompt,
    response_text: response?.text ?? null,
    thinking_text: response?.thinking || null,
    provider_reported_cost_usd: response?.providerCostUsd ?? null,
    deployment,
    request_sha256: requestSha,
    response_sha256: responseSha,
    prev_hash: head.headHash ?? GENESIS_HASH,
  };
  const toolCalls = (response?.toolCalls ?? []).map((c, idx) => ({
    id: `${turnId}:${idx}`,
    turn_id: turnId,
    session_id: sessionId,
    idx,
    call_id: c.id,
    name: c.name,
    arguments: c.arguments,
    server: c.server,
  }));
  const toolResults: Record<string, SqlValue>[] = [];
  for (const [i, r] of (request?.toolResults ?? []).entries()) {
    const call = await tx.query<{ id: string }>(
      "SELECT id FROM tool_calls WHERE session_id = $1 AND call_id = $2 ORDER BY id DESC LIMIT 1",
      [sessionId, r.callId],
    );
    toolResults.push({
      id: `${turnId}:r${i}`,
      turn_id: turnId,
      session_id: sessionId,
      call_id: r.callId,
      tool_call_id: call[0]?.id ?? null,
      // A text that is a segment of this request is named, not copied (storage/tool_result_text.ts reads it).
      content: prepared.toolResultSegments[i] ? "" : r.content,
      is_error: r.isError,
      content_sha256: prepared.toolResultSegments[i]?.sha256 ?? null,
      content_from: prepared.toolResultSegments[i]?.from ?? null,
      content_to: prepared.toolResultSegments[i]?.to ?? null,
    });
  }
  const sortedResults = sortToolResults(toolResults);
  const hash = turnHash(turn, toolCalls, sortedResults);
  await insert(tx, "turns", { ...turn, hash });
  for (const c of toolCalls) await insert(tx, "tool_calls", c);
  // Hashed above over the plain text; stored deflated when long (storage/packed_text.ts).
  for (const r of sortedResults) {
    const { plain, deflated } = packText(String(r.content));
    await insert(tx, "tool_results", { ...r, content: plain, content_deflated: deflated });
  }
  const greatest = engine === "postgres" ? "GREATEST" : "MAX";
  const least = engine === "postgres" ? "LEAST" : "MIN";
  await tx.run(
    `UPDATE sessions SET
       turn_count = turn_count + 1,
       input_tokens = input_tokens + $2,
       output_tokens = output_tokens + $3,
       cache_read_tokens = cache_read_tokens + $4,
       cache_write_tokens = cache_write_tokens + $5,
       reasoning_tokens = reasoning_tokens + $6,
       cost_usd = cost_usd + $7,
       head_seq = $8, head_hash = $9, head_turn_id = $10,
       last_activity_at = ${greatest}(last_activity_at, $11),
       started_at = ${least}(started_at, $12),
       model = COALESCE($13, model),
       intent = COALESCE(intent, $14),
       repo = COALESCE(repo, $15),
       branch = COALESCE(branch, $16)
     WHERE id = $1`,
    [
      sessionId,
      usage.input,
      usage.output,
      usage.cacheRead,
      usage.cacheWrite5m + usage.cacheWrite1h,
      usage.reasoning,
      cost ?? 0,
      head.headSeq + 1,
      hash,
      turnId,
      end,
      start,
      model,
      prompt,
      facts.repo,
      facts.branch,
    ],
  );
  return { sessionId, turnId, costUsd: cost };
}
