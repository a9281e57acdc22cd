-- Header sets stored once (capture/header_sets.ts): a client sends the same headers on every request of a
-- session but for a request id or two, so an exchange names a stored set in `request_headers_base` /
-- `response_headers_base` and its `request_headers` / `response_headers` then hold only the values that
-- differ from that set (same names, same order). Without a base they hold every header, as before.
-- Retention removes a set once no exchange names it.
CREATE TABLE header_sets (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,
  headers TEXT NOT NULL
);
ALTER TABLE exchanges ADD COLUMN request_headers_base INTEGER REFERENCES header_sets (id);
ALTER TABLE exchanges ADD COLUMN response_headers_base INTEGER REFERENCES header_sets (id);
CREATE INDEX exchanges_by_request_headers_base ON exchanges (request_headers_base);
CREATE INDEX exchanges_by_response_headers_base ON exchanges (response_headers_base);
