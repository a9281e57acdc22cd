/**
 * Writes one capture record into the stores: bodies into the object store first (so no row ever points
 * at a missing object; a chat request body as its new segments and a manifest, `storage/bodies/`), then,
 * in one database transaction, the body claims and manifest, the exchange row, and for model turns the
 * session, the turn with its chain link, its tool calls and tool results, the session totals (computed in
 * SQL, `x = x + n`, so concurrent turns add up) and the policy decisions as events. Writing the same
 * record twice (a journal replay) is recognised by the exchange id and changes nothing.
 * @module
 */
import type { ProviderName } from "../core/exchange.ts";
import { azureDeployment, detectApi, parseRequest } from "../providers/mod.ts";
import type { ApiName, Usage } from "../providers/types.ts";
import { GENESIS_HASH, sortToolResults, turnHash } from "../storage/chain.ts";
import { packText } from "../storage/packed_text.ts";
import type { Db, Queryable, SqlValue } from "../storage/db/db.ts";
import { MAX_PACKED_BODY_BYTES, type SmallBody } from "../storage/bodies/batch_pack.ts";
import { commitBody, prepareBody, type PreparedBody, type SegmentSpan } from "../storage/bodies/write.ts";
import { sha256Hex } from "../storage/objects/content.ts";
import type { ObjectMeta, ObjectStore } from "../storage/objects/store.ts";
import { type ConversationFacts, conversationFacts, requestJson } from "./conversation.ts";
import type { CaptureRecord } from "./record.ts";
import { splitBody } from "./segments/split.ts";
import { type TextInSegment, toolResultSegments } from "./tool_result_segments.ts";
import { resolveSession } from "./sessions.ts";
import { storeHeaders } from "./header_sets.ts";

/** Prices a turn in USD as billed at `at` (epoch ms), or `null` when the model's price is unknown. */
export type PriceFn = (
  provider: ProviderName,
  model: string | null,
  usage: Usage,
  at: number,
) => number | null;

/** Options of `persistRecord`. */
export interface PersistOptions {
  /** Quiet time after which a conversation without a client session id starts a new session. */
  idleGapMs: number;
  price?: PriceFn;
  /** Store chat request bodies as segments (default true); `false` stores every body whole, as before. */
  segment?: boolean;
}

/** A record that was written, with what persisting learned about it (for export, `capture/otel/`). */
export interface WrittenRecord {
  status: "written";
  exchangeId: string;
  sessionId: string | null;
  turnId: string | null;
  /** The record as written: its request parsed here when no policy parsed it. */
  record: CaptureRecord;
  /** The turn's price in USD, `null` when unknown or not a model turn. */
  costUsd: number | null;
  /** The repository the conversation names, if any. */
  repo: string | null;
}

/** What happened to a record. */
export type PersistResult = WrittenRecord | { status: "duplicate"; exchangeId: string };

const ZERO_USAGE: Usage = {
  input: 0,
  cacheRead: 0,
  cacheWrite5m: 0,
  cacheWrite1h: 0,
  output: 0,
  reasoning: 0,
  estimated: false,
};

function insertSql(table: string, row: Record<string, SqlValue>): [string, SqlValue[]] {
  const columns = Object.keys(row);
  const marks = columns.map((_, i) => `$${i + 1}`);
  return [`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${marks.join(", ")})`, Object.values(row)];
}

async function insert(tx: Queryable, table: string, row: Record<string, SqlValue>): Promise<void> {
  const [sql, params] = insertSql(table, row);
  await tx.run(sql, params);
}

function hostOf(address: string): string {
  const m = address.match(/^\[?(.*?)\]?:\d+$/);
  return m ? m[1] : address;
}

/**
 * The proxy parses a request body only when a policy read it whole; otherwise the request is parsed here,
 * behind the traffic, so prompts, tool results and session hints are captured with any policy chain.
 */
function withParsedRequest(record: CaptureRecord, json: unknown): CaptureRecord {
  const { parsed, exchange } = record;
  if (!parsed || parsed.request || exchange.kind !== "http" || !exchange.api) return record;
  const body = json ?? record.requestBody;
  const request = parseRequest(exchange.api as ApiName, body, exchange.request.headers);
  // Gemini and Vertex AI name the model in the URL, not the body: a turn whose answer failed keeps it.
  const match = detectApi(exchange.target.host, exchange.request.method, exchange.request.path);
  request.model ??= match?.pathModel ?? null;
  return { ...record, parsed: { ...parsed, request } };
}

