/**
 * What `spend-cap` tells people: the refusal a developer reads in their agent, and the threshold events
 * recorded as decisions for FinOps.
 * @module
 */
import type { Exchange } from "../../core/exchange.ts";
import { log } from "../../core/log.ts";
import type { Block } from "../types.ts";
import type { BudgetWindow, WindowState } from "./ledger.ts";
import { describeInstant } from "./periods.ts";

/** USD as developers read it. */
export function usd(micros: number): string {
  return `$${(micros / 1e6).toFixed(micros > 0 && micros < 10_000 ? 4 : 2)}`;
}

/** The block for a budget that cannot take `amountMicros`: which budget, what was spent, when it resets. */
export function refusal(
  window: BudgetWindow,
  state: WindowState,
  amountMicros: number,
  opts: { status: number; timeZone: string },
): Block {
  const resets = describeInstant(window.end, opts.timeZone);
  const spent = usd(state.spentMicros);
  const inFlight = state.reservedMicros > 0
    ? `, ${usd(state.reservedMicros)} held by requests in flight`
    : "";
  const cost = amountMicros > 0 ? `; this request could cost up to ${usd(amountMicros)}` : "";
  return {
    kind: "block",
    status: opts.status,
    reason:
      `Recondo spend cap: the ${window.period} budget of ${usd(window.capMicros)} for ${window.scope} ` +
      `is used up (${spent} spent${inFlight}${cost}). It resets at ${resets}.`,
    detail: {
      budget: window.key,
      scope: window.scope,
      period: window.period,
      capUsd: window.capMicros / 1e6,
      spentUsd: state.spentMicros / 1e6,
      reservedUsd: state.reservedMicros / 1e6,
      requestCeilingUsd: amountMicros / 1e6,
      resetsAt: new Date(window.end).toISOString(),
    },
  };
}

/** Records an event for each threshold this settlement crossed; the ledger makes exactly one cross it. */
export function recordThresholds(
  exchange: Readonly<Exchange>,
  window: BudgetWindow,
  spent: { before: number; after: number },
  opts: { thresholds: number[]; timeZone: string },
  at: number,
): void {
  for (const percent of opts.thresholds) {
    const mark = (window.capMicros * percent) / 100;
    if (!(spent.before < mark && spent.after >= mark)) continue;
    const reason = `Budget ${window.scope} (${window.period}) reached ${percent}%: ${usd(spent.after)} of ` +
      `${usd(window.capMicros)} spent; resets at ${describeInstant(window.end, opts.timeZone)}`;
    exchange.decisions.push({
      policy: "spend-cap",
      hook: "end",
      kind: "allow",
      enforced: false,
      reason,
      at,
      detail: {
        event: "budget_threshold",
        threshold: percent,
        budget: window.key,
        scope: window.scope,
        period: window.period,
        capUsd: window.capMicros / 1e6,
        spentUsd: spent.after / 1e6,
        resetsAt: new Date(window.end).toISOString(),
      },
    });
    log.warn("spend_cap.threshold", { exchangeId: exchange.id, budget: window.key, threshold: percent });
  }
}
