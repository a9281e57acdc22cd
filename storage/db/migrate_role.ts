/**
 * PostgreSQL with two roles: migrations run as the schema's owner (`RECONDO_DB_MIGRATE_URL`), the gateway
 * connects as an application role without ownership (`RECONDO_DB_URL`). Only an owner (or a superuser) may
 * `ALTER TABLE … DISABLE TRIGGER` or drop a trigger, so a gateway whose credentials leak still cannot
 * switch off the append-only triggers that guard turns, tool calls, chain heads and deletions. The owner
 * grants the application role what the gateway does: read and write rows (turn deletions stay guarded by
 * the triggers), read `schema_migrations`, and nothing on the schema itself. When
 * `RECONDO_DB_MIGRATE_URL` is unset, one role does both (the behaviour before this module).
 * @example
 * // RECONDO_DB_MIGRATE_URL=postgres://recondo_owner@db/recondo RECONDO_DB_URL=postgres://recondo_app@db/recondo
 * await migrateAsOwner(ownerUrl, appDb);
 * @module
 */
import type { Db } from "./db.ts";
import { migrate } from "./migrate.ts";
import { openPostgres } from "./postgres.ts";

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Applies pending migrations through a short-lived owner connection, then grants the role `appDb` logs
 * in as the privileges the gateway needs on every table (idempotent; re-run at each start so tables added
 * by later migrations are covered). Returns the versions applied.
 */
export async function migrateAsOwner(ownerUrl: string, appDb: Db): Promise<number[]> {
  if (appDb.engine !== "postgres") {
    throw new Error(`RECONDO_DB_MIGRATE_URL applies to PostgreSQL only, not ${appDb.engine}`);
  }
  const [{ app, schema }] = await appDb.query<{ app: string; schema: string }>(
    "SELECT current_user AS app, current_schema() AS schema",
  );
  const owner = openPostgres(ownerUrl, { max: 1 });
  try {
    const applied = await migrate(owner);
    const [{ me }] = await owner.query<{ me: string }>("SELECT current_user AS me");
    if (me === app) return applied;
    const role = ident(app);
    const ns = ident(schema);
    await owner.transaction(async (tx) => {
      await tx.exec(`GRANT USAGE ON SCHEMA ${ns} TO ${role}`);
      await tx.exec(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${ns} TO ${role}`);
      await tx.exec(`REVOKE INSERT, UPDATE, DELETE ON ${ns}.schema_migrations FROM ${role}`);
      await tx.exec(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${ns} TO ${role}`);
    });
    return applied;
  } catch (error) {
    throw new Error(`Cannot migrate as the owner role (RECONDO_DB_MIGRATE_URL) for role "${app}"`, {
      cause: error,
    });
  } finally {
    await owner.close();
  }
}
