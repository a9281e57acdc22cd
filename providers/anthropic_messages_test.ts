import assert from "node:assert/strict";
import { parseFixture, responseOf as expected, usageOf as usage } from "./_testing.ts";

const SSE = "text/event-stream";

Deno.test("an Anthropic text stream keeps cache reads and both cache-write lifetimes apart", () => {
  const { result, events } = parseFixture("anthropic/text.sse", "anthropic.messages", SSE);
  assert.deepEqual(
    result,
    expected({
      id: "msg_01TextCache",
      model: "claude-sonnet-4-5-20250929",
      text: "Héllo — wörld 🌍 日本語",
      stopReason: "end_turn",
      usage: usage({ input: 21, cacheRead: 12000, cacheWrite5m: 1000, cacheWrite1h: 2000, output: 15 }),
    }),
  );
  assert.deepEqual(events.map((e) => e.type), [
    "message_start",
    "usage",
    "text_delta",
    "text_delta",
    "text_delta",
    "stop",
    "usage",
  ]);
});

Deno.test("an Anthropic thinking stream keeps thinking apart and counts a redacted block without its data", () => {
  const { result, events } = parseFixture("anthropic/thinking.sse", "anthropic.messages", SSE);
  assert.deepEqual(
    result,
    expected({
      id: "msg_01Thinking",
      model: "claude-3-7-sonnet-20250219",
      text: "27 × 453 = 12,231",
      thinking: "The user wants 27 * 453.\n27 * 453 = 12231.",
      stopReason: "end_turn",
      usage: usage({ input: 2048, output: 212 }),
      redactedThinkingBlocks: 1,
    }),
  );
  assert.deepEqual(events.find((e) => e.type === "thinking_delta" && e.redacted), {
    type: "thinking_delta",
    index: 1,
    text: "",
    redacted: true,
  });
});

Deno.test("an Anthropic stream with parallel tool calls assembles each call's arguments from its deltas", () => {
  const { result, events } = parseFixture("anthropic/tool_use_parallel.sse", "anthropic.messages", SSE);
  assert.deepEqual(result.toolCalls, [
    { id: "toolu_01A", name: "Bash", arguments: '{"command": "ls -la"}', server: false },
    { id: "toolu_01B", name: "Read", arguments: '{"file_path": "/tmp/ünïcode.txt"}', server: false },
    { id: "toolu_01C", name: "Grep", arguments: '{"pattern":"TODO","path":"src"}', server: false },
  ]);
  assert.equal(result.text, "I'll check all three.");
  assert.equal(result.stopReason, "tool_use");
  assert.deepEqual(result.usage, usage({ input: 472, output: 89 }));
  assert.deepEqual(
    events.filter((e) => e.type === "tool_call_end").map((e) => e.type === "tool_call_end" && e.id),
    [
      "toolu_01A",
      "toolu_01B",
      "toolu_01C",
    ],
  );
});

Deno.test("an Anthropic server tool call is marked server-side and message_delta usage replaces message_start's", () => {
  const { result } = parseFixture("anthropic/server_tool.sse", "anthropic.messages", SSE);
  assert.deepEqual(result.toolCalls, [
    {
      id: "srvtoolu_014hJH82Qum7Td6UV8gDXThB",
      name: "web_search",
      arguments: '{"query":"weather NYC today"}',
      server: true,
    },
  ]);
  assert.equal(result.text, "It is sunny");
  assert.deepEqual(result.usage, usage({ input: 10682, output: 510 }));
  assert.equal(result.warnings, undefined);
});

Deno.test("an overloaded_error right after message_start is a partial result with no billable usage", () => {
  const { result, events } = parseFixture("anthropic/overloaded_error.sse", "anthropic.messages", SSE);
  assert.deepEqual(
    result,
    expected({
      id: "msg_01Overloaded",
      model: "claude-sonnet-4-5",
      errors: ["overloaded_error: Overloaded"],
      partial: true,
    }),
  );
  assert.deepEqual(events.at(-1), { type: "error", errorType: "overloaded_error", message: "Overloaded" });
});

