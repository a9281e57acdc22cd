import assert from "node:assert/strict";
import { calcPrice } from "@pydantic/genai-prices";
import { usageOf } from "./_testing.ts";
import { createPriceOverrides } from "./price_overrides.ts";
import { normalizeModel, PRICE_DATA_VERSION, priceUsage, vendorModel } from "./pricing.ts";
import { openaiResponsesUsage } from "./usage.ts";

const AT = new Date("2026-01-15T12:00:00Z");

/** Costs are sums of products of decimals; compare them to a micro-cent. */
function near(actual: number | null | undefined, expected: number, message?: string): void {
  assert.ok(
    actual !== null && actual !== undefined && Math.abs(actual - expected) < 1e-9,
    `${message ?? ""} ${actual} ≠ ${expected}`,
  );
}

Deno.test("Claude Sonnet 4.5 prices cache reads and 5-minute and 1-hour writes at their own rates", () => {
  // Public rates per Mtok: input $3, cache read $0.30, 5-minute write $3.75, 1-hour write $6, output $15.
  const usage = usageOf({
    input: 1000,
    cacheRead: 10_000,
    cacheWrite5m: 2000,
    cacheWrite1h: 1000,
    output: 500,
  });
  const cost = priceUsage("anthropic", "claude-sonnet-4-5-20250929", usage, AT);
  near(cost.usd, (1000 * 3 + 10_000 * 0.3 + 2000 * 3.75 + 1000 * 6 + 500 * 15) / 1e6);
  assert.equal(cost.unpriced, false);
  assert.equal(cost.priceVersion, PRICE_DATA_VERSION);
  assert.equal(cost.pricedAs, "claude-sonnet-4-5");
  near(cost.breakdown?.cacheWrite1h, 1000 * 6 / 1e6, "1-hour writes");
  near(cost.breakdown?.cacheWrite5m, 2000 * 3.75 / 1e6, "5-minute writes");
  near(cost.breakdown?.cacheRead, 10_000 * 0.3 / 1e6, "cache reads");
  assert.equal(cost.breakdown?.other, 0);
});

Deno.test("a prompt over 200k tokens, cache reads included, moves every rate to the long-context tier", () => {
  const long = priceUsage(
    "anthropic",
    "claude-sonnet-4-5",
    usageOf({ input: 50_000, cacheRead: 200_000, output: 1000 }),
    AT,
  );
  near(long.usd, (50_000 * 6 + 200_000 * 0.6 + 1000 * 22.5) / 1e6);
  const short = priceUsage(
    "anthropic",
    "claude-sonnet-4-5",
    usageOf({ input: 50_000, cacheRead: 150_000, output: 1000 }),
    AT,
  );
  near(short.usd, (50_000 * 3 + 150_000 * 0.3 + 1000 * 15) / 1e6);
  const gemini = priceUsage("google", "gemini-2.5-pro", usageOf({ input: 250_000, output: 20 }), AT);
  near(gemini.usd, (250_000 * 2.5 + 20 * 15) / 1e6, "Gemini 2.5 Pro over 200k");
});

Deno.test("OpenAI cached tokens are billed once, at the cached rate", () => {
  const usage = openaiResponsesUsage({
    input_tokens: 10_000,
    input_tokens_details: { cached_tokens: 8_000 },
    output_tokens: 1000,
    output_tokens_details: { reasoning_tokens: 600 },
  });
  // gpt-5: input $1.25, cached input $0.125, output (reasoning included) $10.
  near(priceUsage("openai", "gpt-5", usage, AT).usd, (2000 * 1.25 + 8000 * 0.125 + 1000 * 10) / 1e6);
});

Deno.test("gpt-4.1 is priced as gpt-4.1, not as gpt-4", () => {
  const million = usageOf({ input: 1_000_000 });
  near(priceUsage("openai", "gpt-4.1-2025-04-14", million, AT).usd, 2);
  near(priceUsage("openai", "gpt-4", million, AT).usd, 30);
});

Deno.test("the price in force at the turn's time is used", () => {
  // Claude Sonnet 4.6 dropped its long-context tier on 2026-03-13.
  const usage = usageOf({ input: 300_000, output: 1000 });
  near(
    priceUsage("anthropic", "claude-sonnet-4-6", usage, new Date("2026-03-01")).usd,
    (300_000 * 6 + 1000 * 22.5) / 1e6,
  );
  near(
    priceUsage("anthropic", "claude-sonnet-4-6", usage, new Date("2026-04-01")).usd,
    (300_000 * 3 + 1000 * 15) / 1e6,
  );
});

