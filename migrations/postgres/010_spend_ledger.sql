-- Spend caps (policies/spend_cap): one row per budget per calendar period, amounts in micro-USD so sums
-- are exact. `reserved_micros` holds estimated ceilings of requests in flight; each reservation's share
-- per budget is in spend_reservations until it settles or is released.

CREATE TABLE spend_budgets (
  budget_key TEXT PRIMARY KEY,
  scope TEXT NOT NULL,
  period TEXT NOT NULL,
  period_start BIGINT NOT NULL,
  period_end BIGINT NOT NULL,
  spent_micros BIGINT NOT NULL DEFAULT 0,
  reserved_micros BIGINT NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL
);
CREATE INDEX spend_budgets_by_scope ON spend_budgets (scope, period_start);

CREATE TABLE spend_reservations (
  reservation_id TEXT NOT NULL,
  budget_key TEXT NOT NULL REFERENCES spend_budgets (budget_key),
  amount_micros BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (reservation_id, budget_key)
);
CREATE INDEX spend_reservations_by_expiry ON spend_reservations (expires_at);

-- Throttle (policies/throttle): token buckets shared by every replica.
CREATE TABLE throttle_buckets (
  bucket_key TEXT PRIMARY KEY,
  tokens DOUBLE PRECISION NOT NULL,
  updated_at BIGINT NOT NULL
);
