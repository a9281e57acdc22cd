/**
 * SQL implementations of the services policies need from below (`PolicyServices`), for both engines.
 * `cli/wiring.ts` calls `createPolicyServices(db)` with the capture database and hands the result to
 * `startGateway({ services })`.
 * @module
 */
import type { Db } from "../db/db.ts";
import type { PolicyServices } from "../../policies/types.ts";
import { createSqlRateLimiter } from "./sql_rate_limiter.ts";
import { createSqlSpendLedger } from "./sql_spend_ledger.ts";

export { type BudgetRow, createSqlSpendLedger, currentBudgets } from "./sql_spend_ledger.ts";
export { createSqlRateLimiter } from "./sql_rate_limiter.ts";
export { createSqlPolicyVersionStore } from "./sql_policy_versions.ts";
export { capturedExchanges } from "./captured_traffic.ts";

/**
 * Everything built-in policies need, backed by `db` (which must be migrated).
 * @example startGateway({ …, services: createPolicyServices(capture.db) })
 */
export function createPolicyServices(db: Db): PolicyServices {
  return { spendLedger: createSqlSpendLedger(db), rateLimiter: createSqlRateLimiter(db) };
}
