/**
 * The capture pipeline behind `CaptureSink`. The proxy's calls only copy references; at `end()` the
 * exchange becomes a credential-free record that is appended to the journal (group commit) and queued
 * for the store writer. The queue is bounded by bytes: past the bound a record keeps only its journal id
 * and is read back from disk when its turn comes (spill), so a slow database costs disk, not memory.
 * One writer persists batches (what queued up meanwhile, one transaction each) and retries failures one
 * record at a time; a record that still fails stays in the journal and is replayed on the next start. In `strict` durability `end()` resolves once the record is fsync'd in the journal.
 *
 * This module wires the stages and owns the entry points (`begin`, `acceptRecord`, `acceptEnded`,
 * `replay`); the stages are `exchange_tap.ts` (collecting an exchange), `write_queue.ts` (the bounded
 * queue and commit order), `batch_writer.ts` (persisting a batch) and `pipeline_stats.ts` (the counters).
 * @module
 */
import type { Exchange } from "../core/exchange.ts";
import { log } from "../core/log.ts";
import type { Db } from "../storage/db/db.ts";
import type { ObjectStore } from "../storage/objects/store.ts";
import { createBatchWriter } from "./batch_writer.ts";
import { MAX_CAPTURED_BODY_BYTES } from "./body_collector.ts";
import { type Bodies, tapExchange } from "./exchange_tap.ts";
import type { Journal } from "./journal.ts";
import type { PriceFn, WrittenRecord } from "./persist_types.ts";
import type { PipelineCounters, PipelineStats } from "./pipeline_stats.ts";
import {
  buildRecord,
  type CaptureRecord,
  decodeRecord,
  encodeRecord,
  type EndedExchange,
  recordOfEnded,
} from "./record.ts";
import type { CaptureParsed, CaptureSink, ExchangeTap } from "./sink.ts";
import { createWriteQueue, type Queued } from "./write_queue.ts";

/** Options of `createPipeline`. */
export interface PipelineOptions {
  journal: Journal;
  db: Db;
  objects: ObjectStore;
  hmacKey: Uint8Array;
  durability: "batched" | "strict";
  idleGapMs: number;
  price?: PriceFn;
  /** Bytes of records held in memory awaiting the writer before new ones spill (default 64 MiB). */
  maxQueuedBytes?: number;
  /** Largest body captured per direction; longer bodies are cut and the cut recorded (default 64 MiB). */
  maxBodyBytes?: number;
  /**
   * Most records written per database transaction (default 64). The writer takes whatever queued up while
   * the previous batch was written, so an idle gateway commits one record at a time and a busy one
   * shares commits; bodies of a batch are stored concurrently.
   */
  maxBatch?: number;
  /** Attempts per record before it is left in the journal for the next start (default 5). */
  attempts?: number;
  retryBaseMs?: number;
  /**
   * Called once per record written (not for duplicates), after its transaction committed: OpenTelemetry
   * export (`capture/otel/`) hangs here. Must not block; a throw is logged and capture goes on.
   */
  onWritten?: (written: WrittenRecord) => void;
}

