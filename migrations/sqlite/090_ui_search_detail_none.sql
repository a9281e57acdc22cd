-- The Sessions search's trigram indexes (migration 022) without token positions (`detail=none`): the
-- search asks "which sessions contain this substring", which the index answers with `LIKE` from trigrams
-- alone, so positions were never needed, and writing them doubled what indexing a turn cost the capture
-- writer (measured ~95 → ~50 µs per 2 KB turn) and the index's size. Rebuilt from the rows they index.
DROP TRIGGER ui_search_turns_insert;
DROP TRIGGER ui_search_turns_delete;
DROP TRIGGER ui_search_tools_insert;
DROP TRIGGER ui_search_tools_delete;
DROP TABLE ui_search_turns;
DROP TABLE ui_search_tools;

CREATE VIRTUAL TABLE ui_search_turns USING fts5(session_id UNINDEXED, body, tokenize = 'trigram', detail = none);
CREATE VIRTUAL TABLE ui_search_tools USING fts5(session_id UNINDEXED, body, tokenize = 'trigram', detail = none);

CREATE TRIGGER ui_search_turns_insert AFTER INSERT ON turns
BEGIN
  INSERT INTO ui_search_turns (rowid, session_id, body)
  VALUES (NEW.rowid, NEW.session_id, COALESCE(NEW.prompt, '') || char(10) || COALESCE(NEW.response_text, ''));
END;
CREATE TRIGGER ui_search_turns_delete AFTER DELETE ON turns
BEGIN
  DELETE FROM ui_search_turns WHERE rowid = OLD.rowid;
END;
CREATE TRIGGER ui_search_tools_insert AFTER INSERT ON tool_calls
BEGIN
  INSERT INTO ui_search_tools (rowid, session_id, body)
  VALUES (NEW.rowid, NEW.session_id, NEW.name || char(10) || NEW.arguments);
END;
CREATE TRIGGER ui_search_tools_delete AFTER DELETE ON tool_calls
BEGIN
  DELETE FROM ui_search_tools WHERE rowid = OLD.rowid;
END;

INSERT INTO ui_search_turns (rowid, session_id, body)
SELECT rowid, session_id, COALESCE(prompt, '') || char(10) || COALESCE(response_text, '') FROM turns;
INSERT INTO ui_search_tools (rowid, session_id, body)
SELECT rowid, session_id, name || char(10) || arguments FROM tool_calls;
