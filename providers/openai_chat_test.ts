import assert from "node:assert/strict";
import { parseFixture, responseOf, usageOf } from "./_testing.ts";

const SSE = "text/event-stream";
const API = "openai.chat_completions";

Deno.test("a Chat Completions stream takes usage from its last, choice-less chunk", () => {
  const { result } = parseFixture("openai_chat/text_usage.sse", API, SSE);
  assert.deepEqual(
    result,
    responseOf({
      id: "chatcmpl-B1",
      model: "gpt-4o-mini-2024-07-18",
      text: "Grüße aus 🇩🇪",
      stopReason: "stop",
      usage: usageOf({ input: 1500 - 1280, cacheRead: 1280, output: 8 }),
    }),
  );
});

Deno.test("parallel Chat tool calls are assembled by their index", () => {
  const { result, events } = parseFixture("openai_chat/tool_calls_parallel.sse", API, SSE);
  assert.deepEqual(result.toolCalls, [
    { id: "call_w1", name: "get_weather", arguments: '{"city":"Paris"}', server: false },
    { id: "call_w2", name: "get_weather", arguments: '{"city":"Tōkyō"}', server: false },
    { id: "call_t3", name: "get_time", arguments: "{}", server: false },
  ]);
  assert.equal(result.stopReason, "tool_calls");
  assert.deepEqual(result.usage, usageOf({ input: 90, output: 60 }));
  assert.equal(events.filter((e) => e.type === "tool_call_end").length, 3);
});

Deno.test("a Chat refusal is kept apart from the text", () => {
  const { result } = parseFixture("openai_chat/refusal.sse", API, SSE);
  assert.equal(result.refusal, "I can't help with that.");
  assert.equal(result.text, "");
});

Deno.test("an error chunk mid-stream ends the Chat response as partial", () => {
  const { result } = parseFixture("openai_chat/error_midstream.sse", API, SSE);
  assert.equal(result.text, "Starting");
  assert.deepEqual(result.errors, [
    "server_error: The server had an error while processing your request. Sorry about that!",
  ]);
  assert.equal(result.partial, true);
});

Deno.test("a Chat stream without include_usage gets an estimated usage, marked as such", () => {
  const { result } = parseFixture("openai_chat/no_usage.sse", API, SSE);
  assert.equal(result.partial, false);
  assert.deepEqual(result.usage, usageOf({ output: 10, estimated: true }));
});

Deno.test("a non-streaming chat.completion with two tool calls and reasoning tokens", () => {
  const { result } = parseFixture("openai_chat/completion.json", API, "application/json");
  assert.deepEqual(
    result,
    responseOf({
      id: "chatcmpl-J1",
      model: "o3-2025-04-16",
      toolCalls: [
        { id: "call_j1", name: "read_file", arguments: '{"path":"README.md"}', server: false },
        { id: "call_j2", name: "read_file", arguments: '{"path":"deno.json"}', server: false },
      ],
      stopReason: "tool_calls",
      usage: usageOf({ input: 272, cacheRead: 128, output: 300, reasoning: 256 }),
    }),
  );
});
