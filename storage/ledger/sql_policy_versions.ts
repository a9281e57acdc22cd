/**
 * The policy chain history in SQL (table `policy_versions`, append-only by trigger on both engines).
 * @module
 */
import type { Queryable, Row } from "../db/db.ts";
import type { PolicyVersion, PolicyVersionStore, VersionAction } from "../../policies/versions/store.ts";

function version(row: Row): PolicyVersion {
  return {
    version: Number(row.version),
    entries: JSON.parse(String(row.entries)),
    author: String(row.author),
    action: String(row.action) as VersionAction,
    note: row.note === null ? null : String(row.note),
    basedOn: row.based_on === null ? null : Number(row.based_on),
    createdAt: Number(row.created_at),
    modules: row.modules === null || row.modules === undefined ? null : JSON.parse(String(row.modules)),
  };
}

const COLUMNS = "version, entries, author, action, note, based_on, created_at, modules";

/**
 * A `PolicyVersionStore` over `db`. Two writers racing for the same number collide on the primary key;
 * the loser retries once with the next number.
 */
export function createSqlPolicyVersionStore(db: Queryable): PolicyVersionStore {
  const append: PolicyVersionStore["append"] = async (v) => {
    for (let attempt = 0;; attempt++) {
      try {
        const [row] = await db.query(
          `INSERT INTO policy_versions (${COLUMNS})
           SELECT COALESCE(MAX(version), 0) + 1, $1, $2, $3, $4, $5, $6, $7 FROM policy_versions
           RETURNING ${COLUMNS}`,
          [
            JSON.stringify(v.entries),
            v.author,
            v.action,
            v.note,
            v.basedOn,
            v.createdAt,
            v.modules ? JSON.stringify(v.modules) : null,
          ],
        );
        return version(row);
      } catch (error) {
        if (attempt >= 1) throw new Error("Cannot record a policy chain version", { cause: error });
      }
    }
  };
  return {
    append,
    async get(n) {
      const [row] = await db.query(`SELECT ${COLUMNS} FROM policy_versions WHERE version = $1`, [n]);
      return row ? version(row) : null;
    },
    async latest() {
      const [row] = await db.query(`SELECT ${COLUMNS} FROM policy_versions ORDER BY version DESC LIMIT 1`);
      return row ? version(row) : null;
    },
    async list(options = {}) {
      const rows = await db.query(
        `SELECT ${COLUMNS} FROM policy_versions ORDER BY version DESC LIMIT $1`,
        [options.limit ?? 100],
      );
      return rows.map(version);
    },
  };
}
