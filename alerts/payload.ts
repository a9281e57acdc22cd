/**
 * What an alert says: the JSON body every delivery posts (Slack-compatible `text` plus structured
 * fields) and the dedupe key that makes it once per budget period across all replicas. Pure functions:
 * the notifier calls them on the settling or refusing path, so they do no I/O.
 * @module
 */
import type { AlertKind } from "../config/alerts.ts";
import type { ThrottleRefusal } from "../policies/alerts.ts";
import type { BudgetWindow } from "../policies/spend_cap/ledger.ts";
import type { NewAlert } from "../storage/alerts/alert_store.ts";

const DAY_MS = 86_400_000;

/** The body a webhook receives. Fields that do not apply to a kind are `null`. */
export interface AlertPayload {
  id: string;
  kind: AlertKind;
  /** One human line; Slack and compatible incoming webhooks show it as the message. */
  text: string;
  /** The budget (`team:alpha|day|2026-11-28`) or throttle bucket (`developer:alice|rpm:60`). */
  cap: string;
  /** e.g. `team:alpha`, `developer:alice`, `global`. */
  scope: string;
  /** `developer`, `team`, `provider` or `global`. */
  scopeKind: string;
  period: "day" | "week" | "month";
  periodStart: string;
  periodEnd: string;
  spentUsd: number | null;
  limitUsd: number | null;
  /** Human limit: `$10.00 per day`, `60 requests per minute`. */
  limit: string;
  /** Share of the budget spent after the settlement that crossed `threshold`. */
  percent: number | null;
  threshold: number | null;
  retryAfterSeconds: number | null;
  gatewayId: string;
  time: string;
}

function money(micros: number): string {
  return `$${(micros / 1e6).toFixed(2)}`;
}

function iso(at: number): string {
  return new Date(at).toISOString();
}

function toAlert(payload: AlertPayload, dedupeKey: string, at: number): NewAlert {
  return {
    id: payload.id,
    dedupeKey,
    kind: payload.kind,
    scope: payload.scope,
    message: payload.text,
    payload: JSON.stringify(payload),
    gatewayId: payload.gatewayId,
    createdAt: at,
  };
}

/** The thresholds (percent) a settlement from `before` to `after` crossed, lowest first. */
export function crossedThresholds(
  capMicros: number,
  spent: { beforeMicros: number; afterMicros: number },
  thresholds: readonly number[],
): number[] {
  return [...new Set(thresholds)].sort((a, b) => a - b).filter((percent) => {
    const mark = (capMicros * percent) / 100;
    return spent.beforeMicros < mark && spent.afterMicros >= mark;
  });
}

/** Once per budget, period and threshold: the budget key names the scope, period and its start. */
export function budgetAlertKey(window: BudgetWindow, threshold: number): string {
  return `budget|${window.key}|${threshold}`;
}

/** Once per throttle bucket per UTC day. */
export function throttleAlertKey(bucket: string, at: number): string {
  return `throttle|${bucket}|${iso(Math.floor(at / DAY_MS) * DAY_MS).slice(0, 10)}`;
}

/** The alert for a budget crossing `threshold`; one per budget, period and threshold. */
export function budgetAlert(
  window: BudgetWindow,
  spentMicros: number,
  threshold: number,
  origin: { gatewayId: string; at: number; id: string },
): NewAlert {
  const percent = Math.round((spentMicros / window.capMicros) * 1000) / 10;
  const text = `Recondo budget alert: ${window.scope} reached ${threshold}% of its ${window.period} budget ` +
    `(${money(spentMicros)} of ${money(window.capMicros)} spent; period ${iso(window.start)} to ` +
    `${iso(window.end)}).`;
  const payload: AlertPayload = {
    id: origin.id,
    kind: "budget.threshold",
    text,
    cap: window.key,
    scope: window.scope,
    scopeKind: window.scope.split(":")[0],
    period: window.period,
    periodStart: iso(window.start),
    periodEnd: iso(window.end),
    spentUsd: spentMicros / 1e6,
    limitUsd: window.capMicros / 1e6,
    limit: `${money(window.capMicros)} per ${window.period}`,
    percent,
    threshold,
    retryAfterSeconds: null,
    gatewayId: origin.gatewayId,
    time: iso(origin.at),
  };
  return toAlert(payload, budgetAlertKey(window, threshold), origin.at);
}

/**
 * The alert for a throttle that refused; one per bucket per UTC day, so a developer held back all
 * afternoon raises one alert, not one per refused request.
 */
export function throttleAlert(
  refusal: ThrottleRefusal,
  origin: { gatewayId: string; at: number; id: string },
): NewAlert {
  const start = Math.floor(origin.at / DAY_MS) * DAY_MS;
  const text = `Recondo throttle alert: ${refusal.scope} is being refused at ${refusal.limit} ` +
    `(first refusal today at ${iso(origin.at)}; retry after ${refusal.retryAfterSeconds} s).`;
  const payload: AlertPayload = {
    id: origin.id,
    kind: "throttle.refusing",
    text,
    cap: refusal.bucket,
    scope: refusal.scope,
    scopeKind: refusal.scope.split(":")[0],
    period: "day",
    periodStart: iso(start),
    periodEnd: iso(start + DAY_MS),
    spentUsd: null,
    limitUsd: null,
    limit: refusal.limit,
    percent: null,
    threshold: null,
    retryAfterSeconds: refusal.retryAfterSeconds,
    gatewayId: origin.gatewayId,
    time: iso(origin.at),
  };
  return toAlert(payload, throttleAlertKey(refusal.bucket, origin.at), origin.at);
}
