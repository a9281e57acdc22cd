import assert from "node:assert/strict";
import { join } from "node:path";
import { SpillingBody } from "./spilling_body.ts";

const event = (i: number) => new TextEncoder().encode(`event: content_block_delta\ndata: {"i":${i}}\n\n`);

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

Deno.test("a short body stays in memory and no file is made", async () => {
  const dir = await Deno.makeTempDir();
  const body = new SpillingBody({ dir: join(dir, "bodies"), name: "ex1", memoryBytes: 1024 });
  const chunks = [event(1), event(2)];
  for (const c of chunks) body.add(c);
  const done = await body.finish();
  assert.equal(done.file, null);
  assert.deepEqual(new Uint8Array(done.bytes!), concat(chunks));
  await assert.rejects(() => Deno.stat(join(dir, "bodies")), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a long body moves to its file with every byte in order, across block boundaries", async () => {
  const dir = await Deno.makeTempDir();
  const body = new SpillingBody({ dir, name: "ex2", memoryBytes: 1024 });
  const chunks: Uint8Array[] = [];
  // ~100 KB in small events plus one chunk larger than a block: several blocks and a partial last one.
  for (let i = 0; i < 2000; i++) chunks.push(event(i));
  chunks.push(new Uint8Array(40_000).fill(7));
  for (const c of chunks) body.add(c);
  const done = await body.finish();
  assert.equal(done.bytes, null);
  assert.equal(done.file!.length, concat(chunks).length);
  assert.equal(body.cut, null);
  assert.deepEqual(await Deno.readFile(done.file!.path), concat(chunks));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a spilled body is cut at the capture limit, and the cut is named", async () => {
  const dir = await Deno.makeTempDir();
  const body = new SpillingBody({ dir, name: "ex3", memoryBytes: 100, limit: 5000 });
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < 400; i++) chunks.push(event(i));
  for (const c of chunks) body.add(c);
  const done = await body.finish();
  assert.deepEqual(await Deno.readFile(done.file!.path), concat(chunks).subarray(0, 5000));
  assert.match(body.cut!, /cut at 5000 bytes/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a body whose file cannot be written is recorded empty, saying why", async () => {
  const dir = await Deno.makeTempDir();
  // A file where the directory should be: creating the body's file fails.
  await Deno.writeTextFile(join(dir, "bodies"), "in the way");
  const body = new SpillingBody({ dir: join(dir, "bodies"), name: "ex4", memoryBytes: 100 });
  for (let i = 0; i < 50; i++) body.add(event(i));
  const done = await body.finish();
  assert.equal(done.file, null);
  assert.equal(done.bytes!.length, 0);
  assert.match(body.cut!, /response body lost: writing .*ex4\.body failed/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("bodies streaming side by side keep their own bytes while written blocks are reused", async () => {
  const dir = await Deno.makeTempDir();
  const bodies = [0, 1, 2].map((n) => new SpillingBody({ dir, name: `side${n}`, memoryBytes: 512 }));
  const sent: Uint8Array[][] = [[], [], []];
  // Interleaved small events, with pauses for the queued writes: blocks written for one body come back
  // for the next block of any of them.
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 400; i++) {
      for (const [n, body] of bodies.entries()) {
        const chunk = new TextEncoder().encode(`data: {"body":${n},"round":${round},"i":${i}}\n\n`);
        sent[n].push(chunk);
        body.add(chunk);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const [n, body] of bodies.entries()) {
    const done = await body.finish();
    assert.deepEqual(await Deno.readFile(done.file!.path), concat(sent[n]));
  }
  await Deno.remove(dir, { recursive: true });
});
