-- Objects whose turns were deleted by policy but which S3 Object Lock still retains. Retention runs keep
-- them here and remove them once the lock has expired (unless a turn names them again by then). Not
-- append-only: a row goes when its object does.
CREATE TABLE retention_pending_objects (
  sha256 TEXT PRIMARY KEY,
  retained_until BIGINT NOT NULL,
  reason TEXT NOT NULL,
  noted_at BIGINT NOT NULL
);
CREATE INDEX retention_pending_by_until ON retention_pending_objects (retained_until);
