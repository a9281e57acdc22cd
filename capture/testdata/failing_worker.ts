/**
 * The real capture worker, made to fail for the worker-replacement test: an exchange from developer
 * "crash-the-worker" is captured as usual and then the thread dies of an uncaught error, after the
 * record had time to reach the journal.
 */
/// <reference lib="deno.worker" />
import "../store_worker.ts";
import type { ToWorker } from "../worker_protocol.ts";

const real = self.onmessage!;
self.onmessage = (event: MessageEvent<ToWorker>) => {
  const result = real.call(self, event);
  const message = event.data;
  if (message.type === "end" && message.exchange.client.developer === "crash-the-worker") {
    setTimeout(() => {
      throw new Error("injected capture worker failure");
    }, 300);
  }
  return result;
};
