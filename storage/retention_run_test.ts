import assert from "node:assert/strict";
import { testBothEngines } from "./db/test_engines.ts";
import type { Db } from "./db/db.ts";
import { openLocalObjectStore } from "./objects/local.ts";
import type { ObjectStore } from "./objects/store.ts";
import { type RetentionResult, runRetention } from "./retention_run.ts";
import { captureTestTurn } from "./test_retention_turns.ts";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

async function withLocalObjects(fn: (objects: ObjectStore) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(await openLocalObjectStore(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function shas(db: Db): Promise<Map<string, string[]>> {
  const rows = await db.query<{ id: string; request_sha256: string; response_sha256: string }>(
    "SELECT id, request_sha256, response_sha256 FROM turns",
  );
  return new Map(rows.map((r) => [r.id, [r.request_sha256, r.response_sha256]]));
}

testBothEngines(
  "retention deletes old turns in bounded batches and only the bodies no remaining turn names",
  async ({ db }) => {
    await withLocalObjects(async (objects) => {
      const old: string[] = [];
      for (let i = 0; i < 5; i++) {
        old.push(
          await captureTestTurn(db, objects, {
            at: NOW - 40 * DAY + i * 1000,
            sessionId: `old-${i % 2}`,
            prompt: `old prompt ${i}`,
            // Turn 0's response is byte-identical to the recent turn's: stored once, still needed.
            response: i === 0 ? "shared answer" : `old answer ${i}`,
          }),
        );
      }
      const recent = await captureTestTurn(db, objects, {
        at: NOW - 2 * DAY,
        sessionId: "recent",
        prompt: "recent prompt",
        response: "shared answer",
      });
      const bodies = await shas(db);
      const progress: number[] = [];
      const result = await runRetention(db, objects, { olderThan: NOW - 30 * DAY }, {
        reason: "retention: older than 30 days",
        now: () => NOW,
        batchSize: 2,
        listTurnIds: 3,
        onProgress: (p: RetentionResult) => progress.push(p.turns),
      });
      assert.deepEqual(progress, [2, 4, 5], "three batches of at most two turns");
      assert.equal(result.turns, 5);
      assert.equal(result.sessions, 2);
      assert.deepEqual(result.turn_ids, old.slice(0, 3));
      assert.equal(result.objects_deleted, 9, "five request bodies and four unshared responses");
      assert.equal(result.objects_shared, 1);
      assert.equal(result.objects_locked, 0, "a local store has no Object Lock");
      assert.equal(result.objects_failed, 0);

      assert.deepEqual([...(await shas(db)).keys()], [recent]);
      for (const sha of bodies.get(recent)!) {
        assert.ok(await objects.has(sha), "the recent turn's bodies stay");
      }
      for (const id of old) {
        const [request, response] = bodies.get(id)!;
        assert.equal(await objects.has(request), false, `request body of ${id} is gone`);
        if (response !== bodies.get(recent)![1]) assert.equal(await objects.has(response), false);
      }
      const deletions = await db.query<{ target: string; reason: string }>(
        "SELECT target, reason FROM deletions ORDER BY target",
      );
      assert.equal(deletions.filter((d) => d.target === "turn").length, 5);
      assert.equal(deletions.filter((d) => d.target === "object").length, 9);
      assert.ok(deletions.every((d) => d.reason === "retention: older than 30 days"));
      const sessions = await db.query<{ id: string; turn_count: number }>(
        "SELECT id, turn_count FROM sessions ORDER BY turn_count",
      );
      assert.deepEqual(sessions.map((s) => Number(s.turn_count)), [0, 0, 1]);

      const again = await runRetention(db, objects, { olderThan: NOW - 30 * DAY }, {
        reason: "retention: older than 30 days",
        now: () => NOW,
      });
      assert.equal(again.turns, 0, "a second run finds nothing left to delete");
    });
  },
);

testBothEngines("a dry run counts what retention would delete and deletes nothing", async ({ db }) => {
  await withLocalObjects(async (objects) => {
    const ids = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        await captureTestTurn(db, objects, {
          at: NOW - (10 - i * 4) * DAY,
          sessionId: "s",
          prompt: `p${i}`,
          response: `r${i}`,
        }),
      );
    }
    const result = await runRetention(db, objects, { olderThan: NOW - 5 * DAY }, {
      reason: "retention: older than 5 days",
      dryRun: true,
      listTurnIds: 10,
    });
    assert.equal(result.dry_run, true);
    assert.equal(result.turns, 2);
    assert.equal(result.sessions, 1);
    assert.deepEqual(result.turn_ids, ids.slice(0, 2));
    assert.equal((await shas(db)).size, 3);
    assert.equal((await db.query("SELECT id FROM deletions")).length, 0);
  });
});

testBothEngines("retention refuses to run without a reason or a selection", async ({ db }) => {
  await withLocalObjects(async (objects) => {
    await assert.rejects(() => runRetention(db, objects, { olderThan: NOW }, { reason: "  " }), /reason/);
    await assert.rejects(() => runRetention(db, objects, {}, { reason: "x" }), /Name what to delete/);
  });
});
