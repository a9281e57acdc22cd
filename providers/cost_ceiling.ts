/**
 * The most a request can cost before it is sent, for spend caps that must decide up front. Input tokens are
 * estimated from the body size (characters / 4, all at the base input rate: no cache discount assumed);
 * output is the request's own limit (`max_tokens`, `max_output_tokens`, `maxOutputTokens`) or a ceiling.
 * @module
 */
import type { ProviderName } from "../core/exchange.ts";
import type { PriceOverride, PriceOverrides } from "./price_overrides.ts";
import { type PricedUsage, priceUsage } from "./pricing.ts";
import type { Usage } from "./types.ts";
import { estimateTokens } from "./usage.ts";

/** Output tokens assumed when a request states no limit: the largest default among current agent models. */
export const DEFAULT_OUTPUT_CEILING = 64_000;

/** What the ceiling is computed from. */
export interface CostCeilingInput {
  provider: ProviderName;
  model: string | null;
  /** Request body size in bytes (or characters). */
  requestBytes: number;
  /** The request's output limit, from `ParsedRequest.maxOutputTokens`. */
  maxOutputTokens: number | null;
  at: Date;
  overrides?: PriceOverrides | readonly PriceOverride[];
  /** Output tokens assumed when `maxOutputTokens` is null. */
  outputCeiling?: number;
}

/** A ceiling: the usage it assumed and its price (`usd` null when the model is unpriced). */
export interface CostCeiling extends PricedUsage {
  usage: Usage;
}

/**
 * Estimates the highest cost of a request.
 * @example
 * estimateRequestCostCeiling({ provider: "anthropic", model: "claude-sonnet-4-5", requestBytes: 400_000,
 *   maxOutputTokens: 32_000, at: new Date() }) // 100k input + 32k output tokens priced
 */
export function estimateRequestCostCeiling(input: CostCeilingInput): CostCeiling {
  const output = input.maxOutputTokens ?? input.outputCeiling ?? DEFAULT_OUTPUT_CEILING;
  const usage: Usage = {
    input: estimateTokens(input.requestBytes),
    cacheRead: 0,
    cacheWrite5m: 0,
    cacheWrite1h: 0,
    output,
    reasoning: 0,
    estimated: true,
  };
  return { ...priceUsage(input.provider, input.model, usage, input.at, input.overrides), usage };
}
