/**
 * Applies the versioned SQL files in `migrations/<engine>/NNN_name.sql` that a database has not seen,
 * each in its own transaction, recording them in `schema_migrations`. On PostgreSQL an advisory lock makes
 * replicas that start together apply each migration exactly once.
 * @module
 */
import { fileURLToPath } from "node:url";
import { log } from "../../core/log.ts";
import type { Db } from "./db.ts";

const MIGRATIONS_ROOT = new URL("../../migrations/", import.meta.url);
/** Arbitrary constant naming Recondo's migration lock among other advisory locks. */
const PG_LOCK_KEY = 7_265_310_004;

/** A migration file. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migrations shipped for `engine`, in version order. */
export async function loadMigrations(engine: Db["engine"]): Promise<Migration[]> {
  const dir = fileURLToPath(new URL(`${engine}/`, MIGRATIONS_ROOT));
  const out: Migration[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const match = entry.name.match(/^(\d+)_([a-z0-9_]+)\.sql$/);
    if (!entry.isFile || !match) continue;
    out.push({
      version: Number(match[1]),
      name: match[2],
      sql: await Deno.readTextFile(`${dir}/${entry.name}`),
    });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i].version === out[i - 1].version) {
      throw new Error(
        `Two ${engine} migrations share version ${out[i].version}: ${out[i - 1].name}, ${out[i].name}`,
      );
    }
  }
  return out;
}

/** Brings `db` up to the latest schema; returns the versions it applied. */
export async function migrate(db: Db): Promise<number[]> {
  const migrations = await loadMigrations(db.engine);
  const bigint = db.engine === "postgres" ? "BIGINT" : "INTEGER";
  const applied: number[] = [];
  await db.transaction(async (tx) => {
    // Under the lock: replicas starting together on a fresh database would otherwise race to create
    // schema_migrations (PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against a concurrent one).
    if (db.engine === "postgres") await tx.query("SELECT pg_advisory_xact_lock($1)", [PG_LOCK_KEY]);
    // Created only when missing: an application role without CREATE on the schema (see migrate_role.ts) can
    // then start against a database its owner has already migrated.
    const [{ present }] = await tx.query<{ present: unknown }>(
      db.engine === "postgres"
        ? "SELECT to_regclass('schema_migrations') IS NOT NULL AS present"
        : "SELECT COUNT(*) AS present FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
    );
    if (!Number(present)) {
      await tx.exec(
        `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${bigint} NOT NULL)`,
      );
    }
    const done = new Set(
      (await tx.query<{ version: number }>("SELECT version FROM schema_migrations")).map((r) =>
        Number(r.version)
      ),
    );
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      try {
        await tx.exec(migration.sql);
      } catch (error) {
        throw new Error(`Cannot apply ${db.engine} migration ${migration.version}_${migration.name}`, {
          cause: error,
        });
      }
      await tx.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
        migration.version,
        migration.name,
        Date.now(),
      ]);
      applied.push(migration.version);
    }
  });
  if (applied.length) log.info("db.migrated", { engine: db.engine, applied });
  return applied;
}
