import assert from "node:assert/strict";
import { dataPaths } from "../../config/paths.ts";
import { otelSchema } from "../../config/schema.ts";
import { fakeExchange, fakeParsed, messagesBody } from "../test_exchange.ts";
import { startWorkerCapture } from "../worker_capture.ts";

const EXCHANGES = 300;
const MAX_QUEUE = 20;

/** A collector that takes each export request and never answers it (until `release`). */
function hangingCollector() {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    requests++;
    await released;
    return new Response(null, { status: 503 });
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    requests: () => requests,
    close: async () => {
      release();
      await server.shutdown();
    },
  };
}

/** A port nothing listens on: every export is refused. */
function refusedEndpoint(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `http://127.0.0.1:${port}`;
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const down of ["refuses connections", "never answers"] as const) {
  Deno.test({
    name:
      `a collector that ${down} costs capture nothing: every exchange is persisted, spans beyond the queue are dropped and counted`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const dir = await Deno.makeTempDir();
      const collector = down === "never answers" ? hangingCollector() : null;
      const otel = otelSchema.parse({
        endpoint: collector?.endpoint ?? refusedEndpoint(),
        maxQueueSize: MAX_QUEUE,
        exportIntervalMs: 20,
      });
      const capture = await startWorkerCapture({
        paths: dataPaths(dir),
        config: { capture: { durability: "batched", flushIntervalMs: 10 }, otel },
        env: new Map([["RECONDO_STORE", "sqlite"], ["RECONDO_OBJECTS", "local"]]),
        signIntervalMs: 3_600_000,
      });
      try {
        const started = performance.now();
        for (let i = 0; i < EXCHANGES; i++) {
          const ex = fakeExchange();
          const tap = capture.sink.begin(ex);
          tap.requestChunk(messagesBody(`prompt ${i}`));
          await tap.end(ex, fakeParsed({ userText: `prompt ${i}`, sessionId: "s-otel-down" }));
        }
        // Handing exchanges over never waits on the collector.
        const handOverMs = performance.now() - started;
        assert.ok(handOverMs < 5_000, `handing ${EXCHANGES} exchanges to capture took ${handOverMs} ms`);

        await until(async () => {
          const rows = await capture.db.query<{ n: number }>("SELECT COUNT(*) AS n FROM exchanges");
          return Number(rows[0].n) === EXCHANGES;
        }, "every exchange to be persisted");
        // Held spans are bounded by the queue plus the batch being sent: everything else is dropped, counted.
        await until(
          () => (capture.stats().otel?.dropped ?? 0) >= EXCHANGES - 2 * MAX_QUEUE,
          `drops to be counted (stats: ${JSON.stringify(capture.stats().otel)})`,
        );
        const stats = capture.stats();
        assert.equal(stats.otel?.exported, 0);
        assert.ok(stats.otel!.dropped <= EXCHANGES);
        assert.equal(stats.failed, 0);
        if (collector) assert.ok(collector.requests() >= 1, "the collector was tried");
      } finally {
        await collector?.close();
        await capture.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
