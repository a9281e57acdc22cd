/**
 * Cost of a turn in USD, from `@pydantic/genai-prices` (MIT, maintained, dated price history, long-context
 * tiers, Anthropic's 1-hour cache-write rate) rather than a hand-written table. Each cost records the data
 * version that priced it. An unknown model is `unpriced` with `usd: null` — never a silent $0.
 *
 * The library wants `input_tokens` as the *total* prompt (cache reads and writes included) and carves the
 * cache parts out of it; its long-context tier is chosen by that total, as Anthropic and Google bill.
 *
 * Bedrock is priced from the dataset's `aws` provider by the id as invoked: it knows model ids
 * (`anthropic.claude-…-v1:0`) and inference profiles, with the 10% premium of regional and geographic
 * profiles (`us.`, `eu.`, `apac.`) over `global.` ones; an id it does not know is retried normalized.
 * @module
 */
import { calcPrice, type ModelPrice, type PriceCalculation, type Provider } from "@pydantic/genai-prices";
import type { ProviderName } from "../core/exchange.ts";
import { createPriceOverrides, type PriceOverride, type PriceOverrides } from "./price_overrides.ts";
import type { Usage } from "./types.ts";
import { promptTokens } from "./usage.ts";

/** The price data version, as pinned in deno.json (a test checks that they agree). */
export const PRICE_DATA_VERSION = "genai-prices@0.1.8";

/** USD per usage component; `other` holds what the dataset prices beyond tokens (per-request fees). */
export interface CostBreakdown {
  input: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  output: number;
  other: number;
}

/** The price of one turn. */
export interface PricedUsage {
  /** Total USD, or null when unpriced. */
  usd: number | null;
  unpriced: boolean;
  /** Which data priced it: `genai-prices@0.1.8`, plus `+override:<label>` for a negotiated price. */
  priceVersion: string;
  breakdown: CostBreakdown | null;
  /** The dataset's model id that matched (`claude-sonnet-4-5` for `claude-sonnet-4-5-20250929`). */
  pricedAs: string | null;
  /** Why it is unpriced. */
  reason?: string;
}

/**
 * The dataset's provider ids to try in turn. Azure bills OpenAI's list prices where the dataset has no Azure
 * row; an OpenRouter model (`anthropic/claude-sonnet-4.5`) falls back to its vendor's table
 * (`vendorModel`).
 */
const PROVIDER_IDS: Record<ProviderName, (string | undefined)[]> = {
  anthropic: ["anthropic"],
  openai: ["openai"],
  google: ["google"],
  azure: ["azure", "openai"],
  openrouter: ["openrouter"],
  bedrock: ["aws"],
  unknown: [undefined],
};
const VENDOR_IDS: Record<string, string> = {
  anthropic: "anthropic",
  openai: "openai",
  google: "google",
  "x-ai": "x-ai",
  mistralai: "mistral",
  deepseek: "deepseek",
};
const compiledLists = new WeakMap<readonly PriceOverride[], PriceOverrides>();

/**
 * Prices `usage` of `model` as billed at `at` (prices change over time).
 * @example
 * priceUsage("anthropic", "claude-sonnet-4-5", usage, new Date()) // { usd: 0.0123, unpriced: false, … }
 */
