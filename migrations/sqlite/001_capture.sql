-- Capture schema (SQLite). Times are epoch milliseconds; JSON is stored as text.
-- turns, tool_calls, tool_results, chain_heads and deletions are append-only (triggers below).

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  client_key TEXT UNIQUE,
  fingerprint TEXT,
  owner TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT,
  developer TEXT,
  team TEXT,
  client_address TEXT,
  repo TEXT,
  branch TEXT,
  intent TEXT,
  started_at INTEGER NOT NULL,
  last_activity_at INTEGER NOT NULL,
  turn_count INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  head_seq INTEGER NOT NULL DEFAULT 0,
  head_hash TEXT,
  head_turn_id TEXT
);
CREATE INDEX sessions_by_fingerprint ON sessions (owner, fingerprint, last_activity_at);
CREATE INDEX sessions_by_activity ON sessions (last_activity_at);

CREATE TABLE exchanges (
  id TEXT PRIMARY KEY,
  connection_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  provider TEXT NOT NULL,
  api TEXT,
  method TEXT NOT NULL,
  host TEXT NOT NULL,
  path TEXT NOT NULL,
  status INTEGER,
  outcome TEXT,
  developer TEXT,
  team TEXT,
  client_address TEXT NOT NULL,
  client_via TEXT NOT NULL,
  api_key_hash TEXT,
  started_at INTEGER NOT NULL,
  ttfb_ms INTEGER,
  duration_ms INTEGER,
  request_sha256 TEXT,
  request_bytes INTEGER NOT NULL,
  response_sha256 TEXT,
  response_bytes INTEGER NOT NULL,
  request_headers TEXT NOT NULL,
  response_headers TEXT,
  errors TEXT NOT NULL,
  session_id TEXT,
  turn_id TEXT,
  captured_at INTEGER NOT NULL
);
CREATE INDEX exchanges_by_start ON exchanges (started_at);
CREATE INDEX exchanges_by_session ON exchanges (session_id);

CREATE TABLE turns (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions (id),
  seq INTEGER NOT NULL,
  exchange_id TEXT NOT NULL UNIQUE,
  provider TEXT NOT NULL,
  api TEXT,
  model TEXT,
  status INTEGER,
  outcome TEXT,
  developer TEXT,
  team TEXT,
  api_key_hash TEXT,
  started_at INTEGER NOT NULL,
  ttfb_ms INTEGER,
  duration_ms INTEGER,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cache_read_tokens INTEGER NOT NULL,
  cache_write_5m_tokens INTEGER NOT NULL,
  cache_write_1h_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  usage_estimated INTEGER NOT NULL,
  cost_usd REAL,
  stop_reason TEXT,
  response_id TEXT,
  prompt TEXT,
  response_text TEXT,
  request_sha256 TEXT NOT NULL,
  response_sha256 TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  UNIQUE (session_id, seq)
);
CREATE INDEX turns_by_response_id ON turns (response_id);
CREATE INDEX turns_by_start ON turns (started_at);

CREATE TABLE tool_calls (
  id TEXT PRIMARY KEY,
  turn_id TEXT NOT NULL REFERENCES turns (id),
  session_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  call_id TEXT NOT NULL,
  name TEXT NOT NULL,
  arguments TEXT NOT NULL,
  server INTEGER NOT NULL
);
CREATE INDEX tool_calls_by_turn ON tool_calls (turn_id);
CREATE INDEX tool_calls_by_call ON tool_calls (session_id, call_id);

CREATE TABLE tool_results (
  id TEXT PRIMARY KEY,
  turn_id TEXT NOT NULL REFERENCES turns (id),
  session_id TEXT NOT NULL,
  call_id TEXT NOT NULL,
  tool_call_id TEXT,
  content TEXT NOT NULL,
  is_error INTEGER NOT NULL
);
CREATE INDEX tool_results_by_turn ON tool_results (turn_id);
CREATE INDEX tool_results_by_call ON tool_results (tool_call_id);

