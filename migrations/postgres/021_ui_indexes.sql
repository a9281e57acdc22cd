-- Indexes for the UI's read paths (ui/, storage/ui/): spend rollups read only this covering index instead
-- of every turn row, and the Live view and its poller find newly captured exchanges without a scan.
CREATE INDEX turns_ui_spend ON turns (started_at, team, developer, provider, model, cost_usd);
CREATE INDEX exchanges_by_captured ON exchanges (captured_at);
