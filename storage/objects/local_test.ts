import assert from "node:assert/strict";
import { join } from "node:path";
import { loadBody, sha256Hex, storeBody } from "./content.ts";
import { openLocalObjectStore } from "./local.ts";

Deno.test("a body stored locally reads back byte for byte under its SHA-256", async () => {
  const root = await Deno.makeTempDir();
  try {
    const store = await openLocalObjectStore(root);
    const body = new TextEncoder().encode(JSON.stringify({ model: "claude", messages: ["hi"] }));
    const sha = await storeBody(store, body, { kind: "request", size: body.length });
    assert.equal(sha, sha256Hex(body));
    assert.deepEqual(await loadBody(store, sha), body);
    const file = join(root, sha.slice(0, 2), sha.slice(2, 4), `${sha}.gz`);
    const raw = await Deno.readFile(file);
    assert.deepEqual([raw[0], raw[1]], [0x1f, 0x8b], "the file on disk is gzip");
    assert.equal(await store.has("0".repeat(64)), false);
    assert.equal(await loadBody(store, "0".repeat(64)), null);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("identical bodies are stored once and listed once", async () => {
  const root = await Deno.makeTempDir();
  try {
    const store = await openLocalObjectStore(root);
    const a = new TextEncoder().encode("same bytes");
    const b = new TextEncoder().encode("other bytes");
    const sha1 = await storeBody(store, a, { kind: "request", size: a.length });
    const sha2 = await storeBody(store, a.slice(), { kind: "response", size: a.length });
    const sha3 = await storeBody(store, b, { kind: "response", size: b.length });
    assert.equal(sha1, sha2);
    assert.notEqual(sha1, sha3);
    const listed = [];
    for await (const sha of store.list()) listed.push(sha);
    assert.deepEqual(listed.sort(), [sha1, sha3].sort());
    const leftovers = [];
    for await (const entry of Deno.readDir(join(root, sha1.slice(0, 2), sha1.slice(2, 4)))) {
      leftovers.push(entry.name);
    }
    assert.deepEqual(leftovers, [`${sha1}.gz`], "no temp files are left behind");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a name that is not a SHA-256 digest is refused before touching the disk", async () => {
  const root = await Deno.makeTempDir();
  try {
    const store = await openLocalObjectStore(root);
    await assert.rejects(
      () => store.put("../../etc/passwd", new Uint8Array(1), { kind: "request", size: 1 }),
      TypeError,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
