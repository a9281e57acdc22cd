import assert from "node:assert/strict";
import { providerErrorBody } from "./errors.ts";

Deno.test("a 400 block reads as a bad request in every provider's format", () => {
  assert.deepEqual(providerErrorBody("anthropic", 400, "blocked", "no"), {
    type: "error",
    error: { type: "invalid_request_error", message: "no" },
  });
  assert.deepEqual(providerErrorBody("google", 400, "blocked", "no"), {
    error: { code: 400, message: "no", status: "INVALID_ARGUMENT" },
  });
  assert.equal(
    (providerErrorBody("openai", 400, "blocked", "no").error as { type: string }).type,
    "invalid_request_error",
  );
});

Deno.test("a 403 block reads as a permission error, a 429 as a rate limit", () => {
  assert.equal(
    (providerErrorBody("anthropic", 403, "blocked", "no").error as { type: string }).type,
    "permission_error",
  );
  assert.equal(
    (providerErrorBody("google", 403, "blocked", "no").error as { status: string }).status,
    "PERMISSION_DENIED",
  );
  assert.equal(
    (providerErrorBody("anthropic", 429, "rate_limited", "slow").error as { type: string }).type,
    "rate_limit_error",
  );
  assert.equal(
    (providerErrorBody("google", 429, "rate_limited", "slow").error as { status: string }).status,
    "RESOURCE_EXHAUSTED",
  );
  assert.equal(
    (providerErrorBody("openai", 429, "rate_limited", "slow").error as { code: string }).code,
    "rate_limited",
  );
});

Deno.test("Azure errors take OpenAI's shape; OpenRouter's carry the HTTP status as a numeric code", () => {
  assert.deepEqual(providerErrorBody("azure", 400, "blocked", "no"), {
    error: { message: "no", type: "invalid_request_error", param: null, code: "blocked" },
  });
  assert.deepEqual(providerErrorBody("openrouter", 400, "blocked", "no"), {
    error: { code: 400, message: "no", metadata: { recondo_error: "blocked" } },
  });
});
