import assert from "node:assert/strict";
import { usageOf } from "./_testing.ts";
import { estimateRequestCostCeiling } from "./cost_ceiling.ts";

const AT = new Date("2026-01-15T12:00:00Z");

function near(actual: number | null | undefined, expected: number): void {
  assert.ok(
    actual !== null && actual !== undefined && Math.abs(actual - expected) < 1e-9,
    `${actual} ≠ ${expected}`,
  );
}

Deno.test("a cost ceiling prices the body size as input and the request's output limit", () => {
  const ceiling = estimateRequestCostCeiling({
    provider: "anthropic",
    model: "claude-sonnet-4-5",
    requestBytes: 400_000,
    maxOutputTokens: 32_000,
    at: AT,
  });
  assert.deepEqual(ceiling.usage, usageOf({ input: 100_000, output: 32_000, estimated: true }));
  near(ceiling.usd, (100_000 * 3 + 32_000 * 15) / 1e6);
  const defaulted = estimateRequestCostCeiling({
    provider: "openai",
    model: "gpt-5",
    requestBytes: 0,
    maxOutputTokens: null,
    at: AT,
    outputCeiling: 1000,
  });
  near(defaulted.usd, 1000 * 10 / 1e6);
  assert.equal(
    estimateRequestCostCeiling({
      provider: "openai",
      model: "mystery",
      requestBytes: 1,
      maxOutputTokens: 1,
      at: AT,
    })
      .unpriced,
    true,
  );
});
