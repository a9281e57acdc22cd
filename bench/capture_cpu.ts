/**
 * Capture's CPU per small exchange (issue #12 §2), side by side in one run: the same stream of exchanges
 * shaped like the gateway benchmark's (a short Anthropic Messages request, a ~2 KB JSON answer, parsed as
 * the proxy parses it) fed through capture's public API (`createCapture` → `sink.begin` → chunks → `end`),
 * once into a sink that drops everything (capture off: the cost of building the exchanges) and once into
 * real capture with its worker thread (journal, hashing, gzip, objects, SQL), rounds alternating. CPU is the
 * process's (all threads, `process.cpuUsage`) from the first exchange until the last is written, per
 * exchange; capture's cost is the difference. Exchanges arrive paced (`rate` per second, in bursts every
 * 10 ms, as 32 connections would) so batches form as they do under load, not as large as a flood makes them.
 *   deno run -A --unstable-no-legacy-abort bench/capture_cpu.ts [--exchanges 3000] [--rate 2000]
 *     [--bodies unique|same] [--store sqlite|postgres] [--rounds 2] [--in-process]
 * `same` repeats the gateway benchmark's identical bodies (stored once); `unique` gives every exchange its
 * own request and response bytes, as real traffic has.
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { createCapture } from "../capture/mod.ts";
import { nullSink } from "../capture/sink.ts";
import { dataPaths } from "../config/paths.ts";
import type { Exchange } from "../core/exchange.ts";
import { newId } from "../core/ids.ts";
import { createResponseParser } from "../providers/mod.ts";
import { startPostgres, type TestPostgres } from "../tests/support/postgres.ts";
import { fixed } from "./stats.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    exchanges: { type: "string", default: "3000" },
    rate: { type: "string", default: "2000" },
    bodies: { type: "string", default: "unique" },
    store: { type: "string", default: "sqlite" },
    rounds: { type: "string", default: "2" },
    "in-process": { type: "boolean", default: false },
  },
});
const EXCHANGES = Number(args.exchanges);
const RATE = Number(args.rate);
const UNIQUE = args.bodies === "unique";
const BURST_MS = 10;

const encoder = new TextEncoder();

function requestBody(i: number): Uint8Array {
  const text = UNIQUE ? `Summarize the benchmark method in one paragraph, please. (${i})` : "Summarize.";
  return encoder.encode(JSON.stringify({
    model: "claude-sonnet-4-5-20250929",
    max_tokens: 1024,
    messages: [{ role: "user", content: text }],
  }));
}

function responseBody(i: number): Uint8Array {
  const message = {
    id: UNIQUE ? `msg_bench_${String(i).padStart(22, "0")}` : "msg_bench_0000000000000000000000",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5-20250929",
    content: [{ type: "text", text: "" }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 1200, output_tokens: 420, cache_read_input_tokens: 0 },
  };
  const base = JSON.stringify(message).length;
  message.content[0].text = "lorem ipsum dolor sit amet ".repeat(80).slice(0, 2048 - base);
  return encoder.encode(JSON.stringify(message));
}

function exchangeFor(i: number, at: number): Exchange {
  return {
    id: newId(at),
    connectionId: `bench-${i % 32}`,
    kind: "http",
    client: { developer: null, team: null, address: `127.0.0.1:${40000 + (i % 32)}`, via: "address" },
    target: { host: "api.anthropic.com", port: 443, upstreamOrigin: "https://api.anthropic.com" },
    provider: "anthropic",
    api: "anthropic.messages",
    request: {
      method: "POST",
      path: "/v1/messages",
      headers: {
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
        "x-api-key": "sk-ant-bench-0000000000000000",
        "content-length": "140",
        host: "api.anthropic.com",
      },
    },
    requestBody: null,
    response: { status: 200, headers: { "content-type": "application/json", "content-length": "2048" } },
    timing: { start: at, upstreamConnected: at + 1, firstByte: at + 3, end: at + 4 },
    decisions: [],
    wsMessages: [],
    errors: [],
    outcome: "complete",
  };
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const systemMs = () => process.cpuUsage().system / 1000;

interface Sink {
  sink: typeof nullSink;
  written(): number;
  close(): Promise<void>;
}

async function feed(
  target: Sink,
): Promise<{ cpuMsPerExchange: number; systemMsPerExchange: number; seconds: number }> {
  const perBurst = Math.max(1, Math.round(RATE * BURST_MS / 1000));
  const before = cpuMs();
  const systemBefore = systemMs();
  const started = performance.now();
  for (let i = 0; i < EXCHANGES;) {
    const burstStart = performance.now();
    for (let n = 0; n < perBurst && i < EXCHANGES; n++, i++) {
      const exchange = exchangeFor(i, Date.now());
      const response = responseBody(i);
      const parser = createResponseParser("anthropic.messages", "application/json");
      parser.push(response);
      const tap = target.sink.begin(exchange);
      tap.requestChunk(requestBody(i));
      tap.responseChunk(response);
      void tap.end(exchange, { request: null, response: parser.finish() });
    }
    const wait = BURST_MS - (performance.now() - burstStart);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  }
  while (target.written() < EXCHANGES) await new Promise((resolve) => setTimeout(resolve, 5));
  const used = cpuMs() - before;
  return {
    cpuMsPerExchange: used / EXCHANGES,
    systemMsPerExchange: (systemMs() - systemBefore) / EXCHANGES,
    seconds: (performance.now() - started) / 1000,
  };
}

async function openCapture(work: string, postgres: TestPostgres | null): Promise<Sink> {
  const dir = await Deno.makeTempDir({ dir: work });
  const env = new Map([["RECONDO_OBJECTS", "local"]]);
  if (postgres) {
    env.set("RECONDO_STORE", "postgres").set("RECONDO_DB_URL", await postgres.createDatabase());
  } else env.set("RECONDO_STORE", "sqlite");
  const capture = await createCapture({
    paths: dataPaths(dir),
    config: { capture: { durability: "batched", flushIntervalMs: 50 } },
    env,
    signIntervalMs: 3_600_000,
    inProcess: args["in-process"],
  });
  return {
    sink: capture.sink,
    written: () => capture.stats().written + capture.stats().failed,
    close: () => capture.close(),
  };
}

const work = await Deno.makeTempDir({ prefix: "recondo-capture-cpu-" });
const postgres = args.store === "postgres" ? await startPostgres() : null;
const off: number[] = [];
const on: number[] = [];
const onSystem: number[] = [];
try {
  let fed = 0;
  const nothing: Sink = {
    sink: {
      begin(exchange) {
        const tap = nullSink.begin(exchange);
        return { ...tap, end: (ex, parsed) => (fed++, tap.end(ex, parsed)) };
      },
      close: nullSink.close,
    },
    written: () => fed,
    close: () => Promise.resolve(),
  };
  const warm = await openCapture(work, postgres);
  await feed(warm); // warm-up: module loading, JIT, the worker's start
  await warm.close();
  for (let round = 0; round < Number(args.rounds); round++) {
    fed = 0;
    off.push((await feed(nothing)).cpuMsPerExchange);
    const capture = await openCapture(work, postgres);
    const result = await feed(capture);
    on.push(result.cpuMsPerExchange);
    onSystem.push(result.systemMsPerExchange);
    await capture.close();
  }
} finally {
  await postgres?.close();
  await Deno.remove(work, { recursive: true });
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(JSON.stringify({
  exchanges: EXCHANGES,
  rate: RATE,
  bodies: args.bodies,
  store: args.store,
  inProcess: args["in-process"],
  offCpuMs: off.map((x) => fixed(x, 3)),
  onCpuMs: on.map((x) => fixed(x, 3)),
  onSystemMs: onSystem.map((x) => fixed(x, 3)),
  captureCpuMsPerExchange: fixed(mean(on) - mean(off), 3),
}));
