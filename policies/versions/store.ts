/**
 * Every version of the policy chain is kept: who changed it, what it became, when, and why. This is the
 * interface the versions API works against; `storage/ledger/sql_policy_versions.ts` implements it for
 * SQLite and PostgreSQL (table `policy_versions`, append-only).
 * @module
 */

/** How a version came to be. */
export type VersionAction = "edit" | "rollback" | "import";

/** One stored version: the whole `policies` array of `recondo.json` as it was then. */
export interface PolicyVersion {
  version: number;
  /** The `policies` entries, exactly as written in `recondo.json`. */
  entries: unknown[];
  author: string;
  action: VersionAction;
  note: string | null;
  /** For a rollback, the version it restores; for an edit, the version it replaced. */
  basedOn: number | null;
  createdAt: number;
  /**
   * Custom module sources published with this version (control plane): module path relative to the
   * published config's folder → SHA-256 of its source. `null` or absent: built-in modules only, or a
   * single node whose modules are files next to its config.
   */
  modules?: Record<string, string> | null;
}

export type NewPolicyVersion = Omit<PolicyVersion, "version">;

export interface PolicyVersionStore {
  /** Appends a version numbered one past the latest; the number is assigned by the store. */
  append(version: NewPolicyVersion): Promise<PolicyVersion>;
  get(version: number): Promise<PolicyVersion | null>;
  latest(): Promise<PolicyVersion | null>;
  /** Newest first. */
  list(options?: { limit?: number }): Promise<PolicyVersion[]>;
}