Deno.test("an unknown model is unpriced with a reason, never a silent zero", () => {
  const cost = priceUsage("anthropic", "claude-nonexistent-9", usageOf({ input: 10, output: 10 }), AT);
  assert.deepEqual(
    { usd: cost.usd, unpriced: cost.unpriced, breakdown: cost.breakdown },
    { usd: null, unpriced: true, breakdown: null },
  );
  assert.match(cost.reason ?? "", /no price for model "claude-nonexistent-9"/);
  assert.equal(priceUsage("openai", null, usageOf({ input: 1 }), AT).unpriced, true);
});

Deno.test("model ids from Gemini paths, Vertex and Bedrock are priced as the dataset's ids", () => {
  assert.equal(normalizeModel("models/gemini-2.5-pro"), "gemini-2.5-pro");
  assert.equal(normalizeModel("claude-sonnet-4-5@20250929"), "claude-sonnet-4-5-20250929");
  assert.equal(normalizeModel("us.anthropic.claude-sonnet-4-5-20250929-v1:0"), "claude-sonnet-4-5-20250929");
  assert.equal(normalizeModel("deepseek-v3"), "deepseek-v3");
  assert.equal(
    priceUsage("google", "models/gemini-2.5-flash", usageOf({ input: 1 }), AT).pricedAs,
    "gemini-2.5-flash",
  );
});

Deno.test("Vertex AI's Claude ids (model@date) are priced as the dataset's models", () => {
  const usage = usageOf({ input: 1000, output: 100 });
  for (
    const [vertexId, pricedAs] of [
      ["claude-sonnet-4-5@20250929", "claude-sonnet-4-5"],
      ["claude-haiku-4-5@20251001", "claude-haiku-4-5"],
      ["claude-opus-4-1@20250805", "claude-opus-4-1"],
    ]
  ) {
    const vertex = priceUsage("anthropic", vertexId, usage, AT);
    assert.equal(vertex.pricedAs, pricedAs, vertexId);
    assert.equal(vertex.usd, priceUsage("anthropic", pricedAs, usage, AT).usd, vertexId);
  }
});

Deno.test("a negotiated override replaces the rates it states and keeps the dataset's others", () => {
  const overrides = createPriceOverrides([
    { model: "gpt-*", provider: "openai", inputMtok: 100 },
    { model: "claude-sonnet-4-*", inputMtok: 2, outputMtok: 10, label: "acme-2026" },
  ]);
  const usage = usageOf({ input: 1000, cacheRead: 1000, output: 1000 });
  const cost = priceUsage("anthropic", "claude-sonnet-4-5", usage, AT, overrides);
  near(cost.usd, (1000 * 2 + 1000 * 0.3 + 1000 * 10) / 1e6);
  assert.equal(cost.priceVersion, `${PRICE_DATA_VERSION}+override:acme-2026`);
  near(priceUsage("openai", "gpt-5", usageOf({ input: 1000 }), AT, overrides).usd, 0.1);
  assert.equal(
    priceUsage("google", "gemini-2.5-flash", usage, AT, overrides).priceVersion,
    PRICE_DATA_VERSION,
  );
});

Deno.test("an override can price a model the dataset does not know, given input and output rates", () => {
  const list = [{ model: "internal-llm-*", inputMtok: 1, outputMtok: 2, cacheWrite1hMtok: 3 }];
  const cost = priceUsage(
    "unknown",
    "internal-llm-7b",
    usageOf({ input: 1e6, cacheWrite1h: 1e6, output: 1e6 }),
    AT,
    list,
  );
  near(cost.usd, 1 + 3 + 2);
  const partial = priceUsage("unknown", "other-llm", usageOf({ input: 1 }), AT, [{
    model: "other-*",
    inputMtok: 1,
  }]);
  assert.equal(partial.unpriced, true);
  assert.match(partial.reason ?? "", /states no input or output rate/);
});

Deno.test("invalid overrides are refused with the entry and the value named", () => {
  assert.throws(
    () => createPriceOverrides([{ model: "claude-*", inputMtok: 1 }, { model: "gpt-*", outputMtok: -1 }]),
    {
      name: "RangeError",
      message: 'Cannot use price override #2 ("gpt-*"): outputMtok must be a finite number >= 0, got -1',
    },
  );
  assert.throws(() => createPriceOverrides([{ model: "x" }]), /states no rate/);
  assert.throws(() => createPriceOverrides([{ model: " ", inputMtok: 1 }]), /non-empty glob/);
});

