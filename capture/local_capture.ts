/**
 * Capture on the current thread: opens the stores, the journal and the pipeline, replays what an earlier
 * run left in the journal, and signs the session chain heads periodically. The capture worker runs this;
 * `createCapture` runs it in-process only when asked to (tests with a custom price function).
 * @module
 */
import { log } from "../core/log.ts";
import type { Db } from "../storage/db/db.ts";
import { openDatabase } from "../storage/db/mod.ts";
import { openObjectStore } from "../storage/objects/mod.ts";
import type { ObjectStore } from "../storage/objects/store.ts";
import { loadOrCreateSigningKey, registerSigningKey, signChainHeads } from "../storage/signing.ts";
import type { Capture, CaptureOptions } from "./capture.ts";
import { loadOrCreateHmacKey } from "./credentials.ts";
import { openJournal } from "./journal.ts";
import type { PriceFn } from "./persist_types.ts";
import { createPipeline, type Pipeline } from "./pipeline.ts";
import { type OtelExport, startOtelExport } from "./otel/export.ts";

/** `CaptureOptions` with the price as a function (a worker builds it from overrides). */
export type LocalCaptureOptions = Omit<CaptureOptions, "inProcess" | "priceOverrides"> & { price: PriceFn };

/**
 * A capture on this thread, which also takes exchanges the proxy's thread posted (`Pipeline.acceptEnded`)
 * and records it spilled (`Pipeline.acceptRecord`).
 */
export interface LocalCapture extends Capture {
  acceptRecord(payload: Uint8Array): Promise<void>;
  acceptEnded: Pipeline["acceptEnded"];
}

/** Opens stores and journal, replays, and starts the pipeline on this thread. */
export async function startLocalCapture(options: LocalCaptureOptions): Promise<LocalCapture> {
  const { paths, env } = options;
  const hmacKey = await loadOrCreateHmacKey(paths.secretKey);
  const signingKey = await loadOrCreateSigningKey(paths.signingKey);
  const objects = await openObjectStore(paths, env, options.config.capture.s3);
  let db: Db;
  try {
    db = await openDatabase(paths, env);
  } catch (error) {
    await objects.close();
    throw error;
  }
  let journal;
  let otel: OtelExport | null = null;
  try {
    await registerSigningKey(db, signingKey);
    // Before the journal replays, so records persisted by the replay are exported too.
    otel = options.config.otel ? await startOtelExport(options.config.otel) : null;
    journal = await openJournal({
      dir: paths.journal,
      flushIntervalMs: options.config.capture.flushIntervalMs,
    });
  } catch (error) {
    await otel?.close(0);
    await closeStores(db, objects);
    throw error;
  }
  const pipeline = createPipeline({
    journal,
    db,
    objects,
    hmacKey,
    durability: options.config.capture.durability,
    idleGapMs: options.idleGapMs ?? 30 * 60_000,
    price: options.price,
    onWritten: otel?.record,
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
      await otel?.close();
      await sign();
      await closeStores(db, objects);
    })();
  return {
    sink: { begin: pipeline.sink.begin, close },
    stats: otel ? () => ({ ...pipeline.stats(), otel: otel.stats() }) : pipeline.stats,
    acceptRecord: pipeline.acceptRecord,
    acceptEnded: pipeline.acceptEnded,
    close,
    db,
    objects,
  };
}

async function closeStores(db: Db, objects: ObjectStore): Promise<void> {
  await db.close();
  await objects.close();
}
