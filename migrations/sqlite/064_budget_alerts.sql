-- Budget and throttle alerts (alerts/): an outbox shared by every replica. The database decides which
-- replica raises an alert: each alert has a dedupe key (budget or bucket, period, threshold), and only the
-- replica whose INSERT ... ON CONFLICT DO NOTHING added the row queues its deliveries. A delivery is leased
-- by bumping its attempt count and next_attempt_at in one conditional UPDATE, so any replica retries one
-- whose sender crashed, and no two send it at once. Webhook URLs (which often carry a secret) are kept
-- only as a hash and a host.

CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  dedupe_key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  scope TEXT NOT NULL,
  message TEXT NOT NULL,
  payload TEXT NOT NULL,
  gateway_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX alerts_by_time ON alerts (created_at);

CREATE TABLE alert_deliveries (
  alert_id TEXT NOT NULL REFERENCES alerts (id),
  webhook_id TEXT NOT NULL,
  webhook_host TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_status INTEGER,
  last_error TEXT,
  delivered_at INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (alert_id, webhook_id)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_attempt_at);
