-- Long tool results are kept deflated (storage/packed_text.ts): `content` is then empty and
-- `content_deflated` holds the deflated UTF-8. Rows written before keep their plain `content`.
ALTER TABLE tool_results ADD COLUMN content_deflated BYTEA;
