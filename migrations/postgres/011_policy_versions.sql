-- Every version of the policy chain (policies/versions): who changed what, when, and why. Append-only:
-- a rollback is a new version whose entries copy an older one.
CREATE TABLE policy_versions (
  version INTEGER PRIMARY KEY,
  entries TEXT NOT NULL,
  author TEXT NOT NULL,
  action TEXT NOT NULL,
  note TEXT,
  based_on INTEGER,
  created_at BIGINT NOT NULL
);
CREATE FUNCTION policy_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'policy_versions is append-only';
END;
$$;
CREATE TRIGGER policy_versions_no_change BEFORE UPDATE OR DELETE ON policy_versions
FOR EACH ROW EXECUTE FUNCTION policy_versions_append_only();
