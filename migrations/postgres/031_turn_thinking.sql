-- The model's visible thinking per turn (Anthropic thinking blocks, Gemini thought parts), for the Session
-- page. It joins the turn's hash only when set, so turns stored before this column keep their hash.
ALTER TABLE turns ADD COLUMN thinking_text TEXT;
