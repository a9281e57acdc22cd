import assert from "node:assert/strict";
import { fakeExchange } from "../capture/test_exchange.ts";
import type { ExchangeTap } from "../capture/sink.ts";
import type { PolicyChain } from "../policies/chain.ts";
import { fixtureBytes } from "../providers/_testing.ts";
import { createResponseParser } from "../providers/response_parser.ts";
import type { ApiName } from "../providers/types.ts";
import { relayBody } from "./response_relay.ts";

const NO_EVENT_HOOKS = { watchesEvents: false } as unknown as PolicyChain;

/**
 * Relays `chunks` and reads the client's side until it stalls on `onEnd`; returns the bytes the client had
 * before the record was durable, then everything it got, and what capture was given.
 */
async function relay(api: ApiName, chunks: Uint8Array[], strict: boolean) {
  const captured: Uint8Array[] = [];
  const tap = { responseChunk: (chunk: Uint8Array) => void captured.push(chunk) } as unknown as ExchangeTap;
  const durable = Promise.withResolvers<void>();
  let ended = false;
  const body = await relayBody({
    exchange: fakeExchange(),
    body: ReadableStream.from(chunks),
    chain: NO_EVENT_HOOKS,
    parser: createResponseParser(api, "text/event-stream"),
    tap,
    idleTimeoutMs: 60_000,
    onEnd: () => {
      ended = true;
      return durable.promise;
    },
    holdEndUntilDurable: strict,
    onBytes() {},
    abortUpstream() {},
    clientGone: () => false,
  }, { upTo: 0, exact: false });
  assert.ok(body instanceof ReadableStream);
  const reader = body.getReader();
  const got: Uint8Array[] = [];
  let next = reader.read();
  // Read until a read no longer settles within a timer turn: the relay waits for `onEnd` (or is done).
  while (true) {
    const stalled = new Promise<"stalled">((resolve) => setTimeout(() => resolve("stalled"), 0));
    const result = await Promise.race([next, stalled]);
    if (result === "stalled" || result.done) break;
    got.push(result.value);
    next = reader.read();
  }
  assert.ok(ended, "the upstream's end reached onEnd");
  const beforeDurable = join(got);
  durable.resolve();
  for (let result = await next; !result.done; result = await reader.read()) got.push(result.value);
  return { beforeDurable, all: join(got), captured: join(captured) };
}

/** The chunks as text of one character per byte (latin1), so offsets are byte offsets. */
function join(chunks: Uint8Array[]): string {
  return chunks.map((chunk) => bytesText(chunk)).join("");
}

function bytesText(bytes: Uint8Array): string {
  return new TextDecoder("latin1").decode(bytes);
}

Deno.test("strict: the client gets everything before the final event at once and the final event once durable", async () => {
  const cases: [string, ApiName, string][] = [
    ["anthropic/text.sse", "anthropic.messages", "event: message_stop"],
    ["openai_chat/text_usage.sse", "openai.chat_completions", "data: [DONE]"],
  ];
  for (const [file, api, final] of cases) {
    const bytes = fixtureBytes(file);
    const text = bytesText(bytes);
    const start = text.lastIndexOf(final); // the fixtures end with their final event
    for (let cut = 1; cut < bytes.length; cut++) {
      const { beforeDurable, all, captured } = await relay(
        api,
        [bytes.subarray(0, cut), bytes.subarray(cut)],
        true,
      );
      // A cut inside the final event lets its head through (a client cannot use it without its end).
      const expected = text.slice(0, cut > start ? cut : start);
      if (beforeDurable !== expected) assert.equal(beforeDurable, expected, `${file} cut at ${cut}`);
      assert.equal(all, text, `${file} cut at ${cut}`);
      assert.equal(captured, text, `the record holds the final event too (${file} cut at ${cut})`);
    }
  }
});

Deno.test("batched: nothing waits for capture, not even the end of stream", async () => {
  const bytes = fixtureBytes("anthropic/text.sse");
  const { beforeDurable } = await relay(
    "anthropic.messages",
    [bytes.subarray(0, 100), bytes.subarray(100)],
    false,
  );
  assert.equal(beforeDurable, bytesText(bytes));
});
