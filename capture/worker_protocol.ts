/**
 * Messages between the proxy's thread and the capture worker (`store_worker.ts`). Everything here is
 * structured-clonable data: the worker cannot share the proxy's objects, only copies of them.
 * @module
 */
import type { DataPaths } from "../config/paths.ts";
import type { Exchange, WsMessage } from "../core/exchange.ts";
import type { PriceOverride } from "../providers/price_overrides.ts";
import type { CaptureConfig } from "./capture.ts";
import type { PipelineStats } from "./pipeline.ts";
import type { CaptureParsed } from "./sink.ts";

/** First message to the worker: where the stores are and how to run. */
export interface InitMessage {
  type: "init";
  paths: DataPaths;
  config: { capture: CaptureConfig };
  /** The environment variables the proxy's thread read to open the same stores, as name → value. */
  env: [string, string][];
  priceOverrides: PriceOverride[];
  idleGapMs: number;
  signIntervalMs: number;
}

/** One finished exchange, with its bodies already cut to the capture limit. */
export interface EndMessage {
  type: "end";
  /** Sequence number of this end on the proxy's thread; the worker acknowledges by it in strict mode. */
  seq: number;
  exchange: Omit<Exchange, "requestBody" | "wsMessages">;
  parsed: CaptureParsed | null;
  request: Uint8Array;
  response: Uint8Array;
  messages: WsMessage[];
  /** Whether the proxy waits for the record to be durable (strict durability). */
  ack: boolean;
}

/** Messages the worker receives. */
export type ToWorker = InitMessage | EndMessage | { type: "close" };

/** Messages the worker sends. */
export type FromWorker =
  | { type: "ready"; stats: PipelineStats }
  | { type: "failed"; message: string }
  | { type: "durable"; seq: number; error: string | null }
  | { type: "stats"; stats: PipelineStats; received: number }
  | { type: "closed" };
