-- Full-text search for the UI's Sessions page (storage/ui/browse.ts): trigram FTS5 indexes over each
-- turn's prompt and response and each tool call's name and arguments, so a substring search over 100k
-- turns is an index lookup instead of a LIKE scan. Rows share the rowid of the row they index, so a
-- deletion by policy removes its text too. Existing rows are indexed once here.
CREATE VIRTUAL TABLE ui_search_turns USING fts5(session_id UNINDEXED, body, tokenize = 'trigram');
CREATE VIRTUAL TABLE ui_search_tools USING fts5(session_id UNINDEXED, body, tokenize = 'trigram');

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
