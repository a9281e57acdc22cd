/**
 * The capture worker: persistence (journal, hashing, gzip, object writes, SQL) runs here, on its own
 * thread, so the proxy's event loop never spends time on it. The proxy's thread posts each finished
 * exchange (`worker_protocol.ts`); this thread runs the same pipeline `startLocalCapture` runs in-process.
 * Every message is reported back once it is durable in the journal (one `durable` message per journal
 * flush), whatever the durability mode: until then the proxy's thread keeps it, to post it again to a
 * replacement should this worker die or wedge.
 * @module
 */
/// <reference lib="deno.worker" />
import os from "node:os";
import { log } from "../core/log.ts";
import { priceUsage } from "../providers/mod.ts";
import { createPriceOverrides } from "../providers/price_overrides.ts";
import { type LocalCapture, startLocalCapture } from "./local_capture.ts";
import type { EndMessage, FromWorker, InitMessage, RecordMessage, ToWorker } from "./worker_protocol.ts";

const STATS_INTERVAL_MS = 200;

let capture: LocalCapture | null = null;
let received = 0;
let durable: number[] = [];
let failed: [number, string][] = [];

function post(message: FromWorker): void {
  self.postMessage(message);
}

/** Lowers this thread's CPU priority (Linux: a thread id is a valid `setpriority` target). */
function lowerPriority(nice: number): void {
  try {
    const tid = Number(Deno.readTextFileSync("/proc/thread-self/stat").split(" ")[0]);
    os.setPriority(tid, nice);
  } catch (error) {
    log.debug("capture.worker_priority_unchanged", { error });
  }
}

async function start(init: InitMessage): Promise<void> {
  const nice = init.config.capture.workerNice ?? 0;
  if (nice) lowerPriority(nice);
  const overrides = createPriceOverrides(init.priceOverrides);
  try {
    capture = await startLocalCapture({
      paths: init.paths,
      // The proxy's thread decides who waits; here every record reports when it is in the journal.
      config: { capture: { ...init.config.capture, durability: "strict" }, otel: init.config.otel },
      env: new Map(init.env),
      price: (provider, model, usage, at) => priceUsage(provider, model, usage, new Date(at), overrides).usd,
      idleGapMs: init.idleGapMs,
      signIntervalMs: init.signIntervalMs,
    });
  } catch (error) {
    post({ type: "failed", message: error instanceof Error ? error.message : String(error) });
    return;
  }
  const running = capture;
  setInterval(() => post({ type: "stats", stats: running.stats(), received }), STATS_INTERVAL_MS);
  post({ type: "ready", stats: running.stats() });
}

/** Reports `seq` as durable (or not) with the others of the same journal flush, in one message. */
function report(seq: number, error: unknown): void {
  if (durable.length === 0 && failed.length === 0) {
    queueMicrotask(() => {
      post({ type: "durable", seqs: durable, failed });
      durable = [];
      failed = [];
    });
  }
  if (error === null) durable.push(seq);
  else failed.push([seq, String(error)]);
}

/** The bytes of a body the proxy may share: copied out, so nothing here holds shared memory. */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.buffer instanceof SharedArrayBuffer ? new Uint8Array(bytes) : bytes;
}

function accept(message: EndMessage | RecordMessage): void {
  received++;
  if (!capture) {
    log.error("capture.worker_not_ready", { seq: message.seq });
    return;
  }
  let journaled: Promise<void>;
  try {
    if (message.type === "record") journaled = capture.acceptRecord(message.payload);
    else if (message.responseFile) journaled = endFromFile(capture, message, message.responseFile.path);
    else journaled = end(capture, message, message.response);
  } catch (error) {
    journaled = Promise.reject(error);
  }
  journaled.then(() => report(message.seq, null), (error) => report(message.seq, error ?? "unknown"));
}

/**
 * Body files are read one at a time: when a thousand streams end together, reading them all at once had
 * Deno start dozens of blocking threads and hold every body in memory together (1,000 streams ending
 * together: 6 → 70 threads, with the files removed at the same time).
 */
let fileReads: Promise<unknown> = Promise.resolve();

/** An exchange whose long response body the proxy's thread moved to a file (`spilling_body.ts`). */
async function endFromFile(running: LocalCapture, message: EndMessage, path: string): Promise<void> {
  const read = fileReads.then(() => Deno.readFile(path));
  // The next read starts once this one is done; the journal append it feeds need not be.
  fileReads = read.catch(() => {});
  return await end(running, message, await read);
}

/** Hands a posted exchange to the pipeline as it is: the message is this thread's own, nothing is copied. */
function end(running: LocalCapture, message: EndMessage, response: Uint8Array): Promise<void> {
  return running.acceptEnded({ ...message, request: own(message.request), response: own(response) });
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "end" || message.type === "record") accept(message);
  else if (message.type === "init") await start(message);
  else if (message.type === "close") {
    try {
      await capture?.close();
    } finally {
      post({ type: "closed" });
    }
  }
};
