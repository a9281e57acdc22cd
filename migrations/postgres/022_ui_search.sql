-- Full-text search for the UI's Sessions page: SQLite gets trigram FTS5 tables in this migration; on
-- PostgreSQL the search stays an ILIKE over turns and tool_calls (a pg_trgm GIN index would need the
-- extension, which an operator may not allow). Kept so both engines share migration numbers.
SELECT 1;
