/**
 * What `spend-cap` and `throttle` tell the alerting below them. Policies never import storage or the
 * network: this interface lives here, `alerts/` implements it (a database-backed outbox and webhook
 * delivery) and the gateway injects it as `PolicyServices.alerts`.
 *
 * Both calls are made on the hot path or right behind it, so an implementation must return at once:
 * detect cheaply, queue, and do the database and HTTP work later.
 * @module
 */
import type { BudgetWindow } from "./spend_cap/ledger.ts";

/** A throttle refusal as the alert reports it. */
export interface ThrottleRefusal {
  /** The bucket that refused, e.g. `developer:alice|rpm:60`. */
  bucket: string;
  /** e.g. `developer:alice`. */
  scope: string;
  /** e.g. `60 requests per minute`. */
  limit: string;
  retryAfterSeconds: number;
}

export interface AlertSink {
  /** A settlement moved a budget's spend from `beforeMicros` to `afterMicros` (the ledger's own numbers). */
  budgetSettled(window: BudgetWindow, spent: { beforeMicros: number; afterMicros: number }, at: number): void;
  /** A throttle refused a request. */
  throttleRefused(refusal: ThrottleRefusal, at: number): void;
}
