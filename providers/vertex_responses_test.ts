/**
 * Vertex AI serves Claude in Anthropic's Messages format and Gemini in Google's, with Vertex's own additions:
 * Google's error envelope for failures of Vertex itself (also on Claude requests) and extra usage fields.
 * These fixtures are also in `RESPONSE_FIXTURES`, so the byte-boundary property tests cut them everywhere.
 */
import assert from "node:assert/strict";
import { fixtureBytes, parseBytes, parseFixture, seededRandom, usageOf } from "./_testing.ts";

const SSE = "text/event-stream";

Deno.test("a Claude stream from streamRawPredict keeps cache reads and writes apart with exact tokens", () => {
  const { result } = parseFixture("vertex/claude_stream.sse", "anthropic.messages", SSE);
  assert.equal(result.text, "Hello from Vertex AI.");
  assert.equal(result.model, "claude-sonnet-4-5-20250929");
  assert.equal(result.stopReason, "end_turn");
  assert.equal(result.partial, false);
  assert.deepEqual(result.usage, usageOf({ input: 12, cacheRead: 20480, cacheWrite5m: 1800, output: 9 }));
});

Deno.test("Vertex's own error envelope on a Claude request is an error named by its status, with no usage", () => {
  const { result } = parseFixture("vertex/claude_quota_error.json", "anthropic.messages", "application/json");
  assert.equal(result.errors.length, 1);
  assert.match(result.errors[0], /^RESOURCE_EXHAUSTED: Quota exceeded for aiplatform\.googleapis\.com/);
  assert.equal(result.usage, null);
  assert.equal(result.partial, true);
});

Deno.test("a Vertex Gemini stream: cached and thought tokens apart, Vertex's extra usage fields ignored", () => {
  const { result } = parseFixture("vertex/gemini_stream.sse", "google.stream_generate", SSE);
  assert.equal(result.text, "Hello from Vertex AI.");
  assert.equal(result.stopReason, "STOP");
  assert.equal(result.warnings, undefined);
  assert.deepEqual(
    result.usage,
    usageOf({ input: 1523 - 1024, cacheRead: 1024, output: 6 + 38, reasoning: 38 }),
  );
});

Deno.test("Vertex responses parse the same however their bytes are chunked (random cuts, seeded)", () => {
  const cases = [
    ["vertex/claude_stream.sse", "anthropic.messages", SSE],
    ["vertex/claude_quota_error.json", "anthropic.messages", "application/json"],
    ["vertex/gemini_stream.sse", "google.stream_generate", SSE],
  ] as const;
  for (const [file, api, contentType] of cases) {
    const bytes = fixtureBytes(file);
    const whole = parseBytes(api, contentType, bytes);
    for (let seed = 1; seed <= 200; seed++) {
      const random = seededRandom(seed);
      const cuts: number[] = [];
      for (let at = 0; at < bytes.length;) {
        at += 1 + Math.floor(random() * 17);
        if (at < bytes.length) cuts.push(at);
      }
      assert.deepEqual(parseBytes(api, contentType, bytes, cuts), whole, `${file} seed ${seed}`);
    }
  }
});
