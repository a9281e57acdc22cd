/**
 * The exchanges capture's CPU benchmarks feed (`capture_cpu.ts`, `capture_profile.ts`): shaped like the
 * gateway benchmark's (a short Anthropic Messages request, a ~2 KB JSON answer parsed as the proxy parses
 * it), paced in bursts every 10 ms as 32 connections would send them, so write batches form as they do
 * under load. `unique` gives every exchange its own request and response bytes, as real traffic has;
 * otherwise the bodies repeat (stored once).
 * @module
 */
import type { CaptureSink } from "../capture/sink.ts";
import type { Exchange } from "../core/exchange.ts";
import { newId } from "../core/ids.ts";
import { createResponseParser } from "../providers/mod.ts";

const encoder = new TextEncoder();
const BURST_MS = 10;

/** The request body of exchange `i`. */
export function requestBody(i: number, unique: boolean): Uint8Array {
  const text = unique ? `Summarize the benchmark method in one paragraph, please. (${i})` : "Summarize.";
  return encoder.encode(JSON.stringify({
    model: "claude-sonnet-4-5-20250929",
    max_tokens: 1024,
    messages: [{ role: "user", content: text }],
  }));
}

/**
 * The ~2 KB response body of exchange `i`: the answer bench/upstream.mjs gives the gateway benchmark, built
 * the same way (that file is the Node upstream process and cannot import this module), with its id made
 * unique when `unique`.
 */
export function responseBody(i: number, unique: boolean): Uint8Array {
  const message = {
    id: unique ? `msg_bench_${String(i).padStart(22, "0")}` : "msg_bench_0000000000000000000000",
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

/** Exchange `i`, started at `at`. */
export function exchangeFor(i: number, at: number): Exchange {
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

/**
 * Feeds `count` exchanges into `sink` at `rate` per second and resolves once `written()` reaches `count`.
 */
export async function feedExchanges(
  sink: CaptureSink,
  options: { count: number; rate: number; unique: boolean; written(): number },
): Promise<void> {
  const { count, rate, unique } = options;
  const perBurst = Math.max(1, Math.round(rate * BURST_MS / 1000));
  for (let i = 0; i < count;) {
    const burstStart = performance.now();
    for (let n = 0; n < perBurst && i < count; n++, i++) {
      const exchange = exchangeFor(i, Date.now());
      const response = responseBody(i, unique);
      const parser = createResponseParser("anthropic.messages", "application/json");
      parser.push(response);
      const tap = sink.begin(exchange);
      tap.requestChunk(requestBody(i, unique));
      tap.responseChunk(response);
      void tap.end(exchange, { request: null, response: parser.finish() });
    }
    const wait = BURST_MS - (performance.now() - burstStart);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  }
  while (options.written() < count) await new Promise((resolve) => setTimeout(resolve, 5));
}
