/**
 * PostgreSQL through `npm:pg`, a pool shared by the capture writer, queries and `verify`. `bigint` and
 * `numeric` columns are parsed to JS numbers per pool (not globally), which is exact for token counts and
 * millisecond timestamps.
 * @module
 */
// @ts-types="@types/pg"
import pg from "pg";
import { type Db, DbError, type Queryable, type Row, type SqlValue } from "./db.ts";

const INT8 = 20;
const NUMERIC = 1700;

const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8) return (value: string) => Number(value);
    if (oid === NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** Opens a pool on `url` (`postgres://user:pass@host:port/db`). Connects lazily. */
export function openPostgres(url: string, options: { max?: number } = {}): Db {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 8, types });
  // An idle client that loses its server emits "error"; without a listener the process would exit.
  pool.on("error", () => {});
  return new PostgresDb(pool);
}

/** Statement names by SQL text: each connection parses and plans a named statement once, not per call. */
const statementNames = new Map<string, string>();

function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) statementNames.set(sql, name = `recondo_${statementNames.size}`);
  return name;
}

async function queryWith<T extends Row>(
  client: pg.Pool | pg.PoolClient,
  sql: string,
  params: readonly SqlValue[],
): Promise<pg.QueryResult<T>> {
  try {
    // Only parameterised statements are prepared: the rest (BEGIN, DDL, scripts) may hold several commands.
    if (params.length) {
      return await client.query<T>({ name: statementName(sql), text: sql, values: params as unknown[] });
    }
    return await client.query<T>(sql);
  } catch (error) {
    throw new DbError(`PostgreSQL statement failed: ${(error as Error).message}`, sql, { cause: error });
  }
}

class PostgresDb implements Db {
  readonly engine = "postgres" as const;

  constructor(readonly pool: pg.Pool) {}

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await queryWith<T>(this.pool, sql, params)).rows;
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await queryWith(this.pool, sql, params)).rowCount ?? 0;
  }

  async exec(sql: string): Promise<void> {
    await queryWith(this.pool, sql, []);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx: Queryable = {
      query: async <R extends Row = Row>(sql: string, params: readonly SqlValue[] = []) =>
        (await queryWith<R>(client, sql, params)).rows,
      run: async (sql: string, params: readonly SqlValue[] = []) =>
        (await queryWith(client, sql, params)).rowCount ?? 0,
      exec: async (sql: string) => {
        await queryWith(client, sql, []);
      },
    };
    try {
      await client.query("BEGIN");
      const value = await fn(tx);
      await client.query("COMMIT");
      return value;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
