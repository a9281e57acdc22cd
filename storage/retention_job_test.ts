import assert from "node:assert/strict";
import { testBothEngines } from "./db/test_engines.ts";
import { openLocalObjectStore } from "./objects/local.ts";
import { type RetentionJobOptions, startRetention } from "./retention_job.ts";
import type { RetentionResult } from "./retention_run.ts";
import { captureTestTurn } from "./test_retention_turns.ts";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

function nextRun(): { onRun: RetentionJobOptions["onRun"]; result: Promise<RetentionResult> } {
  const { promise, resolve, reject } = Promise.withResolvers<RetentionResult>();
  return {
    onRun: ({ result, error }) => result ? resolve(result) : reject(error),
    result: promise,
  };
}

testBothEngines("the retention job deletes turns older than the configured days", async ({ db }) => {
  const dir = await Deno.makeTempDir();
  const objects = await openLocalObjectStore(dir);
  try {
    const old = await captureTestTurn(db, objects, {
      at: NOW - 8 * DAY,
      sessionId: "s",
      prompt: "old",
      response: "old",
    });
    const young = await captureTestTurn(db, objects, {
      at: NOW - 6 * DAY,
      sessionId: "s",
      prompt: "young",
      response: "young",
    });
    const run = nextRun();
    const stop = startRetention(db, objects, { days: 7, intervalMinutes: 60 }, {
      now: () => NOW,
      firstRunDelayMs: 0,
      onRun: run.onRun,
    });
    const result = await run.result;
    await stop();
    assert.equal(result.turns, 1);
    assert.equal(result.reason, "retention: older than 7 days");
    const left = await db.query<{ id: string }>("SELECT id FROM turns");
    assert.deepEqual(left.map((t) => t.id), [young]);
    const [deletion] = await db.query<{ target_id: string; reason: string }>(
      "SELECT target_id, reason FROM deletions WHERE target = 'turn'",
    );
    assert.deepEqual({ ...deletion }, { target_id: old, reason: "retention: older than 7 days" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

testBothEngines("with days null the retention job keeps every turn", async ({ db }) => {
  const dir = await Deno.makeTempDir();
  const objects = await openLocalObjectStore(dir);
  try {
    await captureTestTurn(db, objects, { at: NOW - 900 * DAY, sessionId: "s", prompt: "p", response: "r" });
    const run = nextRun();
    const stop = startRetention(db, objects, { days: null, intervalMinutes: 60 }, {
      now: () => NOW,
      firstRunDelayMs: 0,
      onRun: run.onRun,
    });
    const result = await run.result;
    await stop();
    assert.equal(result.turns, 0);
    assert.equal((await db.query("SELECT id FROM turns")).length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}, "sqlite");

Deno.test("stopping the retention job before its first run cancels it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const objects = await openLocalObjectStore(dir);
    let runs = 0;
    // A database that must never be touched: the run is cancelled before it starts.
    const db = new Proxy({}, {
      get: () => {
        throw new Error("the database was used");
      },
    }) as Parameters<typeof startRetention>[0];
    const stop = startRetention(db, objects, { days: 1, intervalMinutes: 1 }, {
      firstRunDelayMs: 50,
      onRun: () => runs++,
    });
    await stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(runs, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
