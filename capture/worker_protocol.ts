/**
 * Messages between the proxy's thread and the capture worker (`store_worker.ts`). Everything here is
 * structured-clonable data: the worker cannot share the proxy's objects, only copies of them.
 * @module
 */
import type { DataPaths } from "../config/paths.ts";
import type { OtelConfig } from "../config/schema.ts";
import type { Exchange, WsMessage } from "../core/exchange.ts";
import type { PriceOverride } from "../providers/price_overrides.ts";
import type { CaptureConfig } from "./capture.ts";
import type { PipelineStats } from "./pipeline_stats.ts";
import type { CaptureParsed } from "./sink.ts";
import type { BodyFile } from "./spilling_body.ts";

/** First message to the worker: where the stores are and how to run. */
export interface InitMessage {
  type: "init";
  paths: DataPaths;
  config: { capture: CaptureConfig; otel?: OtelConfig };
  /** The environment variables the proxy's thread read to open the same stores, as name → value. */
  env: [string, string][];
  priceOverrides: PriceOverride[];
  idleGapMs: number;
  signIntervalMs: number;
}

/**
 * One finished exchange, with its bodies already cut to the capture limit. The bodies may live in a
 * `SharedArrayBuffer`: the proxy's thread keeps the message until the worker reports it durable, to post it
 * again to a replacement worker, and the worker copies the bytes out.
 */
export interface EndMessage {
  type: "end";
  /** Sequence number of this message on the proxy's thread; the worker reports durability by it. */
  seq: number;
  exchange: Omit<Exchange, "requestBody" | "wsMessages">;
  parsed: CaptureParsed | null;
  request: Uint8Array;
  response: Uint8Array;
  /**
   * A long response body moved to a file while it streamed (`spilling_body.ts`); `response` is then empty
   * and the worker reads the body from here. The proxy's thread removes the file once the record is durable.
   */
  responseFile: BodyFile | null;
  messages: WsMessage[];
}

/** A record the proxy's thread built and spilled to its own journal (`encodeRecord` bytes), posted later. */
export interface RecordMessage {
  type: "record";
  seq: number;
  payload: Uint8Array;
}

/** Messages the worker receives. */
export type ToWorker = InitMessage | EndMessage | RecordMessage | { type: "close" };

/** Messages the worker sends. */
export type FromWorker =
  | { type: "ready"; stats: PipelineStats }
  | { type: "failed"; message: string }
  /** Messages now in the worker's journal (`seqs`), and those it could not journal, with why. */
  | { type: "durable"; seqs: number[]; failed: [number, string][] }
  /** Every 200 ms: the pipeline's counters and how many messages the worker has taken in. */
  | { type: "stats"; stats: PipelineStats; received: number }
  | { type: "closed" };
