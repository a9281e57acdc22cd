/**
 * The capture worker: persistence (journal, hashing, gzip, object writes, SQL) runs here, on its own
 * thread, so the proxy's event loop never spends time on it. The proxy's thread posts each finished
 * exchange (`worker_protocol.ts`); this thread runs the same pipeline `startLocalCapture` runs in-process.
 * @module
 */
/// <reference lib="deno.worker" />
import os from "node:os";
import { log } from "../core/log.ts";
import type { Exchange } from "../core/exchange.ts";
import { priceUsage } from "../providers/mod.ts";
import { createPriceOverrides } from "../providers/price_overrides.ts";
import type { Capture } from "./capture.ts";
import { startLocalCapture } from "./local_capture.ts";
import type { EndMessage, FromWorker, InitMessage, ToWorker } from "./worker_protocol.ts";

const STATS_INTERVAL_MS = 200;

let capture: Capture | null = null;
let received = 0;

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
      config: init.config,
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

function accept(message: EndMessage): void {
  received++;
  if (!capture) {
    log.error("capture.worker_not_ready", { exchangeId: message.exchange.id });
    return;
  }
  const exchange: Exchange = {
    ...message.exchange,
    requestBody: message.request,
    wsMessages: message.messages,
  };
  const tap = capture.sink.begin(exchange);
  if (message.response.length) tap.responseChunk(message.response);
  const durable = tap.end(exchange, message.parsed);
  if (!message.ack) return;
  durable.then(
    () => post({ type: "durable", seq: message.seq, error: null }),
    (error) => post({ type: "durable", seq: message.seq, error: String(error) }),
  );
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "end") accept(message);
  else if (message.type === "init") await start(message);
  else if (message.type === "close") {
    try {
      await capture?.close();
    } finally {
      post({ type: "closed" });
    }
  }
};
