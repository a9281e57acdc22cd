import assert from "node:assert/strict";
import { prepareRecord } from "../capture/prepare_record.ts";
import { writePrepared } from "../capture/record_rows.ts";
import { shapedSessionBodies } from "../capture/segments/test_shaped_session.ts";
import { StaleObjectError } from "./bodies/claims.ts";
import { readBody } from "./bodies/read.ts";
import type { Db } from "./db/db.ts";
import { testBothEngines } from "./db/test_engines.ts";
import { sha256Hex } from "./objects/content.ts";
import { openLocalObjectStore } from "./objects/local.ts";
import type { ObjectStore } from "./objects/store.ts";
import { runRetention } from "./retention_run.ts";
import { captureTestTurn, TEST_PERSIST, testRecord } from "./test_retention_turns.ts";

const NOW = Date.UTC(2026, 5, 1);
const enc = new TextEncoder();
const dec = new TextDecoder();

async function withLocalObjects(fn: (objects: ObjectStore) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(await openLocalObjectStore(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function count(db: Db, sql: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(sql);
  return Number(row.n);
}

async function sessionOf(db: Db, turnId: string): Promise<string> {
  const [row] = await db.query<{ session_id: string }>("SELECT session_id FROM turns WHERE id = $1", [
    turnId,
  ]);
  return String(row.session_id);
}

async function listed(objects: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const sha of objects.list()) out.push(sha);
  return out;
}

/** The same conversation under another model name: other bodies, every segment shared. */
function otherModel(body: Uint8Array): Uint8Array {
  return enc.encode(dec.decode(body).replace('"model":"claude-sonnet-4-5"', '"model":"claude-opus-4-1"'));
}

testBothEngines(
  "retention keeps segments another manifest still names, and removes them with the last one",
  async ({ db }) => {
    await withLocalObjects(async (objects) => {
      const bodies = shapedSessionBodies(4, 21);
      const turns = { a: [] as string[], b: [] as string[] };
      for (const [i, body] of bodies.entries()) {
        const at = NOW + i * 1000;
        turns.a.push(
          await captureTestTurn(db, objects, {
            at,
            sessionId: "a",
            prompt: "",
            requestBody: body,
            response: `a${i}`,
          }),
        );
        turns.b.push(
          await captureTestTurn(db, objects, {
            at: at + 1,
            sessionId: "b",
            prompt: "",
            requestBody: otherModel(body),
            response: `b${i}`,
          }),
        );
      }
      const segments = await count(
        db,
        "SELECT COUNT(*) AS n FROM stored_objects WHERE pack_sha256 IS NOT NULL",
      );
      const first = await runRetention(db, objects, { sessionId: await sessionOf(db, turns.a[0]) }, {
        reason: "test: session a",
        now: () => NOW,
      });
      assert.equal(first.turns, 4);
      assert.equal(first.manifests_deleted, 4);
      assert.equal(first.segments_deleted, 0, "session b names every segment");
      assert.equal(
        await count(db, "SELECT COUNT(*) AS n FROM stored_objects WHERE pack_sha256 IS NOT NULL"),
        segments,
      );
      for (const body of bodies.map(otherModel)) {
        const read = await readBody(db, objects, sha256Hex(body));
        assert.ok(read && dec.decode(read) === dec.decode(body), "session b reads back byte for byte");
      }
      const second = await runRetention(db, objects, { sessionId: await sessionOf(db, turns.b[0]) }, {
        reason: "test: session b",
        now: () => NOW,
      });
      assert.equal(second.manifests_deleted, 4);
      assert.equal(second.segments_deleted, segments);
      assert.equal(await count(db, "SELECT COUNT(*) AS n FROM body_manifests"), 0);
      assert.equal(await count(db, "SELECT COUNT(*) AS n FROM manifest_segments"), 0);
      assert.equal(await count(db, "SELECT COUNT(*) AS n FROM stored_objects"), 0);
      assert.deepEqual(await listed(objects), [], "every pack and body is gone");
    });
  },
);

/**
 * The race: capture finds an object stored (so it writes nothing), retention then removes it because the
 * only turn naming it was deleted, and capture commits a turn naming it. Without the per-hash agreement
 * the commit succeeded and the turn named a missing object.
 */
async function raceCase(db: Db, objects: ObjectStore, bodies: { first: Uint8Array; second: Uint8Array }) {
  const a = await captureTestTurn(db, objects, {
    at: NOW,
    sessionId: "race-a",
    prompt: "",
    requestBody: bodies.first,
    response: "the same answer",
  });
  const record = testRecord({
    at: NOW + 1000,
    sessionId: "race-b",
    prompt: "",
    requestBody: bodies.second,
    response: "the same answer",
  });
  const prepared = await prepareRecord(db, objects, record, { lookUp: false });
  assert.ok(prepared);
  await runRetention(db, objects, { turnId: a }, { reason: "test: race", now: () => NOW });
  await assert.rejects(
    db.transaction((tx) => writePrepared(tx, db.engine, prepared, TEST_PERSIST)),
    StaleObjectError,
  );
  // Capture's retry stores what retention removed, and the turn's bodies are whole again.
  const again = await prepareRecord(db, objects, record, { lookUp: false });
  await db.transaction((tx) => writePrepared(tx, db.engine, again!, TEST_PERSIST));
  assert.ok(await readBody(db, objects, sha256Hex(bodies.second)), "the request reads back");
  assert.equal(
    dec.decode((await readBody(db, objects, sha256Hex(enc.encode("the same answer"))))!),
    "the same answer",
  );
}

testBothEngines(
  "a turn captured while retention removes the body it reuses is retried, never left naming a missing object",
  async ({ db }) => {
    await withLocalObjects(async (objects) => {
      await raceCase(db, objects, {
        first: enc.encode('{"messages":["one"]}'),
        second: enc.encode('{"messages":["two"]}'),
      });
    });
  },
);

testBothEngines(
  "a segmented turn whose base and segments retention removes meanwhile is retried and reads back",
  async ({ db }) => {
    await withLocalObjects(async (objects) => {
      const [first, second] = shapedSessionBodies(3, 33).slice(1);
      await raceCase(db, objects, { first, second });
    });
  },
);
