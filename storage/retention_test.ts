import assert from "node:assert/strict";
import { persistRecord } from "../capture/persist.ts";
import { buildRecord } from "../capture/record.ts";
import { fakeExchange, fakeParsed, messagesBody } from "../capture/test_exchange.ts";
import { testBothEngines } from "./db/test_engines.ts";
import { openLocalObjectStore } from "./objects/local.ts";
import { chainRows } from "./queries.ts";
import { deleteTurnByPolicy, TurnNotFoundError } from "./retention.ts";
import { captureTestTurn } from "./test_retention_turns.ts";

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

testBothEngines("deleting a turn takes its usage and cost off its session's totals", async ({ db }) => {
  const dir = await Deno.makeTempDir();
  try {
    const objects = await openLocalObjectStore(dir);
    const t0 = Date.UTC(2026, 1, 1);
    const keep = await captureTestTurn(db, objects, {
      at: t0,
      sessionId: "totals",
      prompt: "a",
      response: "r1",
      input: 100,
      output: 10,
      cacheWrite5m: 7,
      reasoning: 3,
    });
    const gone = await captureTestTurn(db, objects, {
      at: t0 + 1000,
      sessionId: "totals",
      prompt: "a",
      extra: ["b"],
      response: "r2",
      input: 40,
      output: 20,
      cacheWrite5m: 2,
      reasoning: 5,
    });
    const totals = async () =>
      (await db.query(
        `SELECT turn_count, input_tokens, output_tokens, cache_write_tokens, reasoning_tokens, cost_usd
         FROM sessions`,
      )).map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Number(v)])));
    const before = await totals();
    assert.equal(before.length, 1, "both turns are in one session");
    assert.equal(before[0].turn_count, 2);
    assert.ok(Math.abs(before[0].cost_usd - (0.1 + 0.02 + 0.04 + 0.04)) < 1e-9);

    await deleteTurnByPolicy(db, gone, "retention: older than 30 days");
    const [after] = await totals();
    assert.equal(after.turn_count, 1);
    assert.equal(after.input_tokens, 100);
    assert.equal(after.output_tokens, 10);
    assert.equal(after.cache_write_tokens, 7);
    assert.equal(after.reasoning_tokens, 3);
    assert.ok(Math.abs(after.cost_usd - 0.12) < 1e-9, `cost ${after.cost_usd}`);

    await deleteTurnByPolicy(db, keep, "retention: older than 30 days");
    const [empty] = await totals();
    assert.deepEqual(empty, {
      turn_count: 0,
      input_tokens: 0,
      output_tokens: 0,
      cache_write_tokens: 0,
      reasoning_tokens: 0,
      cost_usd: 0,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

testBothEngines(
  "two replicas deleting the same turn record it once and count it once",
  async ({ db, openAnother }) => {
    const dir = await Deno.makeTempDir();
    try {
      const objects = await openLocalObjectStore(dir);
      const t0 = Date.UTC(2026, 1, 1);
      await captureTestTurn(db, objects, { at: t0, sessionId: "twice", prompt: "a", response: "1" });
      const id = await captureTestTurn(db, objects, {
        at: t0 + 1,
        sessionId: "twice",
        prompt: "b",
        response: "2",
      });
      const other = await openAnother();
      const outcomes = await Promise.allSettled([
        deleteTurnByPolicy(db, id, "retention: older than 1 days"),
        deleteTurnByPolicy(other, id, "retention: older than 1 days"),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status).sort(), ["fulfilled", "rejected"]);
      const failed = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
      assert.ok(failed.reason instanceof TurnNotFoundError, String(failed.reason));
      assert.equal((await db.query("SELECT id FROM deletions WHERE target_id = $1", [id])).length, 1);
      const [s] = await db.query<{ turn_count: number }>("SELECT turn_count FROM sessions");
      assert.equal(Number(s.turn_count), 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