Deno.test("an error mid-stream keeps what was generated and estimates the output it cut short", () => {
  const { result } = parseFixture("anthropic/error_midstream.sse", "anthropic.messages", SSE);
  const text = "Let me write the file now, it will contain the whole module and";
  const args = '{"file_path":"a.ts","content":"export';
  assert.equal(result.text, text);
  assert.deepEqual(result.toolCalls, [{ id: "toolu_01Cut", name: "Write", arguments: args, server: false }]);
  assert.deepEqual(result.errors, ["api_error: Internal server error"]);
  assert.equal(result.partial, true);
  assert.deepEqual(
    result.usage,
    usage({ input: 100, output: Math.ceil((text.length + args.length) / 4), estimated: true }),
  );
});

Deno.test("a refusal is an ordinary stop reason", () => {
  const { result } = parseFixture("anthropic/refusal.sse", "anthropic.messages", SSE);
  assert.equal(result.stopReason, "refusal");
  assert.equal(result.text, "I can't help with that.");
  assert.equal(result.partial, false);
});

Deno.test("an empty stream is partial with an estimated zero usage", () => {
  const { result, events } = parseFixture("anthropic/empty.sse", "anthropic.messages", SSE);
  assert.deepEqual(
    result,
    expected({
      usage: usage({ estimated: true }),
      errors: ["stream ended before its terminal event"],
      partial: true,
    }),
  );
  assert.deepEqual(events, []);
});

Deno.test("a stream cut inside an event keeps the reported prompt counts and estimates the output", () => {
  const { result } = parseFixture("anthropic/truncated.sse", "anthropic.messages", SSE);
  assert.equal(result.text, "This answer is forty characters long....");
  assert.deepEqual(result.usage, usage({ input: 500, cacheRead: 200, output: 10, estimated: true }));
  assert.equal(result.partial, true);
  assert.equal(result.errors.length, 2);
  assert.match(result.errors[0], /content_block_delta" has invalid JSON/);
  assert.equal(result.errors[1], "stream ended before its terminal event");
});

Deno.test("unknown event, block and delta types are ignored with warnings and do not make the result partial", () => {
  const { result } = parseFixture("anthropic/unknown_events.sse", "anthropic.messages", SSE);
  assert.equal(result.text, "still parsed");
  assert.equal(result.partial, false);
  assert.deepEqual(result.warnings, [
    'unknown Anthropic content block type "hologram"',
    'unknown Anthropic delta type "hologram_delta"',
    'unknown Anthropic event type "future_event"',
  ]);
});

Deno.test("an event with invalid JSON is skipped, reported, and the rest of the stream still parses", () => {
  const { result } = parseFixture("anthropic/bad_json.sse", "anthropic.messages", SSE);
  assert.equal(result.text, "good end");
  assert.equal(result.partial, true);
  assert.deepEqual(result.usage, usage({ input: 10, output: 3 }));
  assert.equal(result.errors.length, 1);
  assert.match(result.errors[0], /^event "content_block_delta" has invalid JSON \(\d+ characters\)$/);
});

Deno.test("a non-streaming Anthropic message is parsed whole, with a 1-hour cache write", () => {
  const { result, events } = parseFixture("anthropic/message.json", "anthropic.messages", "application/json");
  assert.deepEqual(
    result,
    expected({
      id: "msg_01NonStream",
      model: "claude-sonnet-4-5-20250929",
      text: "Listing files.",
      thinking: "Need the file list first.",
      toolCalls: [{
        id: "toolu_01NS",
        name: "Bash",
        arguments: '{"command":"ls","description":"List"}',
        server: false,
      }],
      stopReason: "tool_use",
      usage: usage({ input: 5, cacheRead: 30000, cacheWrite1h: 120, output: 64 }),
    }),
  );
  assert.ok(events.some((e) => e.type === "tool_call_end"), "events are emitted for a JSON body too");
});

Deno.test("an Anthropic error body becomes an error with no usage", () => {
  const { result } = parseFixture("anthropic/error.json", "anthropic.messages", "application/json");
  assert.deepEqual(result, expected({ errors: ["overloaded_error: Overloaded"], partial: true }));
});
