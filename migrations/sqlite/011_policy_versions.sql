-- Every version of the policy chain (policies/versions): who changed what, when, and why. Append-only:
-- a rollback is a new version whose entries copy an older one.
CREATE TABLE policy_versions (
  version INTEGER PRIMARY KEY,
  entries TEXT NOT NULL,
  author TEXT NOT NULL,
  action TEXT NOT NULL,
  note TEXT,
  based_on INTEGER,
  created_at INTEGER NOT NULL
);
CREATE TRIGGER policy_versions_no_update BEFORE UPDATE ON policy_versions
BEGIN SELECT RAISE(ABORT, 'policy_versions is append-only'); END;
CREATE TRIGGER policy_versions_no_delete BEFORE DELETE ON policy_versions
BEGIN SELECT RAISE(ABORT, 'policy_versions is append-only'); END;