Deno.test("the breakdown adds up to the dataset's total for every kind of model", () => {
  const models: [Parameters<typeof priceUsage>[0], string][] = [
    ["anthropic", "claude-opus-4-1"],
    ["anthropic", "claude-haiku-4-5"],
    ["anthropic", "claude-sonnet-4-5"],
    ["openai", "gpt-5"],
    ["openai", "gpt-4o"],
    ["openai", "o3"],
    ["google", "gemini-2.5-flash"],
    ["google", "gemini-2.5-pro"],
  ];
  const usages = [
    usageOf({
      input: 1234,
      cacheRead: 5678,
      cacheWrite5m: 91,
      cacheWrite1h: 23,
      output: 456,
      reasoning: 100,
    }),
    usageOf({ input: 150_000, cacheRead: 100_000, output: 9000, reasoning: 9000 }),
    usageOf({}),
  ];
  for (const [provider, model] of models) {
    for (const usage of usages) {
      const cost = priceUsage(provider, model, usage, AT);
      const b = cost.breakdown;
      assert.ok(b && cost.usd !== null, `${model} priced`);
      near(b.input + b.cacheRead + b.cacheWrite5m + b.cacheWrite1h + b.output, cost.usd, model);
    }
  }
});

Deno.test("the price data version matches the pin in deno.json", () => {
  const config = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  const pin: string = config.imports["@pydantic/genai-prices"];
  assert.equal(pin, `npm:@pydantic/${PRICE_DATA_VERSION}`);
});

Deno.test("OpenRouter models are priced from OpenRouter's table, or their vendor's when it has none", () => {
  const usage = usageOf({ input: 1000, output: 100 });
  // Claude Sonnet 4.5 at $3 in, $15 out per Mtok, whichever table prices it.
  const sonnet = priceUsage("openrouter", "anthropic/claude-sonnet-4.5", usage, AT);
  near(sonnet.usd, (1000 * 3 + 100 * 15) / 1e6);
  assert.equal(sonnet.pricedAs, "anthropic/claude-sonnet-4.5");
  // A dated id OpenRouter's table does not list falls back to Anthropic's table.
  const dated = priceUsage("openrouter", "anthropic/claude-sonnet-4-5-20250929", usage, AT);
  near(dated.usd, (1000 * 3 + 100 * 15) / 1e6);
  assert.equal(dated.pricedAs, "claude-sonnet-4-5");
  assert.deepEqual(vendorModel("openai/gpt-5:nitro"), { providerId: "openai", model: "gpt-5" });
  assert.equal(vendorModel("gpt-5"), null);
  assert.equal(vendorModel("unheard-of/model"), null);
  const unknown = priceUsage("openrouter", "unheard-of/model-9", usage, AT);
  assert.equal(unknown.unpriced, true);
  assert.equal(unknown.usd, null);
});

Deno.test("Azure models are priced from Azure's table with OpenAI's as the fallback", () => {
  const usage = usageOf({ input: 1000, cacheRead: 1000, output: 100 });
  const azure = priceUsage("azure", "gpt-4o-2024-11-20", usage, AT);
  const openai = priceUsage("openai", "gpt-4o-2024-11-20", usage, AT);
  assert.equal(azure.unpriced, false);
  assert.ok(azure.usd! > 0);
  near(azure.usd, openai.usd!, "Azure lists OpenAI's prices for gpt-4o");
  // A deployment name is no model: unpriced, never a silent $0.
  assert.equal(priceUsage("azure", "my-prod-deployment", usage, AT).unpriced, true);
});

Deno.test("a model priced again (its match remembered) costs what the library computes from scratch", () => {
  const usage = usageOf({ input: 250_000, cacheRead: 20_000, cacheWrite5m: 5_000, output: 3_000 });
  const cases: [Parameters<typeof priceUsage>[0], string, string][] = [
    ["anthropic", "claude-sonnet-4-5-20250929", "anthropic"],
    ["anthropic", "claude-sonnet-4-6", "anthropic"],
    ["openai", "gpt-4.1-2025-04-14", "openai"],
    ["google", "gemini-2.5-pro", "google"],
  ];
  for (const at of [new Date("2025-12-01"), new Date("2026-03-01"), new Date("2026-04-01")]) {
    for (const [provider, model, providerId] of cases) {
      const first = priceUsage(provider, model, usage, at);
      const again = priceUsage(provider, model, usage, at);
      const library = calcPrice(
        {
          input_tokens: 275_000, // the whole prompt, cache reads and writes included
          cache_read_tokens: 20_000,
          cache_write_tokens: 5_000,
          cache_write_5m_tokens: 5_000,
          cache_write_1h_tokens: 0,
          output_tokens: 3_000,
          output_reasoning_tokens: 0,
        },
        model,
        { providerId, timestamp: at },
      );
      assert.deepEqual(again, first, `${model} at ${at.toISOString()}`);
      near(again.usd, library!.total_price, `${model} at ${at.toISOString()}`);
      assert.equal(again.pricedAs, library!.model.id);
    }
  }
  assert.equal(priceUsage("openai", "no-such-model-1", usage, AT).unpriced, true);
  assert.equal(priceUsage("openai", "no-such-model-1", usage, AT).unpriced, true);
});
