import assert from "node:assert/strict";
import { fixtureBytes, parseBytes, RESPONSE_FIXTURES, responseOf, seededRandom } from "./_testing.ts";
import { createResponseParser } from "./response_parser.ts";

const encoder = new TextEncoder();

Deno.test("every fixture parses the same when split in two at every byte boundary", () => {
  for (const { file, api, contentType } of RESPONSE_FIXTURES) {
    const bytes = fixtureBytes(file);
    const whole = parseBytes(api, contentType, bytes);
    for (let cut = 1; cut < bytes.length; cut++) {
      const split = parseBytes(api, contentType, bytes, [cut]);
      if (!sameParse(split, whole)) {
        assert.deepEqual(split, whole, `${file} split at byte ${cut} of ${bytes.length}`);
      }
    }
  }
});

Deno.test("every fixture parses the same in random chunkings and one byte at a time", () => {
  const random = seededRandom(20261128);
  for (const { file, api, contentType } of RESPONSE_FIXTURES) {
    const bytes = fixtureBytes(file);
    const whole = parseBytes(api, contentType, bytes);
    const singleBytes = Array.from({ length: bytes.length }, (_, i) => i);
    assert.deepEqual(parseBytes(api, contentType, bytes, singleBytes), whole, `${file} fed byte by byte`);
    for (let round = 0; round < 40; round++) {
      const cuts: number[] = [];
      for (let at = Math.floor(random() * 40); at < bytes.length; at += 1 + Math.floor(random() * 64)) {
        cuts.push(at);
      }
      const chunked = parseBytes(api, contentType, bytes, cuts);
      if (!sameParse(chunked, whole)) assert.deepEqual(chunked, whole, `${file} cut at ${cuts.join(",")}`);
    }
  }
});

Deno.test("without a content type every fixture is framed by sniffing and parses the same", () => {
  for (const { file, api, contentType } of RESPONSE_FIXTURES) {
    const bytes = fixtureBytes(file);
    assert.deepEqual(parseBytes(api, null, bytes), parseBytes(api, contentType, bytes), file);
  }
});

Deno.test("a 10 MB tool argument in one SSE event is dropped and reported, and the stream goes on", () => {
  const huge = "x".repeat(10 * 1024 * 1024);
  const stream = anthropicToolStream([`{\\"content\\":\\"${huge}\\"}`]);
  const { result } = parseBytes(
    "anthropic.messages",
    "text/event-stream",
    stream,
    chunkCuts(stream.length, 65536),
  );
  assert.equal(result.partial, true);
  assert.equal(result.toolCalls.length, 1);
  assert.equal(result.toolCalls[0].arguments, "", "the oversized event is not kept");
  assert.ok(
    result.errors.some((e) => /SSE line longer than \d+ characters was dropped/.test(e)),
    result.errors.join(),
  );
  assert.equal(result.stopReason, "tool_use", "events after the oversized one are parsed");
  assert.equal(result.usage?.output, 4242);
});

Deno.test("a 10 MB tool argument in many deltas is kept up to the memory budget and flagged", () => {
  const piece = "y".repeat(10 * 1024);
  const deltas = Array.from({ length: 1024 }, () => piece);
  const stream = anthropicToolStream(deltas);
  const parser = createResponseParser("anthropic.messages", "text/event-stream");
  let deltaEvents = 0;
  for (let at = 0; at < stream.length; at += 65536) {
    deltaEvents += parser.push(stream.subarray(at, at + 65536)).filter((e) =>
      e.type === "tool_call_delta"
    ).length;
  }
  const result = parser.finish();
  assert.equal(deltaEvents, 1024, "policies still see every delta");
  assert.equal(result.toolCalls[0].arguments.length, 4 * 1024 * 1024);
  assert.equal(result.partial, true);
  assert.deepEqual(result.errors, ["response content exceeded the memory budget; the rest was not kept"]);
  assert.equal(result.usage?.output, 4242, "the reported usage is still read");
});

