/**
 * The public policy API. Write your own module against these types and reference it from `recondo.json`
 * by path (`{ "use": "./policies/require_ticket.ts" }`); see `docs/writing-policies.md`.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import type { PolicyModule } from "recondo/policy";
 *
 * export default {
 *   name: "no-weekend-opus",
 *   description: "Keep Opus for weekdays",
 *   options: z.object({}),
 *   create: () => ({ name: "no-weekend-opus", onRequest: () => ({ kind: "allow" }) }),
 * } satisfies PolicyModule<Record<string, never>>;
 * ```
 * @module
 */
export type {
  Allow,
  Block,
  HookContext,
  Modify,
  Policy,
  PolicyModule,
  PolicyServices,
  RequestPatch,
  RequestView,
  ResponseVerdict,
  Verdict,
} from "./types.ts";
export type { Decision, Exchange } from "../core/exchange.ts";
export type { ParsedResponse, StreamEvent, Usage } from "../providers/types.ts";
export { compileGlobs } from "./glob.ts";
export { requestModel } from "./request_model.ts";
export type {
  BudgetWindow,
  ReserveResult,
  Settlement,
  SpendLedger,
  WindowState,
} from "./spend_cap/ledger.ts";
export type { BucketSpec, RateLimiter, TakeResult } from "./throttle/buckets.ts";
export { resolveScope, scopeSchema } from "./spend_cap/scope.ts";
export { makeExchange, type MakeExchangeOptions, makeHookContext } from "./testing.ts";
