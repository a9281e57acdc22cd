import assert from "node:assert/strict";
import { persistRecord } from "../../capture/persist.ts";
import { buildRecord } from "../../capture/record.ts";
import { fakeExchange, fakeParsed, messagesBody } from "../../capture/test_exchange.ts";
import { openLocalObjectStore } from "../objects/local.ts";
import type { Db } from "./db.ts";
import { testBothEngines } from "./test_engines.ts";

async function oneTurn(db: Db): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    const objects = await openLocalObjectStore(dir);
    const parsed = fakeParsed({
      sessionId: "s",
      toolCalls: [{ id: "toolu_9", name: "Bash", arguments: "{}", server: false }],
    });
    const r = buildRecord(fakeExchange(), parsed, {
      request: messagesBody("x"),
      response: new Uint8Array([1]),
    }, new Uint8Array(32));
    const result = await persistRecord(db, objects, r, { idleGapMs: 60_000 });
    assert.equal(result.status, "written");
    return r.exchange.id;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const refused = /append-only/;

testBothEngines("turns and tool_calls refuse UPDATE and DELETE", async ({ db }) => {
  const id = await oneTurn(db);
  await assert.rejects(() => db.run("UPDATE turns SET output_tokens = 0 WHERE id = $1", [id]), refused);
  await assert.rejects(() => db.run("DELETE FROM turns WHERE id = $1", [id]), refused);
  await assert.rejects(() => db.run("UPDATE tool_calls SET name = 'x' WHERE turn_id = $1", [id]), refused);
  await assert.rejects(() => db.run("DELETE FROM tool_calls WHERE turn_id = $1", [id]), refused);
  await db.run(
    `INSERT INTO chain_heads (id, session_id, seq, turn_id, hash, signed_at, key_id, signature)
     VALUES ('h1', 's', 1, $1, 'x', 0, 'k', 'sig')`,
    [id],
  );
  await assert.rejects(() => db.run("DELETE FROM chain_heads"), refused);
  await assert.rejects(() => db.run("UPDATE chain_heads SET hash = 'y'"), refused);
  const [{ n }] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM turns");
  assert.equal(Number(n), 1);
});

testBothEngines(
  "a deletion is allowed only after it is recorded, and the record itself is permanent",
  async ({ db }) => {
    const id = await oneTurn(db);
    await db.transaction(async (tx) => {
      await tx.run(
        "INSERT INTO deletions (id, target, target_id, reason, deleted_at) VALUES ($1, 'turn', $2, 'retention', $3)",
        ["del-1", id, Date.now()],
      );
      await tx.run("DELETE FROM tool_calls WHERE turn_id = $1", [id]);
      await tx.run("DELETE FROM turns WHERE id = $1", [id]);
    });
    const [{ n }] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM turns");
    assert.equal(Number(n), 0);
    await assert.rejects(() => db.run("DELETE FROM deletions"), refused);
    await assert.rejects(() => db.run("UPDATE deletions SET reason = 'x'"), refused);
  },
);

testBothEngines(
  "no connection setting switches the PostgreSQL triggers off, not even a superuser's",
  async ({ db, superuser }) => {
    const id = await oneTurn(db);
    {
      // session_replication_role skips ordinary triggers; it needs superuser, and ours fire ALWAYS anyway.
      await assert.rejects(() => db.exec("SET session_replication_role = replica"), /permission denied/);
      const su = await superuser();
      await assert.rejects(
        () =>
          su.transaction(async (tx) => {
            await tx.exec("SET LOCAL session_replication_role = replica");
            await tx.run("UPDATE turns SET output_tokens = 0 WHERE id = $1", [id]);
          }),
        refused,
      );
      await assert.rejects(() => su.exec("TRUNCATE turns CASCADE"), refused);
    }
  },
  "postgres",
);
