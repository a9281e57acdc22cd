/**
 * The face of capture for the gateway: `createCapture` opens the stores named by the environment, replays
 * what an earlier run left in the journal, and returns the `CaptureSink` the proxy feeds, a `stats()`
 * for `/metrics`, and `close()` for shutdown. It also signs the session chain heads periodically.
 * @example
 * const capture = await createCapture({ paths: dataPaths(dataDir()), config, env: Deno.env });
 * // proxy: const tap = capture.sink.begin(exchange); … await tap.end(exchange, parsed);
 * // shutdown: await capture.close();
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { DataPaths } from "../config/paths.ts";
import { log } from "../core/log.ts";
import { priceUsage } from "../providers/mod.ts";
import type { Db } from "../storage/db/db.ts";
import { openDatabase } from "../storage/db/mod.ts";
import { openObjectStore } from "../storage/objects/mod.ts";
import type { ObjectStore } from "../storage/objects/store.ts";
import { loadOrCreateSigningKey, registerSigningKey, signChainHeads } from "../storage/signing.ts";
import { loadOrCreateHmacKey } from "./credentials.ts";
import { openJournal } from "./journal.ts";
import type { PriceFn } from "./persist.ts";
import { createPipeline, type PipelineStats } from "./pipeline.ts";
import type { CaptureSink } from "./sink.ts";

export type { PipelineStats } from "./pipeline.ts";
export type { PriceFn } from "./persist.ts";
export { hashApiKey, loadOrCreateHmacKey } from "./credentials.ts";

/** Inputs of `createCapture`. */
export interface CaptureOptions {
  paths: DataPaths;
  config: Pick<Config, "capture">;
  /** Reads `RECONDO_STORE`, `RECONDO_DB_URL`, `RECONDO_OBJECTS`, `RECONDO_S3_*`, `AWS_*`. */
  env: { get(name: string): string | undefined };
  /** Prices a turn's usage in USD (default: `priceUsage` from providers, without overrides). */
  price?: PriceFn;
  /** Idle gap that ends a session without a client session id (default 30 minutes). */
  idleGapMs?: number;
  /** How often chain heads are signed (default 60 s); they are also signed on close. */
  signIntervalMs?: number;
}

/** A running capture. */
export interface Capture {
  sink: CaptureSink;
  stats(): PipelineStats;
  /** Persists everything accepted, signs chain heads, closes journal and stores. */
  close(): Promise<void>;
  /** The open stores, for readers in the same process (routes, tests). */
  db: Db;
  objects: ObjectStore;
}

function defaultPrice(...[provider, model, usage, at]: Parameters<PriceFn>): number | null {
  return priceUsage(provider, model, usage, new Date(at)).usd;
}

/** Opens stores and journal, replays, and starts the pipeline. */
export async function createCapture(options: CaptureOptions): Promise<Capture> {
  const { paths, env } = options;
  const hmacKey = await loadOrCreateHmacKey(paths.secretKey);
  const signingKey = await loadOrCreateSigningKey(paths.signingKey);
  const objects = await openObjectStore(paths, env);
  let db: Db;
  try {
    db = await openDatabase(paths, env);
  } catch (error) {
    await objects.close();
    throw error;
  }
  await registerSigningKey(db, signingKey);
  const journal = await openJournal({
    dir: paths.journal,
    flushIntervalMs: options.config.capture.flushIntervalMs,
  });
  const pipeline = createPipeline({
    journal,
    db,
    objects,
    hmacKey,
    durability: options.config.capture.durability,
    idleGapMs: options.idleGapMs ?? 30 * 60_000,
    price: options.price ?? defaultPrice,
  });
  await pipeline.replay();

  const sign = async () => {
    try {
      await signChainHeads(db, signingKey);
    } catch (error) {
      log.error("capture.sign_failed", { error });
    }
  };
  const timer = setInterval(sign, options.signIntervalMs ?? 60_000);
  let closing: Promise<void> | null = null;
  const close = () =>
    closing ??= (async () => {
      clearInterval(timer);
      await pipeline.close();
      await journal.close();
      await sign();
      await db.close();
      await objects.close();
    })();
  return { sink: { begin: pipeline.sink.begin, close }, stats: pipeline.stats, close, db, objects };
}