/** A record whose bodies are in the object store, ready for its rows to be written. */
export interface PreparedRecord {
  record: CaptureRecord;
  requestSha: string;
  responseSha: string;
  /** How each body was stored; `writePrepared` commits their rows and claims. */
  bodies: { request: PreparedBody; response: PreparedBody };
  facts: ConversationFacts | null;
  /** Per parsed tool result, the request segment holding its text (`tool_result_segments.ts`) or `null`. */
  toolResultSegments: (TextInSegment | null)[];
}

/** How one body of a record is to be stored: hashed, and cut into segments or `null` (stored whole). */
export interface BodyPlan {
  bytes: Uint8Array;
  sha256: string;
  spans: readonly SegmentSpan[] | null;
  meta: ObjectMeta;
}

/** Hashes both bodies of `record` and finds the request's segments (none when `segment` is false). */
export function planBodies(
  record: CaptureRecord,
  segment = true,
): { request: BodyPlan; response: BodyPlan } {
  const ex = record.exchange;
  const ws = ex.kind === "websocket";
  const { requestBody, responseBody } = record;
  return {
    request: {
      bytes: requestBody,
      sha256: sha256Hex(requestBody),
      spans: ws || !segment ? null : splitBody(requestBody),
      meta: {
        kind: ws ? "ws-client" : "request",
        size: requestBody.length,
        contentType: ex.request.headers["content-type"],
      },
    },
    response: {
      bytes: responseBody,
      sha256: sha256Hex(responseBody),
      spans: null,
      meta: {
        kind: ws ? "ws-server" : "response",
        size: responseBody.length,
        contentType: ex.response?.headers["content-type"],
      },
    },
  };
}

/** The bodies of `plan` small enough, and not segmented, to share their batch's pack (`batch_pack.ts`). */
export function smallBodies(plan: { request: BodyPlan; response: BodyPlan }): SmallBody[] {
  return [plan.request, plan.response].filter((p) =>
    !p.spans?.length && p.bytes.length <= MAX_PACKED_BODY_BYTES
  );
}

/**
 * First half of persisting: parses the request if no policy did, stores both bodies (hash, gzip, write)
 * and derives the conversation facts. Returns `null` when the exchange is already in the database (looked
 * up unless `lookUp` is false: a fresh exchange cannot be there, and `writePrepared` checks again). The
 * write batch passes its `plan` and the small bodies it `packed` already (`batch_pack.ts`); a record
 * persisted alone (a retry) stores each body as its own object, as before packs.
 */
export async function prepareRecord(
  db: Db,
  objects: ObjectStore,
  input: CaptureRecord,
  options: {
    lookUp?: boolean;
    segment?: boolean;
    plan?: { request: BodyPlan; response: BodyPlan };
    packed?: Map<string, PreparedBody>;
  } = {},
): Promise<PreparedRecord | null> {
  // Decoded once for the request parser and the conversation facts.
  const json = input.parsed ? requestJson(input) : null;
  const record = withParsedRequest(input, json);
  const ex = record.exchange;
  if (options.lookUp ?? true) {
    const known = await db.query("SELECT 1 AS x FROM exchanges WHERE id = $1", [ex.id]);
    if (known.length) return null;
  }
  const plan = options.plan ?? planBodies(record, options.segment);
  const store = (p: BodyPlan) =>
    options.packed?.get(p.sha256) ??
      prepareBody(db, objects, p.bytes, p.spans, { ...p.meta, sha256: p.sha256 });
  const [request, response] = await Promise.all([store(plan.request), store(plan.response)]);
  const results = record.parsed?.request?.toolResults ?? [];
  return {
    record,
    requestSha: request.sha256,
    responseSha: response.sha256,
    bodies: { request, response },
    facts: record.parsed ? conversationFacts(record, json) : null,
    // Only a body stored as segments now has them all claimed in this record's transaction.
    toolResultSegments: request.kind === "segmented" && plan.request.spans?.length && results.length
      ? toolResultSegments(plan.request.bytes, plan.request.spans, results.map((r) => r.content))
      : [],
  };
}

/**
 * The exchanges among `ids` already written, looked up inside the transaction `tx` in one statement per
 * 500: a write batch asks once for all its records instead of once per record in `writePrepared`.
 */
export async function writtenExchanges(tx: Queryable, ids: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const slice = ids.slice(i, i + 500);
    const rows = await tx.query<{ id: string }>(
      `SELECT id FROM exchanges WHERE id IN (${slice.map((_, j) => `$${j + 1}`).join(", ")})`,
      slice,
    );
    for (const row of rows) found.add(String(row.id));
  }
  return found;
}

