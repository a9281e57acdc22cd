-- A tool result whose text lies in a segment of its turn's request body (storage/bodies/) is not copied
-- into the row: `content` is then empty, `content_deflated` NULL, `content_sha256` names the segment (its
-- exact bytes are a JSON string) and the text is that string's [content_from, content_to) slice, in UTF-16
-- units as JavaScript counts them. The turn's hash covers all three (storage/chain.ts), so a changed text
-- is a segment that no longer hashes to its name. Rows written before keep their text.
ALTER TABLE tool_results ADD COLUMN content_sha256 TEXT;
ALTER TABLE tool_results ADD COLUMN content_from INTEGER;
ALTER TABLE tool_results ADD COLUMN content_to INTEGER;