Deno.test("a line without an end is not buffered past the event bound", () => {
  const parser = createResponseParser("anthropic.messages", "text/event-stream", { maxEventChars: 1000 });
  parser.push(encoder.encode("data: " + "z".repeat(5000)));
  parser.push(encoder.encode("z".repeat(5000) + "\n\n"));
  parser.push(encoder.encode('event: message_stop\ndata: {"type":"message_stop"}\n\n'));
  const result = parser.finish();
  assert.equal(result.partial, true);
  assert.deepEqual(result.errors, ["SSE line longer than 1000 characters was dropped"]);
});

Deno.test("a JSON body larger than the event bound is dropped and reported", () => {
  const body = encoder.encode(`{"type":"message","content":[{"type":"text","text":"${"q".repeat(3000)}"}]}`);
  const { result } = parseBytes("anthropic.messages", "application/json", body, [1000, 2000], {
    maxEventChars: 1000,
  });
  assert.equal(result.text, "");
  assert.equal(result.partial, true);
  assert.ok(result.errors.some((e) => e.startsWith("JSON value longer than 1000")), result.errors.join());
});

Deno.test("random bytes and mutated fixtures never make a parser throw", () => {
  const random = seededRandom(7);
  for (const { file, api, contentType } of RESPONSE_FIXTURES) {
    const bytes = fixtureBytes(file).slice();
    for (let round = 0; round < 20; round++) {
      const mutated = bytes.slice();
      for (let flips = 0; flips < 8 && mutated.length > 0; flips++) {
        mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
      }
      const { result } = parseBytes(api, contentType, mutated, [Math.floor(random() * mutated.length)]);
      assert.equal(typeof result.partial, "boolean");
    }
  }
  const noise = Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256));
  for (
    const api of [
      "anthropic.messages",
      "openai.responses",
      "openai.chat_completions",
      "google.generate",
      "bedrock.invoke",
      "bedrock.invoke_stream",
      "bedrock.converse",
      "bedrock.converse_stream",
    ] as const
  ) {
    for (
      const type of ["text/event-stream", "application/json", "application/vnd.amazon.eventstream", null]
    ) {
      const { result } = parseBytes(api, type, noise, [100, 2000]);
      assert.equal(result.partial, true, `${api} ${type}`);
    }
  }
});

Deno.test("finish is idempotent and pushes after it are ignored", () => {
  const parser = createResponseParser("anthropic.messages", "text/event-stream");
  parser.push(fixtureBytes("anthropic/text.sse"));
  const first = parser.finish();
  assert.deepEqual(parser.push(encoder.encode("data: {}\n\n")), []);
  assert.equal(parser.finish(), first);
});

Deno.test("auxiliary APIs get a parser that accepts bytes and returns an empty, complete result", () => {
  const body = encoder.encode('{"input_tokens":7}');
  const { result, events } = parseBytes("anthropic.count_tokens", "application/json", body);
  assert.deepEqual(events, []);
  assert.deepEqual(result, responseOf({}));
});

Deno.test("the request size given to the parser becomes the input estimate when nothing is reported", () => {
  const { result } = parseBytes(
    "openai.responses",
    "text/event-stream",
    fixtureBytes("openai_responses/truncated.sse"),
    [],
    {
      requestChars: 4000,
    },
  );
  assert.equal(result.usage?.input, 1000);
  assert.equal(result.usage?.estimated, true);
});

/** An Anthropic stream with one tool call whose argument deltas are `deltas` (already JSON-escaped). */
function anthropicToolStream(deltas: string[]): Uint8Array {
  const parts = [
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_big","model":"claude-sonnet-4-5","usage":{"input_tokens":9,"output_tokens":1}}}\n\n',
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_big","name":"Write","input":{}}}\n\n',
    ...deltas.map((d) =>
      `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"${d}"}}\n\n`
    ),
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
    'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":4242}}\n\n',
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  ];
  return encoder.encode(parts.join(""));
}

function chunkCuts(length: number, size: number): number[] {
  const cuts: number[] = [];
  for (let at = size; at < length; at += size) cuts.push(at);
  return cuts;
}

/** Cheap equality first (the loops run thousands of times); deepEqual only to report a difference. */
function sameParse(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
