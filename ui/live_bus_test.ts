import assert from "node:assert/strict";
import { openSqlite } from "../storage/db/sqlite.ts";
import { migrate } from "../storage/db/migrate.ts";
import type { LiveExchange } from "../storage/ui/activity.ts";
import { insertSession, insertTurn } from "../storage/ui/test_rows.ts";
import { createLiveBus } from "./live_bus.ts";

Deno.test({
  name:
    "the live bus delivers published and newly captured exchanges once each, and polls only while watched",
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const db = openSqlite(`${dir}/recondo.db`);
    await migrate(db);
    const bus = createLiveBus({ db, pollMs: 20 });
    try {
      const got: string[] = [];
      let arrived = () => {};
      const stop = bus.subscribe((ex) => {
        got.push(ex.id);
        arrived();
      });
      const published = { id: "ex-t1", capturedAt: Date.now() } as LiveExchange;
      bus.publish(published);
      await insertSession(db, { id: "s", at: Date.now() });
      for (let i = 1; i <= 1_200; i++) {
        await insertTurn(db, { id: `t${i}`, sessionId: "s", seq: i, at: Date.now() });
      }
      await new Promise<void>((resolve) => {
        arrived = () => got.length >= 1_200 && resolve();
        arrived();
      });
      assert.equal(got.length, 1_200, "ex-t1 came both published and polled, and is delivered once");
      assert.equal(new Set(got).size, 1_200, "a burst beyond one poll page arrives whole");
      stop();
      await insertTurn(db, { id: "late", sessionId: "s", seq: 99_999, at: Date.now() });
      await new Promise((r) => setTimeout(r, 80));
      assert.equal(got.includes("ex-late"), false, "no listener, no polling");
    } finally {
      bus.close();
      await db.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
