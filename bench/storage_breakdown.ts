/**
 * Where a long session's database bytes go: runs one Claude Code session of `--turns` turns (default 150)
 * through capture as `bench/storage_growth.ts` does, then reads SQLite's `dbstat` table for every table and
 * index (pages and payload bytes) and prints them largest first, with the object store's size beside. For
 * finding what to shrink; `storage_growth.ts` is the benchmark of record.
 *
 * `deno run -A bench/storage_breakdown.ts --turns 150 [--json]`
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { measureSession, storedBytes } from "./storage_growth.ts";

/** One table's or index's share of the database file. */
export interface ObjectShare {
  name: string;
  /** Bytes of the pages it occupies. */
  pageBytes: number;
  /** Bytes of its cells' payload (what the rows hold). */
  payloadBytes: number;
}

/** The `dbstat` shares of the SQLite database at `path`, largest first. */
export function databaseShares(path: string): ObjectShare[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare(
      "SELECT name, SUM(pgsize) AS pages, SUM(payload) AS payload FROM dbstat GROUP BY name ORDER BY pages DESC",
    ).all() as { name: string; pages: number; payload: number }[];
    return rows.map((r) => ({ name: r.name, pageBytes: r.pages, payloadBytes: r.payload }));
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { turns: { type: "string", default: "150" }, json: { type: "boolean", default: false } },
  });
  const turns = Number(values.turns);
  if (!Number.isInteger(turns) || turns < 1) {
    throw new RangeError(`--turns must be a positive integer: ${values.turns}`);
  }
  const work = await Deno.makeTempDir({ prefix: "recondo-storage-breakdown-" });
  let shares: ObjectShare[] = [];
  try {
    const result = await measureSession(work, turns, 2, {
      inspect: (paths) => Promise.resolve(void (shares = databaseShares(paths.database))),
    });
    const total = storedBytes(result);
    if (values.json) {
      console.log(
        JSON.stringify({
          turns,
          stored: result.stored,
          lastRequestGzipBytes: result.lastRequestGzipBytes,
          shares,
        }),
      );
      return;
    }
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    console.log(
      `${turns} turns: stored ${kb(total)} = ${
        (total / result.lastRequestGzipBytes).toFixed(2)
      }× gzip of the last ` +
        `request (${kb(result.lastRequestGzipBytes)}); objects ${kb(result.stored.objectBytes)}, database ` +
        `${kb(result.stored.databaseBytes)}`,
    );
    for (const s of shares) {
      if (s.pageBytes < 8192) continue;
      console.log(
        `${s.name.padEnd(36)} ${kb(s.pageBytes).padStart(10)} pages ${
          kb(s.payloadBytes).padStart(10)
        } payload`,
      );
    }
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
