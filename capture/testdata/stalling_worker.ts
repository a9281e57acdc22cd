/**
 * The real capture worker, made slow or wedged for the channel tests (`worker_channel_test.ts`), by the
 * developer an exchange names:
 * - `slow-<ms>`: the thread spins `<ms>` before taking in each message (a worker that lags);
 * - `spin-<ms>`: the thread spins `<ms>` in a synchronous loop (a wedge: no heartbeat, no progress), once
 *   per data directory: a replacement given the same exchange again does not spin;
 * - `hang-store`: from then on, object-store writes never finish (a hung storage call: the thread is alive
 *   and reports, but persists nothing).
 */
/// <reference lib="deno.worker" />
import "../store_worker.ts";
import type { ToWorker } from "../worker_protocol.ts";

const real = self.onmessage!;
let hang = false;
let marker = "";
const open = Deno.open;
Deno.open = (path, options) =>
  hang && String(path).includes("/objects/") ? new Promise(() => {}) : open(path, options);

function spin(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* wedged */ }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "init") marker = `${message.paths.dir}/spun`;
  const developer = message.type === "end" ? message.exchange.client.developer ?? "" : "";
  const slow = developer.match(/^slow-(\d+)$/);
  if (slow) spin(Number(slow[1]));
  const result = real.call(self, event);
  if (developer === "hang-store") hang = true;
  const wedge = developer.match(/^spin-(\d+)$/);
  if (wedge) {
    try {
      Deno.writeTextFileSync(marker, "", { createNew: true });
      setTimeout(() => spin(Number(wedge[1])), 0);
    } catch { /* spun once already */ }
  }
  return result;
};
