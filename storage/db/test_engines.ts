/**
 * Test helper: runs one test body against every database engine, so the same suite covers SQLite and
 * PostgreSQL. Each run gets a fresh, migrated database (a temp SQLite file, or a new database in a shared
 * throwaway PostgreSQL cluster).
 * @module
 */
import { sharedPostgres } from "../../tests/support/postgres.ts";
import type { Db } from "./db.ts";
import { migrate } from "./migrate.ts";
import { openPostgres } from "./postgres.ts";
import { openSqlite } from "./sqlite.ts";

/** What a test body receives. */
export interface EngineContext {
  db: Db;
  /**
   * Another handle on the same database, as a second replica would have. PostgreSQL: a second pool.
   * SQLite: the same handle — node:sqlite is synchronous, so a second connection in the same process
   * would block the thread on the first one's lock; one process keeps one connection.
   */
  openAnother(): Promise<Db>;
  /** Runs SQL as the PostgreSQL superuser on the same database (SQLite: the same file). */
  superuser(): Promise<Db>;
}

/** Registers `name [sqlite]` and `name [postgres]` (or only the engine named by `only`). */
export function testBothEngines(
  name: string,
  fn: (ctx: EngineContext) => Promise<void>,
  only?: "sqlite" | "postgres",
): void {
  if (only !== "postgres") testSqlite(name, fn);
  if (only !== "sqlite") testPostgres(name, fn);
}

function testSqlite(name: string, fn: (ctx: EngineContext) => Promise<void>): void {
  Deno.test({
    name: `${name} [sqlite]`,
    fn: async () => {
      const dir = await Deno.makeTempDir();
      const path = `${dir}/recondo.db`;
      const opened: Db[] = [];
      const open = async () => {
        const db = openSqlite(path);
        opened.push(db);
        await migrate(db);
        return db;
      };
      try {
        const db = await open();
        await fn({ db, openAnother: () => Promise.resolve(db), superuser: () => Promise.resolve(db) });
      } finally {
        for (const db of opened) await db.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

function testPostgres(name: string, fn: (ctx: EngineContext) => Promise<void>): void {
  Deno.test({
    name: `${name} [postgres]`,
    fn: async () => {
      const pg = await sharedPostgres();
      const url = await pg.createDatabase();
      const opened: Db[] = [];
      const open = async (target = url) => {
        const db = openPostgres(target);
        opened.push(db);
        await migrate(db);
        return db;
      };
      try {
        await fn({
          db: await open(),
          openAnother: () => open(),
          superuser: () => open(url.replace("recondo:recondo@", "postgres@")),
        });
      } finally {
        for (const db of opened) await db.close();
      }
    },
  });
}
