import assert from "node:assert/strict";
import { parseFixture, responseOf, usageOf } from "./_testing.ts";

const SSE = "text/event-stream";

Deno.test("an Azure Chat stream takes its model from the chunks after the empty prompt-filter chunk", () => {
  const { result, events } = parseFixture("azure/chat_content_filter.sse", "openai.chat_completions", SSE);
  assert.deepEqual(
    result,
    responseOf({
      id: "chatcmpl-AZ1",
      model: "gpt-4o-2024-11-20",
      text: "Bonjour, Zürich ☕",
      stopReason: "stop",
      usage: usageOf({ input: 2100 - 1920, cacheRead: 1920, output: 6 }),
    }),
  );
  assert.equal(events.filter((e) => e.type === "message_start").length, 1);
});

Deno.test("an OpenRouter Chat stream keeps its vendor/model id, reasoning and the cost it reported", () => {
  const { result } = parseFixture("openrouter/chat_cost.sse", "openai.chat_completions", SSE);
  assert.deepEqual(
    result,
    responseOf({
      id: "gen-1764979200-OR1",
      model: "anthropic/claude-sonnet-4.5",
      text: "Hello from Kraków 👋",
      thinking: "The user wants a greeting.",
      stopReason: "stop",
      usage: usageOf({ input: 200, cacheRead: 3000, output: 40, reasoning: 12 }),
      providerCostUsd: 0.010188,
    }),
  );
});

Deno.test("an OpenRouter chat.completion body carries its cost beside a tool call", () => {
  const { result } = parseFixture(
    "openrouter/completion_cost.json",
    "openai.chat_completions",
    "application/json",
  );
  assert.equal(result.model, "openai/gpt-5");
  assert.deepEqual(result.toolCalls, [
    { id: "call_or1", name: "read_file", arguments: '{"path":"README.md"}', server: false },
  ]);
  assert.deepEqual(result.usage, usageOf({ input: 900, output: 250, reasoning: 192 }));
  assert.equal(result.providerCostUsd, 0.0036);
});

Deno.test("an OpenRouter Responses stream reports its cost in response.completed", () => {
  const { result } = parseFixture("openrouter/responses_cost.sse", "openai.responses", SSE);
  assert.equal(result.text, "Grüezi mitenand 🏔");
  assert.equal(result.model, "openai/gpt-5");
  assert.deepEqual(result.usage, usageOf({ input: 176, cacheRead: 1024, output: 80, reasoning: 64 }));
  assert.equal(result.providerCostUsd, 0.00104);
  assert.equal(result.partial, false);
});

Deno.test("a response without a reported cost has no providerCostUsd", () => {
  const { result } = parseFixture("openai_chat/text_usage.sse", "openai.chat_completions", SSE);
  assert.equal("providerCostUsd" in result, false);
});
