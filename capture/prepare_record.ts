/**
 * The first half of persisting a record, done outside any transaction: parse the request if no policy
 * did, store both bodies in the object store (so no row ever points at a missing object), and derive the
 * conversation facts and where each tool result's text lies. What it returns is everything the second
 * half (`record_rows.ts`) needs to write the rows inside a transaction, which several records may share.
 * @module
 */
import type { ApiName } from "../providers/types.ts";
import { detectApi, parseRequest } from "../providers/mod.ts";
import type { Db } from "../storage/db/db.ts";
import { prepareBody, type PreparedBody } from "../storage/bodies/write.ts";
import type { ObjectStore } from "../storage/objects/store.ts";
import { type BodyPlan, planBodies } from "./body_plan.ts";
import { type ConversationFacts, conversationFacts, requestJson } from "./conversation.ts";
import type { CaptureRecord } from "./record.ts";
import { type TextInSegment, toolResultSegments } from "./tool_result_segments.ts";

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
