/**
 * The capture pipeline's counters: `PipelineStats` is what `/metrics` and the proxy's thread see (the
 * worker reports it every 200 ms, `worker_protocol.ts`); `PipelineCounters` is the live tally the
 * pipeline's parts (the exchange taps, the write queue, the batch writer) keep in common. A module of its
 * own so that the proxy's side of the worker channel can name the stats without importing the pipeline.
 * @module
 */
import type { JournalStats } from "./journal.ts";
import type { OtelStats } from "./otel/export.ts";

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

/** The tally behind `PipelineStats`, shared by the pipeline's parts; `createPipeline` owns it. */
export type PipelineCounters =
  & Pick<
    PipelineStats,
    "queuedBytes" | "spilled" | "spilledTotal" | "written" | "duplicates" | "failed" | "inFlight" | "spendUsd"
  >
  & {
    /** Records taken by the writer whose batch is not committed yet: still backlog, not persisted. */
    writing: number;
  };
