-- Objects whose turns were deleted by policy but which S3 Object Lock still retains. Retention runs keep
-- them here and remove them once the lock has expired (unless a turn names them again by then). Not
-- append-only: a row goes when its object does.
CREATE TABLE retention_pending_objects (
  sha256 TEXT PRIMARY KEY,
  retained_until INTEGER NOT NULL,
  reason TEXT NOT NULL,
  noted_at INTEGER NOT NULL
);
CREATE INDEX retention_pending_by_until ON retention_pending_objects (retained_until);

-- Retention asks, for each body of a deleted turn, whether any remaining row still names it.
CREATE INDEX turns_by_request_sha ON turns (request_sha256);
CREATE INDEX turns_by_response_sha ON turns (response_sha256);
CREATE INDEX exchanges_by_request_sha ON exchanges (request_sha256);
CREATE INDEX exchanges_by_response_sha ON exchanges (response_sha256);
