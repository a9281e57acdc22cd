import assert from "node:assert/strict";
import { fixtureLines, parseFixture, responseOf, usageOf } from "./_testing.ts";
import { createResponseParser } from "./response_parser.ts";
import type { StreamEvent } from "./types.ts";

const SSE = "text/event-stream";
const API = "openai.responses";

Deno.test("a Responses text stream subtracts cached tokens from the input it reports", () => {
  const { result } = parseFixture("openai_responses/text.sse", API, SSE);
  assert.deepEqual(
    result,
    responseOf({
      id: "resp_67ccd2bed1ec8190",
      model: "gpt-4.1-2025-04-14",
      text: "Bonjour, ça va ? ✓",
      stopReason: "completed",
      usage: usageOf({ input: 2300 - 2048, cacheRead: 2048, output: 12 }),
    }),
  );
});

Deno.test("Responses reasoning summaries become thinking and reasoning tokens stay inside output", () => {
  const { result } = parseFixture("openai_responses/reasoning.sse", API, SSE);
  assert.equal(result.thinking, "**Checking the repo**\n\nI should list the files first.");
  assert.equal(result.text, "Done.");
  assert.equal(result.model, "gpt-5", "the model from response.created is kept");
  assert.deepEqual(result.usage, usageOf({ input: 2000, cacheRead: 6000, output: 900, reasoning: 768 }));
});

Deno.test("interleaved parallel function calls and a custom tool call are assembled by output index", () => {
  const { result } = parseFixture("openai_responses/function_calls_parallel.sse", API, SSE);
  assert.deepEqual(result.toolCalls, [
    { id: "call_A1", name: "exec_command", arguments: '{"cmd":"ls -la"}', server: false },
    { id: "call_B2", name: "exec_command", arguments: '{"cmd":"git status"}', server: false },
    {
      id: "call_C3",
      name: "apply_patch",
      arguments: "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch",
      server: false,
    },
  ]);
  assert.deepEqual(result.usage, usageOf({ input: 15000, output: 120, reasoning: 64 }));
  assert.equal(result.partial, false);
});

Deno.test("a web search call is a server-side tool carrying its action", () => {
  const { result } = parseFixture("openai_responses/web_search.sse", API, SSE);
  assert.deepEqual(result.toolCalls, [
    {
      id: "ws_01",
      name: "web_search",
      arguments: '{"type":"search","query":"deno 2 release"}',
      server: true,
    },
  ]);
  assert.equal(result.text, "Deno 2 shipped in October 2024.");
  assert.equal(result.warnings, undefined, "progress events are known, not warned about");
});

Deno.test("a refusal is kept apart from the text", () => {
  const { result } = parseFixture("openai_responses/refusal.sse", API, SSE);
  assert.equal(result.text, "");
  assert.equal(result.refusal, "I'm sorry, I can't assist with that.");
  assert.equal(result.partial, false);
});

Deno.test("response.failed records the provider's error and the result is partial", () => {
  const { result } = parseFixture("openai_responses/failed.sse", API, SSE);
  assert.deepEqual(result.errors, ["server_error: The server had an error while processing your request."]);
  assert.equal(result.stopReason, "failed");
  assert.equal(result.partial, true);
  assert.deepEqual(result.usage, usageOf({ output: Math.ceil("Partial answ".length / 4), estimated: true }));
});

Deno.test("an error event before any output gives an error and no usage", () => {
  const { result, events } = parseFixture("openai_responses/error_event.sse", API, SSE);
  assert.deepEqual(
    result,
    responseOf({
      id: "resp_err",
      model: "gpt-5",
      errors: [
        "rate_limit_exceeded: Rate limit reached for gpt-5 in organization org-x on tokens per min (TPM).",
      ],
      partial: true,
    }),
  );
  assert.equal(events.at(-1)?.type, "error");
});

Deno.test("response.incomplete is a complete answer whose stop reason says why it stopped", () => {
  const { result } = parseFixture("openai_responses/incomplete.sse", API, SSE);
  assert.equal(result.stopReason, "max_output_tokens");
  assert.equal(result.partial, false);
  assert.deepEqual(result.usage, usageOf({ input: 50, output: 256, reasoning: 250 }));
});