CREATE TABLE events (
  id TEXT PRIMARY KEY,
  exchange_id TEXT NOT NULL,
  session_id TEXT,
  turn_id TEXT,
  kind TEXT NOT NULL,
  policy TEXT,
  hook TEXT,
  decision TEXT,
  enforced INTEGER,
  reason TEXT NOT NULL,
  detail TEXT,
  at INTEGER NOT NULL
);
CREATE INDEX events_by_exchange ON events (exchange_id);
CREATE INDEX events_by_session ON events (session_id);
CREATE INDEX events_by_kind ON events (kind, at);

CREATE TABLE signing_keys (
  key_id TEXT PRIMARY KEY,
  public_jwk TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE chain_heads (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  turn_id TEXT NOT NULL,
  hash TEXT NOT NULL,
  signed_at INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  signature TEXT NOT NULL
);
CREATE INDEX chain_heads_by_session ON chain_heads (session_id, seq);

-- A deletion by policy (retention, data-subject request) is recorded here first; only then do the
-- append-only triggers let the rows go, and `verify` reports them as deleted-by-policy.
CREATE TABLE deletions (
  id TEXT PRIMARY KEY,
  target TEXT NOT NULL,
  target_id TEXT NOT NULL,
  session_id TEXT,
  seq INTEGER,
  hash TEXT,
  reason TEXT NOT NULL,
  deleted_at INTEGER NOT NULL
);
CREATE INDEX deletions_by_target ON deletions (target, target_id);

CREATE TRIGGER turns_no_update BEFORE UPDATE ON turns
BEGIN SELECT RAISE(ABORT, 'turns are append-only: UPDATE refused'); END;
CREATE TRIGGER turns_no_delete BEFORE DELETE ON turns
WHEN NOT EXISTS (SELECT 1 FROM deletions WHERE target = 'turn' AND target_id = OLD.id)
BEGIN SELECT RAISE(ABORT, 'turns are append-only: DELETE refused without a deletions record'); END;

CREATE TRIGGER tool_calls_no_update BEFORE UPDATE ON tool_calls
BEGIN SELECT RAISE(ABORT, 'tool_calls are append-only: UPDATE refused'); END;
CREATE TRIGGER tool_calls_no_delete BEFORE DELETE ON tool_calls
WHEN NOT EXISTS (SELECT 1 FROM deletions WHERE target = 'turn' AND target_id = OLD.turn_id)
BEGIN SELECT RAISE(ABORT, 'tool_calls are append-only: DELETE refused without a deletions record'); END;

CREATE TRIGGER tool_results_no_update BEFORE UPDATE ON tool_results
BEGIN SELECT RAISE(ABORT, 'tool_results are append-only: UPDATE refused'); END;
CREATE TRIGGER tool_results_no_delete BEFORE DELETE ON tool_results
WHEN NOT EXISTS (SELECT 1 FROM deletions WHERE target = 'turn' AND target_id = OLD.turn_id)
BEGIN SELECT RAISE(ABORT, 'tool_results are append-only: DELETE refused without a deletions record'); END;

CREATE TRIGGER chain_heads_no_update BEFORE UPDATE ON chain_heads
BEGIN SELECT RAISE(ABORT, 'chain_heads are append-only: UPDATE refused'); END;
CREATE TRIGGER chain_heads_no_delete BEFORE DELETE ON chain_heads
BEGIN SELECT RAISE(ABORT, 'chain_heads are append-only: DELETE refused'); END;

CREATE TRIGGER deletions_no_update BEFORE UPDATE ON deletions
BEGIN SELECT RAISE(ABORT, 'deletions are append-only: UPDATE refused'); END;
CREATE TRIGGER deletions_no_delete BEFORE DELETE ON deletions
BEGIN SELECT RAISE(ABORT, 'deletions are append-only: DELETE refused'); END;
