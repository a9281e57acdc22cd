-- Web UI (ui/, storage/ui/): local accounts, login sessions and the audit log of every change.
-- Times are epoch milliseconds. Session ids are stored as the SHA-256 of the cookie value, never in clear.

CREATE TABLE ui_users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE ui_sessions (
  id_hash TEXT PRIMARY KEY,
  user_name TEXT NOT NULL,
  role TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX ui_sessions_by_expiry ON ui_sessions (expires_at);

-- Append-only: who changed what, with the value before and after (JSON text).
CREATE TABLE ui_audit (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  before_value TEXT,
  after_value TEXT
);
CREATE INDEX ui_audit_by_at ON ui_audit (at);
CREATE TRIGGER ui_audit_no_update BEFORE UPDATE ON ui_audit
BEGIN SELECT RAISE(ABORT, 'ui_audit is append-only'); END;
CREATE TRIGGER ui_audit_no_delete BEFORE DELETE ON ui_audit
BEGIN SELECT RAISE(ABORT, 'ui_audit is append-only'); END;
