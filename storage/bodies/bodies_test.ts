import assert from "node:assert/strict";
import { splitBody } from "../../capture/segments/split.ts";
import { shapedSessionBodies } from "../../capture/segments/test_shaped_session.ts";
import type { Db } from "../db/db.ts";
import { testBothEngines } from "../db/test_engines.ts";
import { sha256Hex, storeBody } from "../objects/content.ts";
import { openLocalObjectStore } from "../objects/local.ts";
import type { ObjectStore } from "../objects/store.ts";
import { readBody } from "./read.ts";
import { commitBody, prepareBody } from "./write.ts";

/** Stores one request body as capture does: objects first, then its rows in one transaction. */
export async function storeRequest(db: Db, objects: ObjectStore, bytes: Uint8Array): Promise<string> {
  const prepared = await prepareBody(db, objects, bytes, splitBody(bytes), {
    kind: "request",
    size: bytes.length,
  });
  await db.transaction((tx) => commitBody(tx, db.engine, prepared, Date.now()));
  return prepared.sha256;
}

/** Byte equality without a diff of half a megabyte in the failure message. */
function assertSameBytes(actual: Uint8Array | null, expected: Uint8Array, what: string): void {
  if (actual === null) assert.fail(`${what}: nothing read back`);
  const differs = actual.length !== expected.length || actual.some((b, i) => b !== expected[i]);
  assert.ok(!differs, `${what}: ${actual.length} bytes read back, ${expected.length} stored`);
}

async function withStore(fn: (objects: ObjectStore, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(await openLocalObjectStore(dir), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

testBothEngines(
  "a growing session stores each segment once and reads every turn back byte for byte",
  async ({ db }) => {
    await withStore(async (objects) => {
      const bodies = shapedSessionBodies(30, 11);
      const shas: string[] = [];
      for (const body of bodies) shas.push(await storeRequest(db, objects, body));
      for (const [i, body] of bodies.entries()) {
        assert.equal(shas[i], sha256Hex(body), "the body is named by the hash of its exact bytes");
        assertSameBytes(await readBody(db, objects, shas[i]), body, `turn ${i + 1}`);
      }
      const [{ n }] = await db.query<{ n: number }>(
        "SELECT COUNT(*) AS n FROM stored_objects WHERE pack_sha256 IS NOT NULL",
      );
      // system, tools, the first prompt, then per turn two new messages, and the message that lost its breakpoint.
      assert.ok(Number(n) <= 3 + 29 * 3, `segments stored once each (${n})`);
      const manifests = await db.query<{ base_sha256: string | null; parts: string }>(
        "SELECT base_sha256, parts FROM body_manifests",
      );
      assert.equal(manifests.length, 30);
      // Even turn 2 builds on turn 1, whose only message lost its breakpoint: the message's text is a
      // segment of its own, which both share.
      const roots = manifests.filter((m) => m.base_sha256 === null).length;
      assert.equal(roots, 1, "every later turn builds on an earlier one");
      const longest = Math.max(...manifests.filter((m) => m.base_sha256).map((m) => m.parts.length));
      assert.ok(longest < 2_000, `a later turn's own manifest stays small (${longest} characters)`);
    });
  },
);

testBothEngines("the same body sent twice is one manifest, and both reads are exact", async ({ db }) => {
  await withStore(async (objects) => {
    const [body] = shapedSessionBodies(1, 3);
    const a = await storeRequest(db, objects, body);
    const b = await storeRequest(db, objects, body);
    assert.equal(a, b);
    const [{ n }] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM body_manifests");
    assert.equal(Number(n), 1);
    assertSameBytes(await readBody(db, objects, a), body, "the body");
  });
});

testBothEngines("bodies stored whole before segments existed stay readable", async ({ db }) => {
  await withStore(async (objects) => {
    const [body] = shapedSessionBodies(1, 5);
    const sha = await storeBody(objects, body, { kind: "request", size: body.length });
    assertSameBytes(await readBody(db, objects, sha), body, "the whole body");
    const small = new TextEncoder().encode('{"messages":[]}');
    assert.deepEqual(await readBody(db, objects, await storeRequest(db, objects, small)), small);
  });
});

testBothEngines(
  "a damaged or missing segment makes the body unreadable rather than wrong",
  async ({ db }) => {
    await withStore(async (objects, dir) => {
      const bodies = shapedSessionBodies(3, 9);
      const shas = [];
      for (const body of bodies) shas.push(await storeRequest(db, objects, body));
      const [{ pack_sha256: pack }] = await db.query<{ pack_sha256: string }>(
        "SELECT pack_sha256 FROM stored_objects WHERE pack_sha256 IS NOT NULL ORDER BY size DESC LIMIT 1",
      );
      await Deno.remove(`${dir}/${pack.slice(0, 2)}/${pack.slice(2, 4)}/${pack}.gz`);
      for (const sha of shas) {
        assert.ok(await readBody(db, objects, sha) === null, "every turn needs the tools");
      }
    });
  },
);
