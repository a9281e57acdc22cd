/**
 * The one database interface both engines implement, so the capture writer, the queries and `verify`
 * are written once. SQL uses PostgreSQL-style `$1` placeholders; the SQLite adapter rewrites them to
 * `?1`. Integers come back as JS numbers on both engines (PostgreSQL `bigint` and `numeric` are parsed).
 * @module
 */

/** A value that can be bound to a placeholder. */
export type SqlValue = string | number | bigint | boolean | null | Uint8Array;

/** A result row: column name to value. */
export type Row = Record<string, unknown>;

/** Runs statements; a transaction hands the same shape to its callback. */
export interface Queryable {
  /** Rows of a SELECT (or of `… RETURNING`). */
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement and returns the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** An open database. */
export interface Db extends Queryable {
  readonly engine: "sqlite" | "postgres";
  /**
   * Runs `fn` in one transaction, committed when it resolves and rolled back when it throws. On SQLite
   * transactions are serialised (`BEGIN IMMEDIATE`); on PostgreSQL use `SELECT … FOR UPDATE` inside.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Thrown when a statement fails; carries the SQL (never the bound values, which may hold content). */
export class DbError extends Error {
  constructor(message: string, readonly sql: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DbError";
  }
}
