/**
 * Child process for the strict spill test (`worker_channel_test.ts`): starts worker capture in strict
 * mode with a lagging worker and a small in-transit bound, ends COUNT exchanges with 64 KiB bodies, prints
 * the ids whose `end()` resolved and how many were spilled, then waits to be killed with SIGKILL.
 * Usage: deno run -A transit_child.ts DATA_DIR COUNT
 */
import { dataPaths } from "../../config/paths.ts";
import { fakeExchange, fakeParsed, messagesBody } from "../test_exchange.ts";
import { startWorkerCapture } from "../worker_capture.ts";

const [dir, countText] = Deno.args;
const capture = await startWorkerCapture({
  paths: dataPaths(dir),
  config: { capture: { durability: "strict", flushIntervalMs: 20, maxInTransitBytes: 256 * 1024 } },
  env: new Map([["RECONDO_STORE", "sqlite"], ["RECONDO_OBJECTS", "local"]]),
  signIntervalMs: 3_600_000,
  workerUrl: new URL("./stalling_worker.ts", import.meta.url),
});
const acked: string[] = [];
await Promise.all(Array.from({ length: Number(countText) }, async (_, i) => {
  const ex = fakeExchange({
    client: { developer: "slow-200", team: "t", address: "127.0.0.1:1", via: "proxy-auth" },
  });
  const tap = capture.sink.begin(ex);
  tap.requestChunk(messagesBody(`prompt ${i}`));
  tap.responseChunk(new Uint8Array(64 * 1024).fill(i % 251));
  await tap.end(ex, fakeParsed({ userText: `prompt ${i}`, sessionId: `s-${i}` }));
  acked.push(ex.id);
}));
await Deno.stdout.write(
  new TextEncoder().encode(JSON.stringify({ acked, spilled: capture.stats().spilledTotal }) + "\n"),
);
await new Promise(() => {});
