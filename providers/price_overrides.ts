/**
 * Negotiated prices: an admin states per-million-token rates for models matching a glob, and those rates
 * replace the public ones from the price dataset. Rates left out keep the dataset's rate for that model, so
 * an override of only input and output still prices cache reads at the model's public cache rate.
 * Validated and compiled once, as policy options are.
 * @module
 */
import type { ProviderName } from "../core/exchange.ts";

/** One negotiated price. Rates are USD per million tokens. */
export interface PriceOverride {
  /** Model name glob, case-insensitive, `*` as wildcard: `"claude-sonnet-4-*"`. */
  model: string;
  /** Only for this provider; any provider when absent. */
  provider?: ProviderName;
  inputMtok?: number;
  outputMtok?: number;
  cacheReadMtok?: number;
  /** 5-minute cache writes (the default lifetime, and the rate for providers with one lifetime). */
  cacheWrite5mMtok?: number;
  cacheWrite1hMtok?: number;
  /** Name recorded in the price version of every cost it sets (a contract id); defaults to the glob. */
  label?: string;
}

/** Overrides ready to use: validated, globs compiled. */
export interface PriceOverrides {
  readonly list: readonly PriceOverride[];
  /** The first override that applies to a provider's model, or null. */
  find(provider: ProviderName, model: string): PriceOverride | null;
}

const RATE_KEYS = [
  "inputMtok",
  "outputMtok",
  "cacheReadMtok",
  "cacheWrite5mMtok",
  "cacheWrite1hMtok",
] as const;

/**
 * Validates overrides and compiles their globs. Throws a `RangeError` naming the bad entry.
 * @example createPriceOverrides([{ model: "claude-*", inputMtok: 2.4, outputMtok: 12, label: "acme-2026" }])
 */
export function createPriceOverrides(list: readonly PriceOverride[]): PriceOverrides {
  const compiled = list.map((override, position) => {
    const where = `price override #${position + 1} ("${override.model}")`;
    if (typeof override.model !== "string" || override.model.trim() === "") {
      throw new RangeError(`Cannot use ${where}: model must be a non-empty glob`);
    }
    let rates = 0;
    for (const key of RATE_KEYS) {
      const rate = override[key];
      if (rate === undefined) continue;
      if (typeof rate !== "number" || !Number.isFinite(rate) || rate < 0) {
        throw new RangeError(`Cannot use ${where}: ${key} must be a finite number >= 0, got ${String(rate)}`);
      }
      rates++;
    }
    if (rates === 0) throw new RangeError(`Cannot use ${where}: it states no rate`);
    return { override: { ...override }, regex: globRegex(override.model) };
  });
  return {
    list: compiled.map((c) => c.override),
    find(provider, model) {
      for (const { override, regex } of compiled) {
        if (override.provider && override.provider !== provider) continue;
        if (regex.test(model)) return override;
      }
      return null;
    },
  };
}

function globRegex(glob: string): RegExp {
  const source = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${source}$`, "i");
}