/**
 * Second half: writes the rows of a prepared record inside the caller's transaction `tx`, so that
 * several records can share one commit. Sees an exchange written meanwhile as a duplicate: looked up here
 * unless the caller did so in `tx` already (`checked`, with `writtenExchanges`).
 */
export async function writePrepared(
  tx: Queryable,
  engine: Db["engine"],
  prepared: PreparedRecord,
  options: Pick<PersistOptions, "idleGapMs" | "price"> & { checked?: "fresh" | "duplicate" },
): Promise<PersistResult> {
  const { record, requestSha, responseSha, facts } = prepared;
  const ex = record.exchange;
  const duplicate = options.checked
    ? options.checked === "duplicate"
    : (await tx.query("SELECT 1 AS x FROM exchanges WHERE id = $1", [ex.id])).length > 0;
  if (duplicate) return { status: "duplicate" as const, exchangeId: ex.id };
  await commitBody(tx, engine, prepared.bodies.request, record.capturedAt);
  await commitBody(tx, engine, prepared.bodies.response, record.capturedAt);
  const start = ex.timing.start;
  const end = ex.timing.end ?? record.capturedAt;
  const ttfb = ex.timing.firstByte === null ? null : ex.timing.firstByte - start;
  let sessionId: string | null = null;
  let turnId: string | null = null;
  let costUsd: number | null = null;

  if (record.parsed && facts) {
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
    sessionId = head.id;
    turnId = ex.id;
    const usage = response?.usage ?? ZERO_USAGE;
    // An Azure request names a deployment (in the path, or as the body's `model` on /openai/v1): kept as
    // such, and the model is only what the response says it was.
    const deployment = ex.provider === "azure"
      ? azureDeployment(ex.request.path) ?? request?.model ?? null
      : null;
    const model = response?.model ?? (ex.provider === "azure" ? null : request?.model ?? null);
    const cost = response?.usage && options.price
      ? options.price(ex.provider, model, response.usage, start)
      : null;
    costUsd = cost;
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
  }

  // Stored against a set of headers kept once (capture/header_sets.ts), so a session repeats only what changed.
  const requestHeaders = await storeHeaders(tx, ex.request.headers, {
    kind: "request",
    host: ex.target.host,
  });
  const responseHeaders = ex.response
    ? await storeHeaders(tx, ex.response.headers, { kind: "response", host: ex.target.host })
    : null;
  await insert(tx, "exchanges", {
    id: ex.id,
    connection_id: ex.connectionId,
    kind: ex.kind,
    provider: ex.provider,
    api: ex.api,
    method: ex.request.method,
    host: ex.target.host,
    path: ex.request.path,
    status: ex.response?.status ?? null,
    outcome: ex.outcome,
    developer: ex.client.developer,
    team: ex.client.team,
    client_address: ex.client.address,
    client_via: ex.client.via,
    api_key_hash: record.apiKeyHash,
    started_at: start,
    ttfb_ms: ttfb,
    duration_ms: end - start,
    request_sha256: requestSha,
    request_bytes: record.requestBody.length,
    response_sha256: responseSha,
    response_bytes: record.responseBody.length,
    request_headers: requestHeaders.json,
    request_headers_base: requestHeaders.base,
    response_headers: responseHeaders?.json ?? null,
    response_headers_base: responseHeaders?.base ?? null,
    errors: JSON.stringify(ex.errors),
    session_id: sessionId,
    turn_id: turnId,
    captured_at: record.capturedAt,
  });
  for (const [i, d] of ex.decisions.entries()) {
    await insert(tx, "events", {
      id: `${ex.id}:d${i}`,
      exchange_id: ex.id,
      session_id: sessionId,
      turn_id: turnId,
      kind: "decision",
      policy: d.policy,
      hook: d.hook,
      decision: d.kind,
      enforced: d.enforced,
      reason: d.reason,
      detail: d.detail ? JSON.stringify(d.detail) : null,
      at: d.at,
    });
  }
  return {
    status: "written" as const,
    exchangeId: ex.id,
    sessionId,
    turnId,
    record,
    costUsd,
    repo: facts?.repo ?? null,
  };
}

/** Persists `record` in its own transaction; see the module doc. */
export async function persistRecord(
  db: Db,
  objects: ObjectStore,
  input: CaptureRecord,
  options: PersistOptions,
): Promise<PersistResult> {
  const prepared = await prepareRecord(db, objects, input, { segment: options.segment });
  if (!prepared) return { status: "duplicate", exchangeId: input.exchange.id };
  return await db.transaction((tx) => writePrepared(tx, db.engine, prepared, options));
}
