import assert from "node:assert/strict";
import { testBothEngines } from "../db/test_engines.ts";
import { sha256Hex, storeBody } from "../objects/content.ts";
import { openLocalObjectStore } from "../objects/local.ts";
import type { ObjectStore } from "../objects/store.ts";
import { ensureObjectRow } from "./claims.ts";
import { type SmallBody, storeSmallBodies } from "./batch_pack.ts";
import { readBody } from "./read.ts";
import { commitBody } from "./write.ts";

const enc = new TextEncoder();

function body(text: string): SmallBody {
  const bytes = enc.encode(text);
  return { sha256: sha256Hex(bytes), bytes, meta: { kind: "response", size: bytes.length } };
}

async function listed(objects: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const sha of objects.list()) out.push(sha);
  return out;
}

async function withStore(fn: (objects: ObjectStore) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(await openLocalObjectStore(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

testBothEngines(
  "the small bodies of a batch become one pack object, each read back by its own hash",
  async ({ db }) => {
    await withStore(async (objects) => {
      const bodies = [body('{"a":1}'), body('{"b":2}'), body('{"a":1}'), body("plain text answer")];
      const stored = await storeSmallBodies(db, objects, bodies, Date.now());
      assert.equal(stored.size, 3, "a body sent twice in the batch is stored once");
      const files = await listed(objects);
      assert.equal(files.length, 1, "one object for the whole batch");
      await db.transaction(async (tx) => {
        for (const prepared of stored.values()) await commitBody(tx, db.engine, prepared, Date.now());
      });
      for (const b of bodies) assert.deepEqual(await readBody(db, objects, b.sha256), b.bytes);

      const again = await storeSmallBodies(db, objects, [bodies[0], body("new")], Date.now());
      assert.deepEqual(again.get(bodies[0].sha256), {
        kind: "packed",
        sha256: bodies[0].sha256,
        size: bodies[0].bytes.length,
        pack: null,
      }, "a body packed earlier is reused from its pack");
      assert.equal((await listed(objects)).length, 2, "only the new body took a new pack");
    });
  },
);

testBothEngines("a body stored whole by an earlier capture stays whole, not packed again", async ({ db }) => {
  await withStore(async (objects) => {
    const old = body('{"stored":"before packs"}');
    await ensureObjectRow(db, old.sha256, old.bytes.length, Date.now());
    await storeBody(objects, old.bytes, old.meta);
    const stored = await storeSmallBodies(db, objects, [old], Date.now());
    assert.equal(stored.get(old.sha256)?.kind, "whole");
    assert.deepEqual(await listed(objects), [old.sha256], "no pack was written");
    assert.deepEqual(await readBody(db, objects, old.sha256), old.bytes);
  });
});

testBothEngines("a packed body whose pack member is damaged reads back as nothing", async ({ db }) => {
  await withStore(async (objects) => {
    const b = body('{"will":"be damaged"}');
    const stored = await storeSmallBodies(db, objects, [b], Date.now());
    await db.transaction((tx) => commitBody(tx, db.engine, stored.get(b.sha256)!, Date.now()));
    const [pack] = await listed(objects);
    const gz = (await objects.get(pack))!;
    gz[gz.length - 6] ^= 0xff;
    await objects.delete(pack);
    await objects.put(pack, gz, { kind: "pack", size: 0 });
    assert.equal(await readBody(db, objects, b.sha256), null);
  });
});
