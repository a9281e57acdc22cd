/**
 * The control plane's tables (migration 040): the policy chain's versions with the custom module sources
 * published with them, the developers with their keyed token hashes, and one revision counter that every
 * change bumps. On PostgreSQL each change also sends `NOTIFY recondo_control` in its transaction, so every
 * gateway attached to the database hears of it as the change commits.
 *
 * Writers serialise on the `control_state` row (`FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite):
 * two admins publishing at once get consecutive versions, never a lost update.
 * @module
 */
import type { Db, Queryable, Row } from "../db/db.ts";
import type { NewPolicyVersion, PolicyVersion } from "../../policies/versions/store.ts";
import { createSqlPolicyVersionStore } from "../ledger/sql_policy_versions.ts";

/** The PostgreSQL channel gateways LISTEN on; the payload is the new revision. */
export const CONTROL_CHANNEL = "recondo_control";

/** A developer as the control plane keeps them: the token only as its keyed hash. */
export interface DeveloperRecord {
  name: string;
  team: string | null;
  tokenHash: string | null;
  apiKeyHashes: string[];
}

/** Everything a gateway runs, as stored. */
export interface StoredControl {
  revision: number;
  /** The current chain version, or `null` when nothing was ever published. */
  policy: PolicyVersion | null;
  developers: DeveloperRecord[];
}

/** A chain version to publish, with the module sources it needs (by SHA-256). */
export interface PublishedVersion extends NewPolicyVersion {
  sources: ReadonlyMap<string, string>;
}

/** The control plane's SQL, for both engines. */
export interface ControlStore {
  revision(): Promise<number>;
  snapshot(): Promise<StoredControl>;
  /** Sources by hash; throws naming a hash that is missing. */
  moduleSources(hashes: readonly string[]): Promise<Map<string, string>>;
  publish(version: PublishedVersion): Promise<PolicyVersion>;
  /** Replaces the developer list (added, changed, removed) in one change. */
  saveDevelopers(developers: readonly DeveloperRecord[], now?: number): Promise<void>;
  /**
   * Runs `fill` once for the life of the database: the first gateway to start against an empty control
   * plane imports its config file's policies and developers. Returns whether `fill` ran here.
   */
  importOnce(fill: (tx: ControlWriter) => Promise<void>, now?: number): Promise<boolean>;
  /**
   * Compares the fleet key's check value with the stored one (stored by the first gateway): `mismatch`
   * means this gateway hashes tokens and API keys with another key than the rest of the fleet.
   */
  checkFleetKey(check: string): Promise<"stored" | "match" | "mismatch">;
}

/** What an import may write, inside the import's transaction. */
export interface ControlWriter {
  publish(version: PublishedVersion): Promise<PolicyVersion>;
  saveDevelopers(developers: readonly DeveloperRecord[], now?: number): Promise<void>;
  /** How many chain versions and developers are stored already. */
  contents(): Promise<{ versions: number; developers: number }>;
}

function developer(row: Row): DeveloperRecord {
  return {
    name: String(row.name),
    team: row.team === null ? null : String(row.team),
    tokenHash: row.token_hash === null ? null : String(row.token_hash),
    apiKeyHashes: JSON.parse(String(row.api_key_hashes)),
  };
}

