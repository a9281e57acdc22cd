/**
 * The pipeline's batch writer: persists what the write queue hands it (`write_queue.ts`), a batch at a
 * time, and settles each record (counted, marked applied in the journal, handed to `onWritten`). A record
 * that fails alone is retried with backoff, then left in the journal for the next start's replay.
 * @module
 */
import { log } from "../core/log.ts";
import { storeSmallBodies } from "../storage/bodies/batch_pack.ts";
import type { PreparedBody } from "../storage/bodies/write.ts";
import type { Db } from "../storage/db/db.ts";
import type { ObjectStore } from "../storage/objects/store.ts";
import { planBodies, smallBodies } from "./body_plan.ts";
import type { Journal } from "./journal.ts";
import { persistRecord } from "./persist.ts";
import type { PersistResult, PriceFn, WrittenRecord } from "./persist_types.ts";
import type { PipelineCounters } from "./pipeline_stats.ts";
import { type PreparedRecord, prepareRecord } from "./prepare_record.ts";
import { type CaptureRecord, decodeRecord } from "./record.ts";
import { writePrepared, writtenExchanges } from "./record_rows.ts";
import type { Queued } from "./write_queue.ts";

/** Options of `createBatchWriter`: the pipeline's stores, retry policy and counters. */
export interface BatchWriterOptions {
  journal: Journal;
  db: Db;
  objects: ObjectStore;
  persistOptions: { idleGapMs: number; price?: PriceFn };
  /** Attempts per record before it is left in the journal for the next start. */
  attempts: number;
  retryBaseMs: number;
  /** See `PipelineOptions.onWritten`. */
  onWritten?: (written: WrittenRecord) => void;
  counters: PipelineCounters;
}

/** Returns the function that persists one batch; `replayed` for records read back by a journal replay. */
export function createBatchWriter(
  options: BatchWriterOptions,
): (items: Queued[], replayed: boolean) => Promise<void> {
  const { journal, persistOptions, attempts, retryBaseMs, counters } = options;

  async function persistAttempts(id: number, record: CaptureRecord): Promise<void> {
    for (let attempt = 1;; attempt++) {
      try {
        const result = await persistRecord(options.db, options.objects, record, persistOptions);
        settled(id, result);
        return;
      } catch (error) {
        if (attempt >= attempts) {
          counters.failed++;
          log.error("capture.persist_failed", { exchangeId: record.exchange.id, attempts, error });
          return;
        }
        log.warn("capture.persist_retry", { exchangeId: record.exchange.id, attempt, error });
        await new Promise((r) => setTimeout(r, retryBaseMs * 2 ** (attempt - 1)));
      }
    }
  }

  /**
   * Persists what queued up while the previous batch was written: records read back if spilled, bodies
   * stored concurrently, then every record's rows in one transaction, without a savepoint per record: a
   * failure rolls the batch back and each of its records is retried in a transaction of its own. Failures
   * are rare (a claim lost to retention), and savepoints are not cheap: on PostgreSQL two round trips per
   * record, on SQLite two more statements per record that also cost the FTS5 search index (migration
   * 022) its batching (see BENCHMARKS.md "Capture").
   * Only replayed records can already be in the database, so only they are looked up before their bodies
   * are stored (the transaction checks every record again). Small bodies of the whole batch share one pack.
   */
  async function persistBatch(items: Queued[], replayed: boolean): Promise<void> {
    const loaded = await Promise.all(items.map(async (item) => {
      try {
        return { id: item.id, record: item.record ?? decodeRecord(await journal.read(item.id)) };
      } catch (error) {
        counters.failed++;
        log.error("capture.spill_read_failed", { entry: item.id, error });
        return null;
      }
    }));
    let records = loaded.filter((r) => r !== null);
    if (replayed) records = await withoutDuplicates(records);
    const retry: { id: number; record: CaptureRecord }[] = [];
    const prepared: { id: number; record: CaptureRecord; ready: PreparedRecord }[] = [];
    // The batch's small bodies go into one pack: one object write for the batch, not two per record.
    const plans = records.map(({ record }) => planBodies(record));
    let packed: Map<string, PreparedBody>;
    try {
      packed = await storeSmallBodies(options.db, options.objects, plans.flatMap(smallBodies), Date.now());
    } catch (error) {
      log.warn("capture.pack_failed", { records: records.length, error });
      for (const r of records) await persistAttempts(r.id, r.record);
      return;
    }
    await Promise.all(records.map(async ({ id, record }, i) => {
      try {
        const ready = await prepareRecord(options.db, options.objects, record, {
          lookUp: false,
          plan: plans[i],
          packed,
        });
        if (ready) prepared.push({ id, record, ready });
        else settled(id, { status: "duplicate", exchangeId: record.exchange.id });
      } catch (error) {
        log.warn("capture.prepare_failed", { exchangeId: record.exchange.id, error });
        retry.push({ id, record });
      }
    }));
    // Rows in arrival order: sequence numbers and tool-result links follow the order turns ended.
    prepared.sort((a, b) => a.id - b.id);
    if (prepared.length) {
      try {
        const outcomes = await options.db.transaction(async (tx) => {
          // Which records are in already (a replay, a repost to a new worker), asked once for the batch. A
          // second copy within the batch writes nothing: its exchange row exists by then.
          const ids = prepared.map((p) => p.record.exchange.id);
          const written = await writtenExchanges(tx, ids);
          const out: PersistResult[] = [];
          for (const p of prepared) {
            const id = p.record.exchange.id;
            const checked = written.has(id) ? "duplicate" : "fresh";
            written.add(id);
            out.push(await writePrepared(tx, options.db.engine, p.ready, { ...persistOptions, checked }));
          }
          return out;
        });
        for (const [i, result] of outcomes.entries()) settled(prepared[i].id, result);
      } catch (error) {
        log.warn("capture.batch_failed", { records: prepared.length, error });
        retry.push(...prepared);
      }
    }
    retry.sort((a, b) => a.id - b.id);
    for (const { id, record } of retry) await persistAttempts(id, record);
  }

  /** Settles replayed records already in the database (written before a crash cut compaction short). */
  async function withoutDuplicates<T extends { id: number; record: CaptureRecord }>(
    records: T[],
  ): Promise<T[]> {
    const fresh: T[] = [];
    for (const r of records) {
      const id = r.record.exchange.id;
      const known = await options.db.query("SELECT 1 AS x FROM exchanges WHERE id = $1", [id]);
      if (known.length) settled(r.id, { status: "duplicate", exchangeId: id });
      else fresh.push(r);
    }
    return fresh;
  }

  function settled(id: number, result: PersistResult): void {
    if (result.status === "duplicate") counters.duplicates++;
    else counters.written++;
    journal.markApplied(id);
    if (result.status !== "written") return;
    if (result.costUsd) {
      const team = result.record.exchange.client.team ?? "";
      counters.spendUsd[team] = (counters.spendUsd[team] ?? 0) + result.costUsd;
    }
    if (!options.onWritten) return;
    try {
      options.onWritten(result);
    } catch (error) {
      log.error("capture.on_written_failed", { exchangeId: result.exchangeId, error });
    }
  }

  return persistBatch;
}
