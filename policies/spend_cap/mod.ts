/**
 * `spend-cap` and the ledger interface it needs (implemented in `storage/ledger/`).
 * @module
 */
export { spendCap, usd } from "./spend_cap.ts";
export type { SpendCapOptions } from "./options.ts";
export type { BudgetWindow, ReserveResult, Settlement, SpendLedger, WindowState } from "./ledger.ts";
export { describeInstant, type Period, type PeriodWindow, periodWindow } from "./periods.ts";
export { resolveScope, scopeSchema } from "./scope.ts";
