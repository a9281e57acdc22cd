/**
 * One `INSERT` of a row given as column → value, the way capture writes every row it adds (turns, tool
 * calls and results, exchanges, events): the column list is the row's own keys, so a row and its
 * statement cannot disagree.
 * @module
 */
import type { Queryable, SqlValue } from "../storage/db/db.ts";

function insertSql(table: string, row: Record<string, SqlValue>): [string, SqlValue[]] {
  const columns = Object.keys(row);
  const marks = columns.map((_, i) => `$${i + 1}`);
  return [`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${marks.join(", ")})`, Object.values(row)];
}

/** Inserts `row` into `table` inside `tx`. */
export async function insert(tx: Queryable, table: string, row: Record<string, SqlValue>): Promise<void> {
  const [sql, params] = insertSql(table, row);
  await tx.run(sql, params);
}
