import assert from "node:assert/strict";
import { parseFixture, responseOf, usageOf } from "./_testing.ts";

const SSE = "text/event-stream";
const JSON_TYPE = "application/json";

Deno.test("a Gemini stream with CRLF framing counts thoughts as output and cached tokens apart", () => {
  const { result } = parseFixture("google/text.sse", "google.stream_generate", SSE);
  assert.deepEqual(
    result,
    responseOf({
      id: "g-text-1",
      model: "gemini-2.5-flash",
      text: "Hola, ¿qué tal? 👋",
      stopReason: "STOP",
      usage: usageOf({ input: 40000 - 32000, cacheRead: 32000, output: 9 + 120, reasoning: 120 }),
    }),
  );
});

Deno.test("Gemini thought parts are thinking, not text", () => {
  const { result } = parseFixture("google/thinking.sse", "google.stream_generate", SSE);
  assert.equal(result.thinking, "**Planning the listing**\n\nI will list the directory.");
  assert.equal(result.text, "Listing now.");
  assert.deepEqual(result.usage, usageOf({ input: 9000, output: 183, reasoning: 180 }));
});

Deno.test("parallel Gemini function calls each get an id, and tool-use prompt tokens are input", () => {
  const { result } = parseFixture("google/function_calls_parallel.sse", "google.stream_generate", SSE);
  assert.deepEqual(result.toolCalls, [
    { id: "read_file#0", name: "read_file", arguments: '{"absolute_path":"/p/a.ts"}', server: false },
    { id: "fc-b", name: "read_file", arguments: '{"absolute_path":"/p/b.ts"}', server: false },
    { id: "list_directory#2", name: "list_directory", arguments: '{"dir_path":"."}', server: false },
  ]);
  assert.deepEqual(result.usage, usageOf({ input: 7000 + 25, output: 60 }));
});

Deno.test("a blocked prompt is a complete response whose stop reason names the block", () => {
  const { result } = parseFixture("google/safety_block.sse", "google.stream_generate", SSE);
  assert.equal(result.stopReason, "prompt_blocked:SAFETY");
  assert.equal(result.partial, false);
  assert.deepEqual(result.usage, usageOf({ input: 33 }));
});

Deno.test("a SAFETY finish reason keeps the text produced before it", () => {
  const { result } = parseFixture("google/finish_safety.sse", "google.stream_generate", SSE);
  assert.equal(result.stopReason, "SAFETY");
  assert.equal(result.text, "I started to");
  assert.deepEqual(result.usage, usageOf({ input: 20, output: 4 }));
});

Deno.test("a Gemini error chunk mid-stream makes the result partial and names the status", () => {
  const { result } = parseFixture("google/error_midstream.sse", "google.stream_generate", SSE);
  assert.deepEqual(result.errors, ["UNAVAILABLE: The model is overloaded. Please try again later."]);
  assert.equal(result.partial, true);
  assert.deepEqual(
    result.usage,
    usageOf({ input: 300, output: Math.ceil("Working on ".length / 4), estimated: true }),
  );
});

Deno.test("a truncated Gemini stream keeps its text and its provisional prompt count", () => {
  const { result } = parseFixture("google/truncated.sse", "google.stream_generate", SSE);
  assert.equal(result.text, "Twenty characters!! ");
  assert.equal(result.partial, true);
  assert.deepEqual(result.usage, usageOf({ input: 1200, output: 5, estimated: true }));
});

Deno.test("a non-streaming generateContent body is parsed when its last brace arrives", () => {
  const { result } = parseFixture("google/generate.json", "google.generate", JSON_TYPE);
  assert.deepEqual(
    result,
    responseOf({
      id: "g-json-1",
      model: "gemini-2.5-pro",
      text: '{"complexity_reasoning":"simple","complexity_score":10}',
      stopReason: "STOP",
      usage: usageOf({ input: 250000, output: 20 }),
    }),
  );
});

Deno.test("streamGenerateContent without alt=sse streams a JSON array whose elements are parsed one by one", () => {
  const { result, events } = parseFixture("google/stream_array.json", "google.stream_generate", JSON_TYPE);
  assert.equal(result.text, 'Array stream [ok] {fine} "quoted"');
  assert.equal(result.partial, false);
  assert.deepEqual(result.usage, usageOf({ input: 10, output: 8 }));
  assert.equal(events.filter((e) => e.type === "text_delta").length, 2);
});

Deno.test("a Gemini error body becomes an error with no usage", () => {
  const { result } = parseFixture("google/error.json", "google.generate", JSON_TYPE);
  assert.deepEqual(
    result,
    responseOf({
      errors: ["RESOURCE_EXHAUSTED: Resource has been exhausted (e.g. check quota)."],
      partial: true,
    }),
  );
});

Deno.test("Code Assist's { response, traceId } wrapping is unwrapped", () => {
  const { result } = parseFixture("google/code_assist.sse", "google.code_assist_stream_generate", SSE);
  assert.deepEqual(
    result,
    responseOf({
      id: "ca-resp-1",
      model: "gemini-2.5-pro",
      text: "Code Assist ",
      toolCalls: [{
        id: "run_shell_command#0",
        name: "run_shell_command",
        arguments: '{"command":"ls"}',
        server: false,
      }],
      stopReason: "STOP",
      usage: usageOf({ input: 4000, cacheRead: 8000, output: 130, reasoning: 100 }),
    }),
  );
});

Deno.test("a non-streaming Code Assist body falls back to the trace id for the response id", () => {
  const { result } = parseFixture(
    "google/code_assist_generate.json",
    "google.code_assist_generate",
    JSON_TYPE,
  );
  assert.equal(result.id, "trace-ca-2");
  assert.equal(result.text, "fixed");
  assert.deepEqual(result.usage, usageOf({ input: 100, output: 2 }));
});
