/**
 * Writes one capture record into the stores: bodies into the object store first (so no row ever points
 * at a missing object; a chat request body as its new segments and a manifest, `storage/bodies/`), then,
 * in one database transaction, the body claims and manifest, the exchange row, and for model turns the
 * session, the turn with its chain link, its tool calls and tool results, the session totals (computed in
 * SQL, `x = x + n`, so concurrent turns add up) and the policy decisions as events. Writing the same
 * record twice (a journal replay) is recognised by the exchange id and changes nothing.
 *
 * This is the one-record path (a retry, tests, tools); the pipeline's write batch runs the same two
 * halves itself, `prepare_record.ts` for each record and `record_rows.ts` for all of them in one
 * transaction. What goes in and comes out is in `persist_types.ts`.
 * @module
 */
import type { Db } from "../storage/db/db.ts";
import type { ObjectStore } from "../storage/objects/store.ts";
import type { PersistOptions, PersistResult } from "./persist_types.ts";
import { prepareRecord } from "./prepare_record.ts";
import type { CaptureRecord } from "./record.ts";
import { writePrepared } from "./record_rows.ts";

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
