/**
 * Captured exchanges read back for `recondo policies simulate`: the request as it was sent (head from the
 * `exchanges` row, body from the object store, reassembled from its segments when it was split) with the turn's usage and cost, oldest first, in pages so a
 * week of traffic never sits in memory at once.
 * @module
 */
import { mergeHeaders } from "../header_sets.ts";
import type { ProviderName } from "../../core/exchange.ts";
import type { RecordedExchange } from "../../policies/versions/simulate.ts";
import type { Db, Row } from "../db/db.ts";
import { readBody } from "../bodies/read.ts";
import type { ObjectStore } from "../objects/store.ts";

const PAGE = 200;

/** HTTP exchanges that started in `[since, until)`, oldest first. */
export async function* capturedExchanges(
  db: Db,
  objects: ObjectStore | null,
  range: { since: number; until?: number },
): AsyncGenerator<RecordedExchange> {
  let after: [number, string] = [range.since - 1, "\uffff"];
  const until = range.until ?? Number.MAX_SAFE_INTEGER;
  while (true) {
    const rows = await db.query(
      `SELECT e.id, e.started_at, e.host, e.method, e.path, e.request_headers, h.headers AS request_headers_set,
              e.developer, e.team,
              e.provider, e.api, e.status, e.request_sha256, e.request_bytes,
              t.model, t.input_tokens, t.output_tokens, t.cache_read_tokens, t.cache_write_5m_tokens,
              t.cache_write_1h_tokens, t.reasoning_tokens, t.usage_estimated, t.cost_usd, t.id AS turn_id
       FROM exchanges e LEFT JOIN turns t ON t.exchange_id = e.id
       LEFT JOIN header_sets h ON h.id = e.request_headers_base
       WHERE e.kind = 'http' AND (e.started_at > $1 OR (e.started_at = $1 AND e.id > $2)) AND e.started_at < $3
       ORDER BY e.started_at, e.id LIMIT ${PAGE}`,
      [after[0], after[1], until],
    );
    for (const row of rows) yield await recorded(db, row, objects);
    if (rows.length < PAGE) return;
    const last = rows[rows.length - 1];
    after = [Number(last.started_at), String(last.id)];
  }
}

async function recorded(db: Db, row: Row, objects: ObjectStore | null): Promise<RecordedExchange> {
  const sha = row.request_sha256 ? String(row.request_sha256) : null;
  const body = sha && objects && Number(row.request_bytes) > 0 ? await readBody(db, objects, sha) : null;
  const hasTurn = row.turn_id !== null && row.turn_id !== undefined;
  return {
    id: String(row.id),
    startedAt: Number(row.started_at),
    host: String(row.host),
    method: String(row.method),
    path: String(row.path),
    headers: mergeHeaders(row.request_headers, row.request_headers_set),
    developer: row.developer === null ? null : String(row.developer),
    team: row.team === null ? null : String(row.team),
    provider: String(row.provider) as ProviderName,
    api: row.api === null ? null : String(row.api),
    body,
    status: row.status === null ? null : Number(row.status),
    model: hasTurn && row.model !== null ? String(row.model) : null,
    usage: hasTurn
      ? {
        input: Number(row.input_tokens),
        output: Number(row.output_tokens),
        cacheRead: Number(row.cache_read_tokens),
        cacheWrite5m: Number(row.cache_write_5m_tokens),
        cacheWrite1h: Number(row.cache_write_1h_tokens),
        reasoning: Number(row.reasoning_tokens),
        estimated: Boolean(Number(row.usage_estimated)),
      }
      : null,
    costUsd: hasTurn && row.cost_usd !== null ? Number(row.cost_usd) : null,
  };
}