Deno.test("a truncated Responses stream keeps the partial tool arguments and estimates usage", () => {
  const { result } = parseFixture("openai_responses/truncated.sse", API, SSE);
  assert.deepEqual(result.toolCalls, [
    { id: "call_cut", name: "exec_command", arguments: '{"cmd":"rm -', server: false },
  ]);
  assert.equal(result.partial, true);
  assert.deepEqual(result.usage, usageOf({ output: Math.ceil('{"cmd":"rm -'.length / 4), estimated: true }));
});

Deno.test("a non-streaming Responses object is parsed whole", () => {
  const { result } = parseFixture("openai_responses/response.json", API, "application/json");
  assert.deepEqual(
    result,
    responseOf({
      id: "resp_json01",
      model: "gpt-5-mini-2025-08-07",
      text: "Running it.",
      thinking: "Think briefly.",
      toolCalls: [{ id: "call_json", name: "exec_command", arguments: '{"cmd":"make test"}', server: false }],
      stopReason: "completed",
      usage: usageOf({ input: 500, cacheRead: 500, output: 100, reasoning: 40 }),
    }),
  );
});

Deno.test("an OpenAI error body becomes an error with no usage", () => {
  const { result } = parseFixture("openai_responses/error.json", API, "application/json");
  assert.deepEqual(
    result,
    responseOf({ errors: ["rate_limit_exceeded: Rate limit reached for requests"], partial: true }),
  );
});

Deno.test("Responses WebSocket messages parse like the SSE events they mirror", () => {
  const lines = fixtureLines("openai_responses/ws_session.jsonl").slice(2);
  const parser = createResponseParser("openai.responses_ws", null);
  const events: StreamEvent[] = [];
  for (const line of lines) events.push(...(parser.pushMessage?.(line) ?? []));
  const result = parser.finish();
  assert.deepEqual(result.toolCalls, [
    { id: "call_ws", name: "exec_command", arguments: '{"cmd":"echo tool-ran"}', server: false },
  ]);
  assert.deepEqual(result.usage, usageOf({ input: 5000 - 4096, cacheRead: 4096, output: 30, reasoning: 12 }));
  assert.equal(result.partial, false);
  assert.deepEqual(events.map((e) => e.type), [
    "message_start",
    "tool_call_start",
    "tool_call_delta",
    "tool_call_end",
    "usage",
    "stop",
  ]);
});

Deno.test("a WebSocket message that is not JSON is reported without stopping the parser", () => {
  const parser = createResponseParser("openai.responses_ws", null);
  parser.pushMessage?.("not json");
  parser.pushMessage?.('{"type":"response.output_text.delta","output_index":0,"delta":"ok"}');
  const result = parser.finish();
  assert.equal(result.text, "ok");
  assert.equal(result.partial, true);
  assert.match(result.errors[0], /invalid JSON/);
});

Deno.test("one parser fed a whole WebSocket connection sums the turns' usage and keeps every tool call", () => {
  const lines = fixtureLines("openai_responses/ws_session.jsonl");
  const parser = createResponseParser("openai.responses_ws", null);
  const starts: (string | null)[] = [];
  for (const line of [...lines, ...lines.slice(2)]) {
    for (const event of parser.pushMessage?.(line) ?? []) {
      if (event.type === "message_start") starts.push(event.id);
    }
  }
  const result = parser.finish();
  assert.deepEqual(starts, ["resp_warm", "resp_turn", "resp_turn"]);
  assert.equal(result.id, "resp_warm");
  assert.equal(
    result.toolCalls.length,
    2,
    "the second turn's call at output_index 0 is not merged into the first's",
  );
  assert.deepEqual(result.usage, usageOf({ input: 2 * 904, cacheRead: 2 * 4096, output: 60, reasoning: 24 }));
  assert.equal(result.partial, false);
});

Deno.test("a connection that closes during a later turn is partial", () => {
  const lines = fixtureLines("openai_responses/ws_session.jsonl");
  const parser = createResponseParser("openai.responses_ws", null);
  for (const line of lines.slice(0, 4)) parser.pushMessage?.(line);
  const result = parser.finish();
  assert.equal(result.partial, true);
  assert.equal(result.usage?.estimated, true);
});
