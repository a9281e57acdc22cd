/**
 * The second half of persisting a record (after `prepare_record.ts`), inside a transaction the caller
 * owns, so that a write batch commits many records at once: the duplicate check (a journal replay or a
 * repost writes nothing twice, recognised by the exchange id), the body claims and manifests, the turn's
 * rows (`turn_rows.ts`), the exchange row with its headers stored against a shared set, and the policy
 * decisions as events.
 * @module
 */
import type { Db, Queryable } from "../storage/db/db.ts";
import { commitBody } from "../storage/bodies/write.ts";
import { storeHeaders } from "./header_sets.ts";
import type { PersistOptions, PersistResult } from "./persist_types.ts";
import type { PreparedRecord } from "./prepare_record.ts";
import { insert } from "./sql_insert.ts";
import { writeTurnRows } from "./turn_rows.ts";

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
  const turn = await writeTurnRows(tx, prepared, {
    idleGapMs: options.idleGapMs,
    price: options.price,
    engine,
    timing: { start, end, ttfb },
  });
  const sessionId = turn?.sessionId ?? null;
  const turnId = turn?.turnId ?? null;
  const costUsd = turn?.costUsd ?? null;

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
