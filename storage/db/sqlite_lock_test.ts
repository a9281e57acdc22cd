import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openSqlite } from "./sqlite.ts";

async function withLockedDatabase(fn: (path: string, unlockAfterMs: (ms: number) => void) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "lock.db");
  const holder = new DatabaseSync(path);
  holder.exec("PRAGMA journal_mode = WAL");
  holder.exec("CREATE TABLE t (x INTEGER)");
  holder.exec("BEGIN IMMEDIATE");
  holder.exec("INSERT INTO t VALUES (1)");
  try {
    await fn(path, (ms) => setTimeout(() => holder.exec("COMMIT"), ms));
  } finally {
    holder.close();
    await Deno.remove(dir, { recursive: true });
  }
}

// With the default (blocking) wait the same test cannot pass: the thread sleeps in SQLite's busy handler,
// so the timer that commits the other connection's transaction never runs and the insert times out.
Deno.test("a yielding connection keeps the event loop running while another connection holds the write lock", async () => {
  await withLockedDatabase(async (path, unlockAfterMs) => {
    const db = openSqlite(path, { lockWait: "yield" });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    try {
      unlockAfterMs(200);
      const started = performance.now();
      await db.transaction(async (tx) => {
        await tx.run("INSERT INTO t VALUES (2)");
      });
      await db.run("INSERT INTO t VALUES (3)");
      const waited = performance.now() - started;
      assert.ok(waited >= 150, `it waited for the lock (${waited} ms)`);
      assert.ok(ticks >= 8, `timers ran while it waited: ${ticks} ticks`);
      const rows = await db.query<{ x: number }>("SELECT x FROM t ORDER BY x");
      assert.deepEqual(rows.map((r) => r.x), [1, 2, 3]);
    } finally {
      clearInterval(ticker);
      await db.close();
    }
  });
});