export function priceUsage(
  provider: ProviderName,
  model: string | null,
  usage: Usage | null,
  at: Date,
  overrides?: PriceOverrides | readonly PriceOverride[],
): PricedUsage {
  if (!model) return unpriced(PRICE_DATA_VERSION, "the model is not known");
  const name = normalizeModel(model);
  const tokens = usage ??
    { input: 0, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0, output: 0, reasoning: 0, estimated: false };
  const override = compiled(overrides)?.find(provider, model) ?? compiled(overrides)?.find(provider, name) ??
    null;
  try {
    // Bedrock is looked up by the id as invoked first (inference profiles carry their own prices).
    const base =
      (provider === "bedrock" ? calcBase(libraryUsage(tokens), provider, model.trim(), at) : null) ??
        calcBase(libraryUsage(tokens), provider, name, at);
    if (!override) {
      if (!base) {
        return unpriced(PRICE_DATA_VERSION, `no price for model "${model}" in ${PRICE_DATA_VERSION}`);
      }
      return priced(base, tokens, PRICE_DATA_VERSION);
    }
    const version = `${PRICE_DATA_VERSION}+override:${override.label ?? override.model}`;
    const prices = mergeOverride(base?.model_price ?? {}, override);
    if (prices.input_mtok === undefined || prices.output_mtok === undefined) {
      return unpriced(
        version,
        `override "${override.model}" states no input or output rate and the dataset has none`,
      );
    }
    const custom: Provider = {
      id: "recondo-override",
      name: "Negotiated prices",
      api_pattern: "^$",
      models: [{ id: base?.model.id ?? name, match: { equals: name }, prices }],
    };
    const result = calcPrice(libraryUsage(tokens), name, { provider: custom, timestamp: at });
    return result
      ? priced(result, tokens, version)
      : unpriced(version, `override "${override.model}" did not apply`);
  } catch (error) {
    return unpriced(
      PRICE_DATA_VERSION,
      `cannot price "${model}": ${error instanceof Error ? error.message : error}`,
    );
  }
}

/** The first price the provider's tables (then, for OpenRouter, the vendor's) give for `name`. */
function calcBase(
  usage: Record<string, number>,
  provider: ProviderName,
  name: string,
  at: Date,
): PriceCalculation | null {
  for (const providerId of PROVIDER_IDS[provider]) {
    const found = calcMatched(usage, providerId, name, at);
    if (found) return found;
  }
  const vendor = provider === "openrouter" ? vendorModel(name) : null;
  if (!vendor) return null;
  return calcMatched(usage, vendor.providerId, normalizeModel(vendor.model), at);
}

const MATCH_CACHE_LIMIT = 1024;
/**
 * The dataset's model for each (provider id, model name) seen, as a provider holding only that model, or
 * `null` for no match. Finding the model walks the provider's whole list testing every match rule, most of
 * what `calcPrice` costs (in capture: ~40 of ~45 µs a turn); the price itself is still computed by the
 * library on every call, from the model's dated prices as at `at`.
 */
const matchedModels = new Map<string, Provider | null>();

/** `calcPrice` by provider id, the model found through `matchedModels`. */
function calcMatched(
  usage: Record<string, number>,
  providerId: string | undefined,
  name: string,
  at: Date,
): PriceCalculation | null {
  const key = `${providerId ?? ""}\n${name}`;
  const provider = matchedModels.get(key);
  if (provider === null) return null;
  if (provider) return calcPrice(usage, name, { provider, timestamp: at }) ?? null;
  const found = calcPrice(usage, name, { providerId, timestamp: at }) ?? null;
  if (matchedModels.size >= MATCH_CACHE_LIMIT) matchedModels.clear();
  matchedModels.set(
    key,
    // Matched by the exact name from now on: the model's own rules already chose it for this name.
    found &&
      { ...found.provider, models: [{ ...found.model, match: { equals: name.toLowerCase().trim() } }] },
  );
  return found;
}

/**
 * An OpenRouter model id split into the vendor's provider id and model (`anthropic/claude-sonnet-4.5` →
 * `anthropic`, `claude-sonnet-4.5`); null when the vendor is not one the dataset prices. A `:free` or
 * `:nitro` variant suffix is dropped.
 */
export function vendorModel(model: string): { providerId: string; model: string } | null {
  const slash = model.indexOf("/");
  if (slash <= 0) return null;
  const providerId = VENDOR_IDS[model.slice(0, slash).toLowerCase()];
  const rest = model.slice(slash + 1).replace(/:[a-z-]+$/, "");
  return providerId && rest ? { providerId, model: rest } : null;
}

/** Model ids as the dataset spells them: no `models/` prefix, Vertex `@` dates, Bedrock ids, `[1m]` tags. */
export function normalizeModel(model: string): string {
  return model.trim()
    .replace(/^models\//, "")
    .replace(/^(?:[a-z]{2,4}\.|global\.)?anthropic\./, "")
    .replace(/-v\d+:\d+$/, "")
    .replace(/\[[^\]]*\]$/, "")
    .replace("@", "-");
}

