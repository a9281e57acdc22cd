/**
 * The token buckets `throttle` needs from below, shared by every replica through the database
 * (implemented in `storage/ledger/`, injected as `PolicyServices.rateLimiter`).
 * @module
 */

/** One bucket: `capacity` tokens, refilled continuously at `capacity` per `windowMs`. */
export interface BucketSpec {
  /** e.g. `developer:alice|rpm`. */
  key: string;
  capacity: number;
  windowMs: number;
  /** Tokens this call takes. */
  cost: number;
  /**
   * `full`: the bucket must hold `cost` tokens (requests). `positive`: it must hold more than zero and may
   * go negative (token budgets, where the true cost is known only after the response).
   */
  require: "full" | "positive";
}

export type TakeResult =
  | { ok: true }
  /** Nothing was taken from any bucket; `retryAfterMs` is when `key` will admit the call. */
  | { ok: false; key: string; retryAfterMs: number; available: number };

export interface RateLimiter {
  /** Takes from every bucket atomically, or from none. */
  take(buckets: readonly BucketSpec[], at: number): Promise<TakeResult>;
  /** Adds `delta` (may be negative) to buckets without a check: the correction once usage is known. */
  adjust(
    buckets: readonly { key: string; capacity: number; windowMs: number; delta: number }[],
    at: number,
  ): Promise<void>;
}