/** A running pipeline. */
export interface Pipeline {
  sink: CaptureSink;
  stats(): PipelineStats;
  /** Persists entries left in the journal by an earlier run; returns how many. */
  replay(): Promise<number>;
  /**
   * Takes a record built and encoded elsewhere (`encodeRecord`: one the proxy's thread spilled to its own
   * journal while the worker lagged) as `end()` takes an exchange; resolves once it is in this journal.
   */
  acceptRecord(payload: Uint8Array): Promise<void>;
  /**
   * Takes an exchange that ended on another thread (`EndMessage`: the capture worker's copy, bodies
   * whole) as `end()` takes a live one, minus what a live one needs: no body collection and no clone, the
   * message being this thread's own. Resolves once it is in the journal.
   */
  acceptEnded(ended: EndedExchange): Promise<void>;
  /** Resolves once everything accepted so far is persisted or given up on. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Builds the pipeline; `replay()` should run before traffic starts. */
export function createPipeline(options: PipelineOptions): Pipeline {
  const maxQueuedBytes = options.maxQueuedBytes ?? 64 * 1024 * 1024;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_CAPTURED_BODY_BYTES;
  const maxBatch = options.maxBatch ?? 64;
  const persistOptions = { idleGapMs: options.idleGapMs, price: options.price };
  const attempts = options.attempts ?? 5;
  const retryBaseMs = options.retryBaseMs ?? 100;
  const { journal } = options;
  const counters: PipelineCounters = {
    writing: 0,
    queuedBytes: 0,
    spilled: 0,
    spilledTotal: 0,
    written: 0,
    duplicates: 0,
    failed: 0,
    inFlight: 0,
    spendUsd: {},
  };
  let closed = false;
  const persistBatch = createBatchWriter({
    journal,
    db: options.db,
    objects: options.objects,
    persistOptions,
    attempts,
    retryBaseMs,
    onWritten: options.onWritten,
    counters,
  });
  const queue = createWriteQueue({ maxQueuedBytes, maxBatch, counters, persistBatch });
  const { enqueue, ticket, drain } = queue;
  const tap = {
    maxBodyBytes,
    durability: options.durability,
    counters,
    closed: () => closed,
    queue,
    accept,
  };

  function accept(exchange: Exchange, parsed: CaptureParsed | null, bodies: Bodies): Promise<void> {
    const record = buildRecord(exchange, parsed, {
      request: bodies.request(),
      response: bodies.response(),
    }, options.hmacKey);
    const payload = encodeRecord(record);
    const { id, durable } = journal.append(payload);
    enqueue(id, record, payload.length);
    return durable;
  }

  function acceptRecord(payload: Uint8Array): Promise<void> {
    if (closed) return Promise.reject(new Error("Cannot accept a capture record after close"));
    return journaled(decodeRecord(payload), payload);
  }

  function acceptEnded(ended: EndedExchange): Promise<void> {
    if (closed) return Promise.reject(new Error("Cannot accept an exchange after close"));
    const record = recordOfEnded(ended, options.hmacKey, { owned: true });
    return journaled(record, encodeRecord(record));
  }

  /** Appends `payload` (the encoded `record`) to the journal and queues the record for the writer. */
  function journaled(record: CaptureRecord, payload: Uint8Array): Promise<void> {
    const { id, durable } = journal.append(payload);
    enqueue(id, record, payload.length);
    durable.catch((error) => {
      counters.failed++;
      log.error("capture.journal_failed", { exchangeId: record.exchange.id, error });
    });
    return durable;
  }

  function begin(exchange: Exchange): ExchangeTap {
    return tapExchange(exchange, tap);
  }

  return {
    sink: {
      begin,
      close: async () => {
        closed = true;
        await drain();
      },
    },
    stats: () => ({
      // The batch being written counts: until it commits, those records exist only in memory and journal.
      queued: queue.length + counters.writing,
      queuedBytes: counters.queuedBytes,
      spilled: counters.spilled,
      spilledTotal: counters.spilledTotal,
      written: counters.written,
      duplicates: counters.duplicates,
      failed: counters.failed,
      inFlight: counters.inFlight,
      spendUsd: { ...counters.spendUsd },
      journal: journal.stats(),
    }),
    async replay() {
      let count = 0;
      let batch: Queued[] = [];
      const flush = async () => {
        const { after, done } = ticket();
        try {
          await after;
          await persistBatch(batch, true);
        } finally {
          done();
        }
        batch = [];
      };
      for await (const entry of journal.replay()) {
        let record: CaptureRecord;
        try {
          record = decodeRecord(entry.payload);
        } catch (error) {
          log.error("capture.replay_undecodable", { entry: entry.id, error });
          journal.markApplied(entry.id);
          continue;
        }
        batch.push({ id: entry.id, record, bytes: entry.payload.length });
        count++;
        if (batch.length >= maxBatch) await flush();
      }
      if (batch.length) await flush();
      if (count) log.info("capture.replayed", { records: count });
      return count;
    },
    acceptRecord,
    acceptEnded,
    drain,
    async close() {
      closed = true;
      await drain();
    },
  };
}