function compiled(overrides: PriceOverrides | readonly PriceOverride[] | undefined): PriceOverrides | null {
  if (!overrides) return null;
  if (!Array.isArray(overrides)) return overrides as PriceOverrides;
  const list = overrides as readonly PriceOverride[];
  let found = compiledLists.get(list);
  if (!found) {
    found = createPriceOverrides(list);
    compiledLists.set(list, found);
  }
  return found;
}

/** Our usage in the library's terms: totals that contain their parts. */
function libraryUsage(usage: Usage): Record<string, number> {
  return {
    input_tokens: promptTokens(usage),
    cache_read_tokens: usage.cacheRead,
    cache_write_tokens: usage.cacheWrite5m + usage.cacheWrite1h,
    cache_write_5m_tokens: usage.cacheWrite5m,
    cache_write_1h_tokens: usage.cacheWrite1h,
    output_tokens: usage.output,
    output_reasoning_tokens: Math.min(usage.reasoning, usage.output),
  };
}

function mergeOverride(base: ModelPrice, override: PriceOverride): ModelPrice {
  const prices: ModelPrice = { ...base };
  if (override.inputMtok !== undefined) prices.input_mtok = override.inputMtok;
  if (override.outputMtok !== undefined) prices.output_mtok = override.outputMtok;
  if (override.cacheReadMtok !== undefined) prices.cache_read_mtok = override.cacheReadMtok;
  if (override.cacheWrite5mMtok !== undefined) {
    prices.cache_write_mtok = override.cacheWrite5mMtok;
    delete prices.cache_write_5m_mtok;
  }
  if (override.cacheWrite1hMtok !== undefined) prices.cache_write_1h_mtok = override.cacheWrite1hMtok;
  // The library needs a generic cache-write rate under a 1-hour one.
  if (prices.cache_write_1h_mtok !== undefined && prices.cache_write_mtok === undefined) {
    prices.cache_write_mtok = prices.input_mtok;
  }
  return prices;
}

function priced(result: PriceCalculation, usage: Usage, version: string): PricedUsage {
  const breakdown = breakdownOf(result.model_price, usage);
  const parts = breakdown.input + breakdown.cacheRead + breakdown.cacheWrite5m + breakdown.cacheWrite1h +
    breakdown.output;
  breakdown.other = Math.max(0, result.total_price - parts);
  return {
    usd: result.total_price,
    unpriced: false,
    priceVersion: version,
    breakdown,
    pricedAs: result.model.id,
  };
}

/** Per-component cost with the same rules the library applies (a missing specific rate falls back). */
function breakdownOf(prices: ModelPrice, usage: Usage): CostBreakdown {
  const total = promptTokens(usage);
  const rate = (key: string) => rateOf(prices[key], total);
  const input = rate("input_mtok") ?? 0;
  const write = rate("cache_write_mtok") ?? input;
  const output = rate("output_mtok") ?? 0;
  const reasoningRate = rate("output_reasoning_mtok");
  const reasoning = reasoningRate === undefined ? 0 : Math.min(usage.reasoning, usage.output);
  return {
    input: usage.input * input / 1e6,
    cacheRead: usage.cacheRead * (rate("cache_read_mtok") ?? input) / 1e6,
    cacheWrite5m: usage.cacheWrite5m * (rate("cache_write_5m_mtok") ?? write) / 1e6,
    cacheWrite1h: usage.cacheWrite1h * (rate("cache_write_1h_mtok") ?? write) / 1e6,
    output: ((usage.output - reasoning) * output + reasoning * (reasoningRate ?? 0)) / 1e6,
    other: 0,
  };
}

/** A flat rate, or the tier for this prompt size (the highest tier whose start the prompt exceeds). */
function rateOf(price: ModelPrice[string], promptTotal: number): number | undefined {
  if (typeof price === "number") return price;
  if (!price) return undefined;
  let rate = price.base;
  for (const tier of [...price.tiers].sort((a, b) => a.start - b.start)) {
    if (promptTotal > tier.start) rate = tier.price;
  }
  return rate;
}

function unpriced(priceVersion: string, reason: string): PricedUsage {
  return { usd: null, unpriced: true, priceVersion, breakdown: null, pricedAs: null, reason };
}
