-- The fleet's control plane (control/): with PostgreSQL, every gateway sharing the database runs the chain
-- and the developers stored here, and follows their changes live.

-- Custom policy modules published with a chain version: {"policies/mine.ts": "<sha256>", ...}, paths
-- relative to the folder of the published config file. NULL: the version uses built-in modules only.
ALTER TABLE policy_versions ADD COLUMN modules TEXT;

-- Module sources, content-addressed (SHA-256 of the UTF-8 source), shared by every version that uses them.
CREATE TABLE policy_modules (
  sha256 TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

-- Developers and their proxy credentials. Tokens are kept only as keyed hashes (HMAC with the fleet key).
CREATE TABLE developers (
  name TEXT PRIMARY KEY,
  team TEXT,
  token_hash TEXT,
  api_key_hashes TEXT NOT NULL DEFAULT '[]',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- One row: bumped by every change to the chain or the developers (gateways compare it to what they run),
-- the time the config file's policies and developers were imported into an empty control plane, and a
-- check value of the fleet's HMAC key (a keyed hash of a constant), so a gateway started with another key
-- refuses to start instead of rejecting every proxy token.
CREATE TABLE control_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  revision BIGINT NOT NULL,
  imported_at BIGINT,
  hmac_check TEXT
);
INSERT INTO control_state (id, revision, imported_at) VALUES (1, 0, NULL);

-- Fleet status: each gateway's heartbeat.
CREATE TABLE gateways (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  listen TEXT NOT NULL,
  version TEXT NOT NULL,
  pid INTEGER,
  chain_version INTEGER,
  chain_error TEXT,
  started_at BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  in_flight INTEGER NOT NULL DEFAULT 0,
  capture_backlog INTEGER NOT NULL DEFAULT 0,
  draining BOOLEAN NOT NULL DEFAULT FALSE,
  stopped_at BIGINT
);