/** A `ControlStore` over a migrated database. */
export function createControlStore(db: Db): ControlStore {
  const lock = (tx: Queryable) =>
    tx.query(
      `SELECT revision FROM control_state WHERE id = 1${db.engine === "postgres" ? " FOR UPDATE" : ""}`,
    );
  const bump = async (tx: Queryable) => {
    const [row] = await tx.query<{ revision: number }>(
      "UPDATE control_state SET revision = revision + 1 WHERE id = 1 RETURNING revision",
    );
    if (db.engine === "postgres") {
      await tx.query("SELECT pg_notify($1, $2)", [CONTROL_CHANNEL, String(row.revision)]);
    }
  };
  const writer = (tx: Queryable): ControlWriter => ({
    async publish(version) {
      for (const [sha, source] of version.sources) {
        await tx.run(
          "INSERT INTO policy_modules (sha256, source, created_at) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING",
          [sha, source, version.createdAt],
        );
      }
      const { sources: _sources, ...row } = version;
      const stored = await createSqlPolicyVersionStore(tx).append(row);
      await bump(tx);
      return stored;
    },
    async saveDevelopers(developers, now = Date.now()) {
      const names = new Set(developers.map((d) => d.name));
      const existing = await tx.query<{ name: string }>("SELECT name FROM developers");
      for (const row of existing) {
        if (!names.has(row.name)) await tx.run("DELETE FROM developers WHERE name = $1", [row.name]);
      }
      for (const d of developers) {
        await tx.run(
          `INSERT INTO developers (name, team, token_hash, api_key_hashes, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $5)
           ON CONFLICT (name) DO UPDATE SET team = excluded.team, token_hash = excluded.token_hash,
             api_key_hashes = excluded.api_key_hashes, updated_at = excluded.updated_at`,
          [d.name, d.team, d.tokenHash, JSON.stringify(d.apiKeyHashes), now],
        );
      }
      await bump(tx);
    },
    async contents() {
      const [v] = await tx.query<{ n: number }>("SELECT COUNT(*) AS n FROM policy_versions");
      const [d] = await tx.query<{ n: number }>("SELECT COUNT(*) AS n FROM developers");
      return { versions: Number(v.n), developers: Number(d.n) };
    },
  });
  const inLock = <T>(fn: (tx: Queryable) => Promise<T>) =>
    db.transaction(async (tx) => {
      await lock(tx);
      return await fn(tx);
    });
  return {
    async revision() {
      const [row] = await db.query<{ revision: number }>("SELECT revision FROM control_state WHERE id = 1");
      return Number(row?.revision ?? 0);
    },
    async snapshot() {
      // One transaction, so the revision, the chain and the developers belong together.
      return await db.transaction(async (tx) => {
        const [state] = await tx.query<{ revision: number }>(
          "SELECT revision FROM control_state WHERE id = 1",
        );
        const policy = await createSqlPolicyVersionStore(tx).latest();
        const developers =
          (await tx.query("SELECT name, team, token_hash, api_key_hashes FROM developers ORDER BY name"))
            .map(developer);
        return { revision: Number(state?.revision ?? 0), policy, developers };
      });
    },
    async moduleSources(hashes) {
      const found = new Map<string, string>();
      for (const sha of hashes) {
        const [row] = await db.query<{ source: string }>(
          "SELECT source FROM policy_modules WHERE sha256 = $1",
          [
            sha,
          ],
        );
        if (!row) throw new Error(`Policy module ${sha} is missing from policy_modules`);
        found.set(sha, String(row.source));
      }
      return found;
    },
    publish: (version) => inLock((tx) => writer(tx).publish(version)),
    saveDevelopers: (developers, now) => inLock((tx) => writer(tx).saveDevelopers(developers, now)),
    checkFleetKey: (check) =>
      inLock(async (tx) => {
        const [state] = await tx.query<{ hmac_check: string | null }>(
          "SELECT hmac_check FROM control_state WHERE id = 1",
        );
        if (state?.hmac_check) return state.hmac_check === check ? "match" : "mismatch";
        await tx.run("UPDATE control_state SET hmac_check = $1 WHERE id = 1", [check]);
        return "stored";
      }),
    importOnce: (fill, now = Date.now()) =>
      inLock(async (tx) => {
        const [state] = await tx.query<{ imported_at: number | null }>(
          "SELECT imported_at FROM control_state WHERE id = 1",
        );
        if (state?.imported_at !== null && state?.imported_at !== undefined) return false;
        await fill(writer(tx));
        await tx.run("UPDATE control_state SET imported_at = $1 WHERE id = 1", [now]);
        return true;
      }),
  };
}
