-- Request bodies stored as segments (storage/bodies/): the recurring parts of a conversation (system prompt,
-- tools, each message) are stored once, and each body as a manifest of segment hashes and literal bytes.

-- The agreement between capture and retention, one row per stored object: capture touches (or inserts) a
-- hash's row in the transaction that names it, and retention deletes only under that row's lock, so a turn
-- can never name an object retention is removing. A segment's row also says where it lives: the byte range
-- of its gzip member inside a pack object. `state` is 'present' or 'deleting' (retention is removing it;
-- capture waits and stores it again).
CREATE TABLE stored_objects (
  sha256 TEXT PRIMARY KEY,
  state TEXT NOT NULL DEFAULT 'present',
  touched_at INTEGER NOT NULL,
  size INTEGER,
  pack_sha256 TEXT,
  pack_offset INTEGER,
  pack_length INTEGER
);
CREATE INDEX stored_objects_by_pack ON stored_objects (pack_sha256);

-- A segmented body: its parts are the first `base_parts` parts of the manifest of `base_sha256` (an earlier
-- turn's body) followed by `parts` (JSON: ["s", sha256, size] or ["l", base64 literal]), so each turn adds
-- only what changed. `sha256` is the SHA-256 of the reassembled bytes: the request_sha256 of its rows.
CREATE TABLE body_manifests (
  sha256 TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  base_sha256 TEXT,
  base_parts INTEGER NOT NULL,
  parts TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX body_manifests_by_base ON body_manifests (base_sha256);

-- The segments each manifest's own parts name (not its base's): what retention asks before removing one.
CREATE TABLE manifest_segments (
  body_sha256 TEXT NOT NULL,
  segment_sha256 TEXT NOT NULL,
  PRIMARY KEY (body_sha256, segment_sha256)
);
CREATE INDEX manifest_segments_by_segment ON manifest_segments (segment_sha256);
