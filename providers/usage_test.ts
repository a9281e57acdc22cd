import assert from "node:assert/strict";
import { usageOf } from "./_testing.ts";
import {
  anthropicUsage,
  estimateUsage,
  geminiUsage,
  mergeUsageReport,
  openaiChatUsage,
  openaiResponsesUsage,
  promptTokens,
  settleUsage,
} from "./usage.ts";

Deno.test("Anthropic input_tokens excludes cache reads and writes, so they are not subtracted", () => {
  const usage = anthropicUsage({
    input_tokens: 50,
    cache_read_input_tokens: 1000,
    cache_creation_input_tokens: 300,
    cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 },
    output_tokens: 40,
  });
  assert.deepEqual(
    usage,
    usageOf({ input: 50, cacheRead: 1000, cacheWrite5m: 100, cacheWrite1h: 200, output: 40 }),
  );
  assert.equal(promptTokens(usage), 1350);
});

Deno.test("Anthropic cache writes without the lifetime split are 5-minute writes", () => {
  assert.deepEqual(
    anthropicUsage({ input_tokens: 1, cache_creation_input_tokens: 700, output_tokens: 2 }),
    usageOf({ input: 1, cacheWrite5m: 700, output: 2 }),
  );
});

Deno.test("OpenAI prompt counts include cached tokens, which are moved to cacheRead", () => {
  assert.deepEqual(
    openaiResponsesUsage({
      input_tokens: 10_000,
      input_tokens_details: { cached_tokens: 8_000 },
      output_tokens: 900,
      output_tokens_details: { reasoning_tokens: 700 },
    }),
    usageOf({ input: 2_000, cacheRead: 8_000, output: 900, reasoning: 700 }),
  );
  assert.deepEqual(
    openaiChatUsage({
      prompt_tokens: 300,
      completion_tokens: 20,
      prompt_tokens_details: { cached_tokens: 256 },
      completion_tokens_details: { reasoning_tokens: 5 },
    }),
    usageOf({ input: 44, cacheRead: 256, output: 20, reasoning: 5 }),
  );
});

Deno.test("OpenRouter's cache writes, inside the prompt count, are moved to cacheWrite5m", () => {
  // As OpenRouter's usage-accounting docs show them (a Claude model behind its Chat Completions API).
  assert.deepEqual(
    openaiChatUsage({
      prompt_tokens: 2_194,
      completion_tokens: 2,
      prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 2_000, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    }),
    usageOf({ input: 194, cacheWrite5m: 2_000, output: 2 }),
  );
  assert.deepEqual(
    openaiResponsesUsage({
      input_tokens: 5_000,
      input_tokens_details: { cached_tokens: 3_000, cache_write_tokens: 1_500 },
      output_tokens: 40,
    }),
    usageOf({ input: 500, cacheRead: 3_000, cacheWrite5m: 1_500, output: 40 }),
  );
});

Deno.test("Gemini thoughts are output (not part of candidates) and tool-use prompt tokens are input", () => {
  assert.deepEqual(
    geminiUsage({
      promptTokenCount: 5_000,
      cachedContentTokenCount: 4_000,
      candidatesTokenCount: 100,
      thoughtsTokenCount: 400,
      toolUsePromptTokenCount: 30,
      totalTokenCount: 5_530,
    }),
    usageOf({ input: 1_030, cacheRead: 4_000, output: 500, reasoning: 400 }),
  );
});

Deno.test("a later cumulative report replaces the fields it states and never adds", () => {
  const start = { input_tokens: 25, cache_read_input_tokens: 10, output_tokens: 1 };
  const merged = mergeUsageReport(mergeUsageReport(null, start), { output_tokens: 52, input_tokens: null });
  assert.deepEqual(merged, { input_tokens: 25, cache_read_input_tokens: 10, output_tokens: 52 });
  assert.deepEqual(mergeUsageReport(merged, { output_tokens: 60 }).output_tokens, 60);
});

Deno.test("inconsistent or malformed counts never go negative", () => {
  assert.deepEqual(
    openaiResponsesUsage({ input_tokens: 5, input_tokens_details: { cached_tokens: 9 }, output_tokens: "7" }),
    usageOf({ input: 0, cacheRead: 9, output: 0 }),
  );
  assert.deepEqual(geminiUsage({ promptTokenCount: -3, candidatesTokenCount: Number.NaN }), usageOf({}));
});

Deno.test("estimates are four characters per token, rounded up, and marked estimated", () => {
  assert.deepEqual(
    estimateUsage({ inputChars: 4001, outputChars: 40, reasoningChars: 12 }),
    usageOf({ input: 1001, output: 10, reasoning: 3, estimated: true }),
  );
});

Deno.test("settling usage: a final report stands, a failure that generated nothing bills nothing", () => {
  const reported = usageOf({ input: 10, output: 2 });
  const end = { final: true, failed: false, requestChars: 4000, outputChars: 400, thinkingChars: 0 };
  assert.equal(settleUsage(reported, end), reported);
  assert.equal(settleUsage(reported, { ...end, final: false, failed: true, outputChars: 0 }), null);
  assert.equal(settleUsage(null, { ...end, final: false, failed: true, outputChars: 0 }), null);
});

Deno.test("settling usage: a provisional report keeps its prompt counts and takes the larger output", () => {
  const provisional = usageOf({ input: 10, cacheRead: 90, output: 1 });
  const end = { final: false, failed: false, requestChars: 4000, outputChars: 400, thinkingChars: 40 };
  assert.deepEqual(
    settleUsage(provisional, end),
    usageOf({ input: 10, cacheRead: 90, output: 100, reasoning: 10, estimated: true }),
  );
  assert.deepEqual(
    settleUsage(null, end),
    usageOf({ input: 1000, output: 100, reasoning: 10, estimated: true }),
  );
});
