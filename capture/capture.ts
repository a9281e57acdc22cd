/**
 * The shape of a running capture and the options that start one, shared by the in-process and the
 * worker-backed implementations.
 * @module
 */
import type { Config, OtelConfig } from "../config/schema.ts";
import type { DataPaths } from "../config/paths.ts";
import type { PriceOverride } from "../providers/price_overrides.ts";
import type { Db } from "../storage/db/db.ts";
import type { ObjectStore } from "../storage/objects/store.ts";
import type { PriceFn } from "./persist_types.ts";
import type { PipelineStats } from "./pipeline_stats.ts";
import type { CaptureSink } from "./sink.ts";

/** The part of `config.capture` that capture itself reads (retention runs elsewhere). */
export type CaptureConfig =
  & Pick<Config["capture"], "durability" | "flushIntervalMs" | "s3">
  & Partial<Pick<Config["capture"], "workerNice" | "maxInTransitBytes" | "workerStallMs">>;

/** Inputs of `createCapture`. */
export interface CaptureOptions {
  paths: DataPaths;
  /** `otel`: OpenTelemetry export from the thread that persists (off while `otel.endpoint` is absent). */
  config: { capture: CaptureConfig; otel?: OtelConfig };
  /** Reads `RECONDO_STORE`, `RECONDO_DB_URL`, `RECONDO_OBJECTS`, `RECONDO_S3_*`, `AWS_*`. */
  env: { get(name: string): string | undefined };
  /**
   * Prices a turn's usage in USD. A function cannot cross into the capture worker, so giving one runs
   * capture on the proxy's thread; production pricing uses `priceOverrides` instead.
   */
  price?: PriceFn;
  /** Price overrides on top of the bundled price data (default none). */
  priceOverrides?: PriceOverride[];
  /** Idle gap that ends a session without a client session id (default 30 minutes). */
  idleGapMs?: number;
  /** How often chain heads are signed (default 60 s); they are also signed on close. */
  signIntervalMs?: number;
  /** Run persistence on the proxy's thread instead of a worker (default false unless `price` is given). */
  inProcess?: boolean;
}

/** Pipeline counters, plus those of the channel to the capture worker. */
export interface CaptureStats extends PipelineStats {
  /** Bytes posted to the worker and not yet durable in its journal. */
  inTransitBytes?: number;
  /** Times a failed or wedged capture worker was replaced. */
  workerRestarts?: number;
  /** Of those, times the worker was alive but made no progress for `capture.workerStallMs`. */
  workerWedged?: number;
}

/** A running capture. */
export interface Capture {
  sink: CaptureSink;
  stats(): CaptureStats;
  /** Persists everything accepted, signs chain heads, closes journal and stores. */
  close(): Promise<void>;
  /** Open stores for readers on the proxy's thread (routes, policies, tests). */
  db: Db;
  objects: ObjectStore;
}
