-- `turns_by_start` (migration 001) indexes `started_at` alone, and `turns_ui_spend` (migration 021) leads with
-- it: every query that could use the first (time ranges, retention's `ORDER BY started_at, id`, the CLI's
-- newest-first search) can use the second, so the first was one more index write per captured turn for
-- nothing (issue #12: capture CPU per exchange; each turn row carried 7 indexes).
DROP INDEX IF EXISTS turns_by_start;
