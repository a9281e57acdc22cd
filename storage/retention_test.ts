import assert from "node:assert/strict";
import { persistRecord } from "../capture/persist.ts";
import { buildRecord } from "../capture/record.ts";
import { fakeExchange, fakeParsed, messagesBody } from "../capture/test_exchange.ts";
import { testBothEngines } from "./db/test_engines.ts";
import { openLocalObjectStore } from "./objects/local.ts";
import { chainRows } from "./queries.ts";
import { deleteTurnByPolicy } from "./retention.ts";

testBothEngines(
  "a turn deleted by policy leaves a permanent record that bridges the chain",
  async ({ db }) => {
    const dir = await Deno.makeTempDir();
    try {
      const objects = await openLocalObjectStore(dir);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const ex = fakeExchange({ at: Date.UTC(2026, 1, 1) + i * 1000 });
        const parsed = fakeParsed({
          sessionId: "ret",
          toolCalls: [{ id: `c${i}`, name: "Bash", arguments: "{}", server: false }],
        });
        await persistRecord(
          db,
          objects,
          buildRecord(ex, parsed, {
            request: messagesBody(`p${i}`),
            response: new Uint8Array([i]),
          }, new Uint8Array(32)),
          { idleGapMs: 60_000 },
        );
        ids.push(ex.id);
      }
      const before = await chainRows(db, (await db.query("SELECT id FROM sessions"))[0].id as string);
      const deleted = await deleteTurnByPolicy(db, ids[1], "data-subject request #42");
      assert.equal(deleted.seq, 2);
      assert.equal(deleted.objects.length, 2);
      const after = await chainRows(db, deleted.sessionId);
      assert.deepEqual(after.turns.map((t) => Number(t.seq)), [1, 3]);
      assert.equal(after.deletions.length, 1);
      assert.equal(after.deletions[0].hash, before.turns[1].hash);
      assert.equal(after.deletions[0].reason, "data-subject request #42");
      assert.equal(
        after.turns[1].prev_hash,
        after.deletions[0].hash,
        "the next turn still links to the deleted one",
      );
      assert.equal(after.toolCalls.get(ids[1]), undefined);
      await assert.rejects(() => deleteTurnByPolicy(db, ids[1], "again"), /no such turn/);
      await assert.rejects(() => db.run("DELETE FROM turns WHERE id = $1", [ids[2]]), /append-only/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
