/**
 * The capture pipeline behind `CaptureSink`. The proxy's calls only copy references; at `end()` the
 * exchange becomes a credential-free record that is appended to the journal (group commit) and queued
 * for the store writer. The queue is bounded by bytes: past the bound a record keeps only its journal id
 * and is read back from disk when its turn comes (spill), so a slow database costs disk, not memory.
 * One writer persists batches (what queued up meanwhile, one transaction each) and retries failures one
 * record at a time; a record that still fails stays in the journal and is replayed on the next start. In `strict` durability `end()` resolves once the record is fsync'd in the journal.
 * @module
 */
import type { Exchange, WsMessage } from "../core/exchange.ts";
import { log } from "../core/log.ts";
import { storeSmallBodies } from "../storage/bodies/batch_pack.ts";
import type { PreparedBody } from "../storage/bodies/write.ts";
import type { Db } from "../storage/db/db.ts";
import type { ObjectStore } from "../storage/objects/store.ts";
import { BodyCollector, MAX_CAPTURED_BODY_BYTES } from "./body_collector.ts";
import type { Journal, JournalStats } from "./journal.ts";
import { planBodies, smallBodies } from "./body_plan.ts";
import { persistRecord } from "./persist.ts";
import type { PersistResult, PriceFn, WrittenRecord } from "./persist_types.ts";
import { type PreparedRecord, prepareRecord } from "./prepare_record.ts";
import { writePrepared, writtenExchanges } from "./record_rows.ts";
import type { OtelStats } from "./otel/export.ts";
import {
  buildRecord,
  type CaptureRecord,
  decodeRecord,
  encodeRecord,
  type EndedExchange,
  recordOfEnded,
  wsTranscript,
} from "./record.ts";
import type { CaptureParsed, CaptureSink, ExchangeTap } from "./sink.ts";

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

/** Backlog and throughput counters, for `/metrics`. */
export interface PipelineStats {
  /** Records not yet committed: waiting for the writer (in memory or spilled), or in its current batch. */
  queued: number;
  /** Bytes of records held in memory. */
  queuedBytes: number;
  /** Of `queued`, those spilled to the journal only. */
  spilled: number;
  /** Spills since start. */
  spilledTotal: number;
  /** Records persisted since start (including journal replay). */
  written: number;
  /** Records found already persisted (replay after a crash between commit and compaction). */
  duplicates: number;
  /** Records given up on after every retry; they stay in the journal. */
  failed: number;
  /** Exchanges begun and not yet ended. */
  inFlight: number;
  /** USD of the turns persisted since start, by team (`""` for unattributed traffic), for `/metrics`. */
  spendUsd: Record<string, number>;
  journal: JournalStats;
  /** Spans handed to the OpenTelemetry exporter and lost; set by the capture that owns an exporter. */
  otel?: OtelStats;
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

interface Queued {
  id: number;
  record: CaptureRecord | null;
  bytes: number;
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
  const queue: Queued[] = [];
  const counters = {
    /** Records taken by the writer whose batch is not committed yet: still backlog, not persisted. */
    writing: 0,
    queuedBytes: 0,
    spilled: 0,
    spilledTotal: 0,
    written: 0,
    duplicates: 0,
    failed: 0,
    inFlight: 0,
    spendUsd: {} as Record<string, number>,
  };
  let active = 0;
  let pendingEnds = 0;
  let closed = false;
  let idleWaiters: (() => void)[] = [];

  // Batches (live and replayed) commit one after another, in the order they were taken.
  let lastCommit: Promise<void> = Promise.resolve();

  /** Takes the next place in commit order; call the returned `done` once the record is settled. */
  function ticket(): { after: Promise<void>; done: () => void } {
    const after = lastCommit;
    let done!: () => void;
    lastCommit = new Promise<void>((resolve) => done = resolve);
    return { after, done };
  }

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

  function notifyIdle(): void {
    if (queue.length || active || pendingEnds) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  async function work(): Promise<void> {
    active++;
    try {
      while (queue.length) {
        const items = queue.splice(0, maxBatch);
        for (const item of items) {
          if (item.record) counters.queuedBytes -= item.bytes;
          else counters.spilled--;
        }
        const { after, done } = ticket();
        counters.writing += items.length;
        try {
          await after;
          await persistBatch(items, false);
        } finally {
          counters.writing -= items.length;
          done();
        }
      }
    } finally {
      active--;
      notifyIdle();
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

  function enqueue(id: number, record: CaptureRecord, bytes: number): void {
    if (counters.queuedBytes + bytes > maxQueuedBytes && queue.length > 0) {
      queue.push({ id, record: null, bytes });
      counters.spilled++;
      counters.spilledTotal++;
    } else {
      queue.push({ id, record, bytes });
      counters.queuedBytes += bytes;
    }
    if (!active) work();
  }

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

  function begin(_exchange: Exchange): ExchangeTap {
    counters.inFlight++;
    const request = new BodyCollector("request", maxBodyBytes);
    const response = new BodyCollector("response", maxBodyBytes);
    const messages: WsMessage[] = [];
    let ended = false;
    return {
      requestChunk: (chunk) => request.add(chunk),
      responseChunk: (chunk) => response.add(chunk),
      wsMessage(message) {
        messages.push(message);
      },
      end(ex, parsed) {
        if (ended) return Promise.resolve();
        ended = true;
        counters.inFlight--;
        if (closed) {
          log.error("capture.after_close", { exchangeId: ex.id });
          return Promise.resolve();
        }
        pendingEnds++;
        const ws = ex.kind === "websocket";
        const all = messages.length ? messages : ex.wsMessages;
        const bodies: Bodies = {
          request: () =>
            ws
              ? wsTranscript(all, "client")
              : request.length
              ? request.bytes()
              : ex.requestBody ?? new Uint8Array(),
          response: () => ws ? wsTranscript(all, "server") : response.bytes(),
        };
        const durable = new Promise<void>((resolve, reject) => {
          // Off the caller's stack: building and journaling the record never delays the proxy's return.
          queueMicrotask(() => {
            try {
              const cuts = [request.cut, response.cut].filter((c) => c !== null);
              const target = cuts.length ? { ...ex, errors: [...ex.errors, ...cuts] } : ex;
              accept(target, parsed, bodies).then(resolve, reject);
            } catch (error) {
              reject(error);
            } finally {
              pendingEnds--;
              notifyIdle();
            }
          });
        });
        durable.catch((error) => {
          counters.failed++;
          log.error("capture.journal_failed", { exchangeId: ex.id, error });
        });
        return options.durability === "strict" ? durable : Promise.resolve();
      },
    };
  }

  function drain(): Promise<void> {
    if (!queue.length && !active && !pendingEnds) return Promise.resolve();
    return new Promise((resolve) => idleWaiters.push(resolve));
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

interface Bodies {
  request(): Uint8Array;
  response(): Uint8Array;
}
