/**
 * SQLite through `node:sqlite` (synchronous, in-process). WAL with `synchronous=NORMAL`: the capture
 * journal, not SQLite's fsync, is what makes a record durable, so the database may lag a crash by a few
 * transactions and replay fills the gap. Statements and transactions are serialised in-process so that an
 * async transaction callback cannot interleave with another caller on the one connection: inside a
 * transaction, use the `tx` handed to the callback, never the `Db` itself (that would wait forever).
 * @module
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { type Db, DbError, type Queryable, type Row, type SqlValue } from "./db.ts";

/** How a connection waits for another connection's write lock. */
export interface SqliteOptions {
  /**
   * `block` (default): SQLite's busy timeout sleeps the calling thread, fine for the CLI and the capture
   * worker. `yield`: the statement fails fast and is retried after a timer, so the event loop keeps
   * serving while the capture worker commits; for the proxy's thread.
   */
  lockWait?: "block" | "yield";
}

/** Longest wait for another connection's write lock before a statement fails. */
const LOCK_WAIT_MS = 5000;

/** Opens (creating if needed) the SQLite database at `path` (`:memory:` works too). */
export function openSqlite(path: string, options: SqliteOptions = {}): Db {
  const db = new DatabaseSync(path);
  const yieldOnLock = options.lockWait === "yield";
  db.exec(`PRAGMA busy_timeout = ${yieldOnLock ? 0 : LOCK_WAIT_MS}`);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  return new SqliteDb(db, yieldOnLock);
}

function isLocked(error: unknown): boolean {
  const cause = error instanceof DbError ? error.cause : error;
  return (cause as { errcode?: number } | null)?.errcode === 5 || /database is locked/.test(String(cause));
}

/** Runs `fn`; while the database is locked by another connection, retries after short timers. */
async function retryWhileLocked<T>(fn: () => T | Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let delay = 1;; delay = Math.min(delay * 2, 20)) {
    try {
      return await fn();
    } catch (error) {
      if (!isLocked(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

const cache = new WeakMap<DatabaseSync, Map<string, ReturnType<DatabaseSync["prepare"]>>>();

function prepare(db: DatabaseSync, sql: string) {
  let byText = cache.get(db);
  if (!byText) cache.set(db, byText = new Map());
  let statement = byText.get(sql);
  if (!statement) {
    try {
      statement = db.prepare(sql.replace(/\$(\d+)/g, "?$1"));
    } catch (error) {
      throw new DbError(`SQLite cannot prepare statement: ${(error as Error).message}`, sql, {
        cause: error,
      });
    }
    byText.set(sql, statement);
  }
  return statement;
}

function bind(params: readonly SqlValue[]): SQLInputValue[] {
  return params.map((value) => typeof value === "boolean" ? (value ? 1 : 0) : value);
}

function querySync<T extends Row>(db: DatabaseSync, sql: string, params: readonly SqlValue[]): T[] {
  try {
    return prepare(db, sql).all(...bind(params)) as T[];
  } catch (error) {
    if (error instanceof DbError) throw error;
    throw new DbError(`SQLite statement failed: ${(error as Error).message}`, sql, { cause: error });
  }
}

function runSync(db: DatabaseSync, sql: string, params: readonly SqlValue[]): number {
  try {
    return Number(prepare(db, sql).run(...bind(params)).changes);
  } catch (error) {
    if (error instanceof DbError) throw error;
    throw new DbError(`SQLite statement failed: ${(error as Error).message}`, sql, { cause: error });
  }
}

function execSync(db: DatabaseSync, sql: string): void {
  try {
    db.exec(sql);
  } catch (error) {
    throw new DbError(`SQLite script failed: ${(error as Error).message}`, sql.slice(0, 200), {
      cause: error,
    });
  }
}

class SqliteDb implements Db {
  readonly engine = "sqlite" as const;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  #yieldOnLock: boolean;

  constructor(readonly raw: DatabaseSync, yieldOnLock = false) {
    this.#yieldOnLock = yieldOnLock;
  }

  /** Queues `fn` behind any open transaction, so no statement lands inside another caller's one. */
  #serial<T>(fn: () => T | Promise<T>): Promise<T> {
    const result = this.#tail.catch(() => {}).then(fn);
    this.#tail = result;
    return result;
  }

  /** One statement outside a transaction; with `yield`, retried while another connection holds the lock. */
  #statement<T>(fn: () => T): Promise<T> {
    return this.#serial(this.#yieldOnLock ? () => retryWhileLocked(fn) : fn);
  }

  query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.#statement(() => querySync<T>(this.raw, sql, params));
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.#statement(() => runSync(this.raw, sql, params));
  }

  exec(sql: string): Promise<void> {
    return this.#statement(() => execSync(this.raw, sql));
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const raw = this.raw;
    const tx: Queryable = {
      query: <R extends Row = Row>(sql: string, params: readonly SqlValue[] = []) =>
        Promise.resolve(querySync<R>(raw, sql, params)),
      run: (sql: string, params: readonly SqlValue[] = []) => Promise.resolve(runSync(raw, sql, params)),
      exec: (sql: string) => Promise.resolve(execSync(raw, sql)),
    };
    const begin = () => raw.exec("BEGIN IMMEDIATE");
    return this.#serial(async () => {
      if (this.#yieldOnLock) await retryWhileLocked(begin);
      else begin();
      try {
        const value = await fn(tx);
        raw.exec("COMMIT");
        return value;
      } catch (error) {
        raw.exec("ROLLBACK");
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail.catch(() => {});
    this.raw.close();
  }
}
