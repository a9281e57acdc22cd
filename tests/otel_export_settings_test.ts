/**
 * `otel.headers`, `otel.headersFile` and `otel.sampling` as a collector sees them: the capture worker
 * exports to a recording OTLP/HTTP receiver, which checks every request's headers and decodes the bodies
 * with the OTLP protobuf definitions. With `sampling: 0` no span leaves, yet the GenAI client metrics still
 * count every exchange; with the default, every exchange arrives as a span. The header file's value is a
 * credential: it reaches the collector and nothing else (not the log, not the database).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dataPaths } from "../config/paths.ts";
import { otelSchema } from "../config/schema.ts";
import { fakeExchange, fakeParsed, messagesBody } from "../capture/test_exchange.ts";
import { startWorkerCapture } from "../capture/worker_capture.ts";
import { decodeHistograms, decodeTraces } from "./support/otlp.ts";
import { eventually } from "./support/e2e.ts";

const EXCHANGES = 12;
const TOKEN = "Bearer otel-secret-7b1f";

interface Received {
  path: string;
  headers: Headers;
  body: Uint8Array;
}

function recordingCollector() {
  const received: Received[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    received.push({
      path: new URL(req.url).pathname,
      headers: req.headers,
      body: new Uint8Array(await req.arrayBuffer()),
    });
    return new Response(null, { status: 200 });
  });
  return { endpoint: `http://127.0.0.1:${server.addr.port}`, received, close: () => server.shutdown() };
}

async function exportRun(sampling: number | undefined) {
  const dir = await Deno.makeTempDir();
  const collector = recordingCollector();
  const headersFile = join(dir, "otel.headers");
  await Deno.writeTextFile(headersFile, `Authorization: ${TOKEN}\n`, { mode: 0o600 });
  const otel = otelSchema.parse({
    endpoint: collector.endpoint,
    headers: { "x-tenant": "acme" },
    headersFile,
    exportIntervalMs: 50,
    ...(sampling === undefined ? {} : { sampling }),
  });
  const capture = await startWorkerCapture({
    paths: dataPaths(dir),
    config: { capture: { durability: "batched", flushIntervalMs: 10 }, otel },
    env: new Map([["RECONDO_STORE", "sqlite"], ["RECONDO_OBJECTS", "local"]]),
    signIntervalMs: 3_600_000,
  });
  try {
    for (let i = 0; i < EXCHANGES; i++) {
      const ex = fakeExchange();
      const tap = capture.sink.begin(ex);
      tap.requestChunk(messagesBody(`prompt ${i}`));
      await tap.end(ex, fakeParsed({ userText: `prompt ${i}`, sessionId: "s-otel-settings" }));
    }
    const durationCount = async () => {
      const metrics = collector.received.filter((r) => r.path === "/v1/metrics");
      const last = metrics.at(-1);
      if (!last) return 0;
      const points = await decodeHistograms(last.body);
      return points.filter((p) => p.metric === "gen_ai.client.operation.duration").reduce(
        (n, p) => n + p.count,
        0,
      );
    };
    await eventually(
      "the metrics to count every exchange",
      async () => await durationCount() === EXCHANGES,
      20_000,
    );
    if (sampling !== 0) {
      await eventually(
        "every span to arrive",
        async () => (await spansOf(collector.received)).length === EXCHANGES,
        20_000,
      );
    }
    const stored = JSON.stringify(await capture.db.query("SELECT * FROM exchanges"));
    return { received: [...collector.received], spans: await spansOf(collector.received), stored };
  } finally {
    await capture.close();
    await collector.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function spansOf(received: Received[]) {
  const traces = received.filter((r) => r.path === "/v1/traces");
  return (await Promise.all(traces.map((r) => decodeTraces(r.body)))).flat();
}

Deno.test({
  name:
    "every export carries otel.headers and the headersFile's credential; sampling 0 sends no span but counts every exchange",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { received, spans, stored } = await exportRun(0);
    assert.equal(spans.length, 0, "sampling 0 exported spans");
    assert.ok(received.length > 0);
    for (const request of received) {
      assert.equal(request.headers.get("x-tenant"), "acme", request.path);
      assert.equal(request.headers.get("authorization"), TOKEN, request.path);
      assert.match(request.headers.get("content-type") ?? "", /application\/x-protobuf/);
    }
    assert.ok(!stored.includes("otel-secret"), "the collector's credential reached the database");
  },
});

Deno.test({
  name: "with the default sampling every exchange arrives as a span",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { spans } = await exportRun(undefined);
    assert.equal(spans.length, EXCHANGES);
    assert.ok(spans.every((s) => s.attributes["gen_ai.operation.name"] === "chat"));
  },
});
