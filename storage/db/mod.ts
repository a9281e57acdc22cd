/**
 * Opens the configured database and brings its schema up to date: `RECONDO_STORE=sqlite` (default,
 * `<data dir>/recondo.db`) or `postgres` with `RECONDO_DB_URL` (and optionally `RECONDO_DB_MIGRATE_URL`, the
 * schema owner that runs migrations, see `migrate_role.ts`).
 * @module
 */
import type { DataPaths } from "../../config/paths.ts";
import type { Db } from "./db.ts";
import { migrate } from "./migrate.ts";
import { migrateAsOwner } from "./migrate_role.ts";
import { openPostgres } from "./postgres.ts";
import { openSqlite, type SqliteOptions } from "./sqlite.ts";

export { type Db, DbError, type Queryable, type Row, type SqlValue } from "./db.ts";
export { migrate } from "./migrate.ts";
export { openPostgres } from "./postgres.ts";
export { openSqlite, type SqliteOptions } from "./sqlite.ts";

/** The database named by `RECONDO_STORE`, migrated. */
export async function openDatabase(
  paths: Pick<DataPaths, "database" | "dir">,
  env: { get(name: string): string | undefined },
  options: { sqlite?: SqliteOptions } = {},
): Promise<Db> {
  const kind = env.get("RECONDO_STORE") ?? "sqlite";
  let db: Db;
  if (kind === "sqlite") {
    await Deno.mkdir(paths.dir, { recursive: true });
    db = openSqlite(paths.database, options.sqlite);
  } else if (kind === "postgres") {
    const url = env.get("RECONDO_DB_URL");
    if (!url) throw new Error("RECONDO_STORE=postgres needs RECONDO_DB_URL");
    db = openPostgres(url);
  } else {
    throw new Error(`RECONDO_STORE must be "sqlite" or "postgres", got "${kind}"`);
  }
  // With RECONDO_DB_MIGRATE_URL, the schema's owner migrates and this connection stays unprivileged.
  const migrateUrl = kind === "postgres" ? env.get("RECONDO_DB_MIGRATE_URL") : undefined;
  try {
    if (migrateUrl) await migrateAsOwner(migrateUrl, db);
    else await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}
