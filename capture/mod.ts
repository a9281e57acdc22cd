/**
 * The face of capture for the gateway: `createCapture` opens the stores named by the environment, replays
 * what an earlier run left in the journal, and returns the `CaptureSink` the proxy feeds, a `stats()`
 * for `/metrics`, and `close()` for shutdown. Persistence runs in a worker thread (`store_worker.ts`), so
 * hashing, gzip, disk and database work never take time from the proxy's event loop.
 * @example
 * const capture = await createCapture({ paths: dataPaths(dataDir()), config, env: Deno.env });
 * // proxy: const tap = capture.sink.begin(exchange); … await tap.end(exchange, parsed);
 * // shutdown: await capture.close();
 * @module
 */
import { priceUsage } from "../providers/mod.ts";
import type { Capture, CaptureOptions } from "./capture.ts";
import { startLocalCapture } from "./local_capture.ts";
import { startWorkerCapture } from "./worker_capture.ts";

export type { Capture, CaptureOptions } from "./capture.ts";
export type { PipelineStats } from "./pipeline_stats.ts";
export type { PriceFn } from "./persist_types.ts";
export { hashApiKey, loadOrCreateHmacKey } from "./credentials.ts";

/** Starts capture: in a worker, or on this thread when `inProcess` or a `price` function is given. */
export function createCapture(options: CaptureOptions): Promise<Capture> {
  if (options.inProcess || options.price) {
    const overrides = options.priceOverrides;
    return startLocalCapture({
      ...options,
      price: options.price ??
        ((provider, model, usage, at) => priceUsage(provider, model, usage, new Date(at), overrides).usd),
    });
  }
  return startWorkerCapture(options);
}
