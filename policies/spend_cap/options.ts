/**
 * The options of `spend-cap` as a zod schema (the config contract of issue 5 §7).
 * @module
 */
import { z } from "zod";
import { DEFAULT_OUTPUT_CEILING } from "../../providers/mod.ts";
import { assertTimeZone } from "./periods.ts";
import { scopeSchema } from "./scope.ts";

const budget = z.object({
  /** `developer:<name>`, `team:<name>`, `provider:<name>`, `global`; `*` as the name: one budget each. */
  scope: scopeSchema,
  usd: z.number().positive(),
  period: z.enum(["day", "week", "month"]),
});

export const spendCapOptions = z.object({
  budgets: z.array(budget).min(1),
  /** IANA time zone the calendar periods follow. */
  timeZone: z.string().default("UTC").refine((zone) => {
    try {
      assertTimeZone(zone);
      return true;
    } catch {
      return false;
    }
  }, "is not a time zone Intl knows (use an IANA name such as Europe/Paris)"),
  /** Output tokens assumed when a request states no `max_tokens`. */
  outputCeiling: z.number().int().positive().default(DEFAULT_OUTPUT_CEILING),
  /** Percentages of a budget whose crossing is recorded as an event. */
  thresholds: z.array(z.number().positive().max(1000)).default([50, 80, 100]),
  /** 400 by default so every client shows the message and stops retrying (see block-list). */
  status: z.number().int().min(400).max(599).default(400),
  /** A request for a model without a price cannot be reserved: let it through (recorded) or refuse it. */
  unpriced: z.enum(["allow", "block"]).default("allow"),
  /** A reservation left by a gateway that died is released after this long. */
  reservationTtlMs: z.number().int().positive().default(30 * 60_000),
});

export type SpendCapOptions = z.infer<typeof spendCapOptions>;
