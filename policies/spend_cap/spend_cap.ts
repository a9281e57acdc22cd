/**
 * `spend-cap`: USD budgets per developer, team, provider or everyone, per calendar day, week or month.
 * Before a request goes upstream it reserves the most the request can cost on every budget it falls
 * under, in one atomic step in the shared database; when the response ends the reservation settles to the
 * priced usage (or is released when nothing was spent). So concurrent requests and several replicas can
 * never overshoot a cap: the database admits a reservation only if `spent + reserved + amount <= cap`.
 *
 * @example
 * { "use": "spend-cap", "options": { "budgets": [{ "scope": "team:alpha", "usd": 25, "period": "day" }] } }
 * @module
 */
import type { Exchange } from "../../core/exchange.ts";
import { log } from "../../core/log.ts";
import { estimateRequestCostCeiling, parseRequest, priceUsage } from "../../providers/mod.ts";
import type { ApiName, ParsedResponse } from "../../providers/types.ts";
import type { Policy, PolicyModule, PolicyServices, RequestView, Verdict } from "../types.ts";
import type { BudgetWindow, WindowState } from "./ledger.ts";
import { type SpendCapOptions, spendCapOptions } from "./options.ts";
import { describeInstant, periodWindow } from "./periods.ts";
import { resolveScope } from "./scope.ts";

/** APIs whose requests are billed model turns (count_tokens and model lists cost nothing). */
const BILLED_APIS: ReadonlySet<string> = new Set<ApiName>([
  "anthropic.messages",
  "openai.chat_completions",
  "openai.responses",
  "google.generate",
]);

const SWEEP_EVERY_MS = 60_000;

interface Reservation {
  windows: BudgetWindow[];
  model: string | null;
  amountMicros: number;
}

/** USD as developers read it. */
export function usd(micros: number): string {
  return `$${(micros / 1e6).toFixed(micros > 0 && micros < 10_000 ? 4 : 2)}`;
}

