/**
 * What persisting a capture record takes and what it tells about the record: the price function, the
 * options, and the outcome (written, or a duplicate). A module of its own because everything on both sides
 * of a write names these (the one-record path `persist.ts`, the rows it writes, the pipeline's batch
 * writer, the OpenTelemetry export, the capture options), and none of them should import another's code
 * just for a type.
 * @module
 */
import type { ProviderName } from "../core/exchange.ts";
import type { Usage } from "../providers/types.ts";
import type { CaptureRecord } from "./record.ts";

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