function create(opts: SpendCapOptions, services: PolicyServices): Policy {
  const ledger = services.spendLedger;
  if (!ledger) {
    throw new Error(
      'Cannot load policy "spend-cap": no spend ledger is available (the gateway must be given PolicyServices from storage/ledger createPolicyServices(db))',
    );
  }
  const reservations = new Map<string, Reservation>();
  const pending = new Set<string>();
  let lastSweep = 0;

  const windowsFor = (exchange: Readonly<Exchange>, at: number): BudgetWindow[] => {
    const out: BudgetWindow[] = [];
    for (const budget of opts.budgets) {
      const scope = resolveScope(budget.scope, exchange);
      if (!scope) continue;
      const window = periodWindow(budget.period, at, opts.timeZone);
      out.push({
        key: `${scope}|${budget.period}|${window.label}`,
        scope,
        period: budget.period,
        start: window.start,
        end: window.end,
        capMicros: Math.round(budget.usd * 1e6),
      });
    }
    return out;
  };

  const sweep = (at: number) => {
    if (at - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = at;
    ledger.releaseExpired(at).then(
      (count) => count > 0 && log.warn("spend_cap.expired_reservations", { released: count }),
      (error) => log.error("spend_cap.sweep_failed", { error }),
    );
  };

  return {
    name: "spend-cap",
    needsRequestBody: true,
    async onRequest(exchange, request, ctx): Promise<Verdict> {
      if (!exchange.api || !BILLED_APIS.has(exchange.api)) return { kind: "allow" };
      const at = ctx.now();
      sweep(at);
      const windows = windowsFor(exchange, at);
      if (windows.length === 0) return { kind: "allow" };
      const { model, maxOutputTokens } = parsedHead(exchange.api as ApiName, request);
      const ceiling = estimateRequestCostCeiling({
        provider: exchange.provider,
        model,
        requestBytes: request.body?.byteLength ?? 0,
        maxOutputTokens,
        at: new Date(at),
        outputCeiling: opts.outputCeiling,
      });
      if (ceiling.usd === null) {
        const reason = `spend-cap cannot price model ${model ?? "(none)"}: ${ceiling.reason ?? "unpriced"}`;
        if (opts.unpriced === "block") {
          return { kind: "block", status: opts.status, reason: `Recondo: ${reason}; refused by policy` };
        }
        return { kind: "allow", reason: `${reason}; let through unreserved`, detail: { model } };
      }
      const amountMicros = Math.max(1, Math.ceil(ceiling.usd * 1e6));
      pending.add(exchange.id);
      const result = await ledger.reserve(exchange.id, windows, amountMicros, {
        at,
        expiresAt: at + opts.reservationTtlMs,
      });
      if (!result.ok) {
        pending.delete(exchange.id);
        const window = windows.find((w) => w.key === result.key)!;
        return refusal(window, result.state, amountMicros, opts);
      }
      reservations.set(exchange.id, { windows, model, amountMicros });
      return {
        kind: "allow",
        detail: {
          reservedUsd: amountMicros / 1e6,
          budgets: result.states.map((s) => ({
            key: s.key,
            spentUsd: s.spentMicros / 1e6,
            reservedUsd: s.reservedMicros / 1e6,
          })),
        },
      };
    },
    async onClientMessage(exchange, _message, ctx): Promise<Verdict> {
      // A WebSocket turn is charged when it ends (onEnd per turn); before it, refuse once a cap is used up.
      const at = ctx.now();
      const windows = windowsFor(exchange, at);
      if (windows.length === 0) return { kind: "allow" };
      const states = await ledger.read(windows.map((w) => w.key));
      for (const window of windows) {
        const state = states.find((s) => s.key === window.key);
        if (state && state.spentMicros + state.reservedMicros >= window.capMicros) {
          return refusal(window, state, 0, opts);
        }
      }
      return { kind: "allow" };
    },
    async onEnd(exchange, parsed, ctx) {
      const at = ctx.now();
      const reservation = reservations.get(exchange.id);
      reservations.delete(exchange.id);
      const wasPending = pending.delete(exchange.id);
      const cost = actualCost(exchange, parsed, reservation, at);
      if (cost === null) {
        if (reservation || wasPending) await ledger.release(exchange.id, at);
        return;
      }
      const windows = reservation?.windows ?? windowsFor(exchange, at);
      if (windows.length === 0) return;
      const settled = await ledger.settle(exchange.id, windows, cost, at);
      for (const s of settled) {
        const window = windows.find((w) => w.key === s.key);
        if (window) recordThresholds(exchange, window, s.spentBeforeMicros, s.spentAfterMicros, opts, at);
      }
    },
  };
}

function parsedHead(api: ApiName, request: RequestView) {
  const parsed = request.body ? parseRequest(api, request.body, request.headers) : null;
  const pathModel = /\/models\/([^/:?]+)/.exec(request.path)?.[1] ?? null;
  return { model: parsed?.model ?? pathModel, maxOutputTokens: parsed?.maxOutputTokens ?? null };
}

/**
 * What the exchange cost in micro-USD, or `null` when it spent nothing (blocked, failed before an answer,
 * an error status). A response whose usage could not be read is charged its reserved ceiling.
 */
function actualCost(
  exchange: Readonly<Exchange>,
  parsed: ParsedResponse | null,
  reservation: Reservation | undefined,
  at: number,
): number | null {
  if (parsed?.usage) {
    const model = parsed.model ?? reservation?.model ?? null;
    const priced = priceUsage(exchange.provider, model, parsed.usage, new Date(at));
    if (priced.usd !== null) return Math.round(priced.usd * 1e6);
    return reservation?.amountMicros ?? null;
  }
  const status = exchange.response?.status ?? 0;
  if (!reservation || exchange.outcome === "blocked" || status === 0 || status >= 400) return null;
  return reservation.amountMicros;
}

function refusal(window: BudgetWindow, state: WindowState, amountMicros: number, opts: SpendCapOptions) {
  const resets = describeInstant(window.end, opts.timeZone);
  const spent = usd(state.spentMicros);
  const inFlight = state.reservedMicros > 0
    ? `, ${usd(state.reservedMicros)} held by requests in flight`
    : "";
  const cost = amountMicros > 0 ? `; this request could cost up to ${usd(amountMicros)}` : "";
  return {
    kind: "block" as const,
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
function recordThresholds(
  exchange: Readonly<Exchange>,
  window: BudgetWindow,
  before: number,
  after: number,
  opts: SpendCapOptions,
  at: number,
): void {
  for (const percent of opts.thresholds) {
    const mark = (window.capMicros * percent) / 100;
    if (!(before < mark && after >= mark)) continue;
    const reason = `Budget ${window.scope} (${window.period}) reached ${percent}%: ${usd(after)} of ` +
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
        spentUsd: after / 1e6,
        resetsAt: new Date(window.end).toISOString(),
      },
    });
    log.warn("spend_cap.threshold", { exchangeId: exchange.id, budget: window.key, threshold: percent });
  }
}

/** The `spend-cap` module, registered in `built_ins.ts`. */
export const spendCap: PolicyModule<SpendCapOptions> = {
  name: "spend-cap",
  description: "USD budgets per developer, team, provider or everyone, per day, week or month.",
  options: spendCapOptions,
  create,
};
