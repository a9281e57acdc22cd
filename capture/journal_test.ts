import assert from "node:assert/strict";
import { join } from "node:path";
import { openJournal } from "./journal.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function segmentFiles(dir: string): Promise<string[]> {
  const names = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".log")) names.push(e.name);
  return names.sort();
}

async function collect(journal: Awaited<ReturnType<typeof openJournal>>) {
  const out: { id: number; text: string }[] = [];
  for await (const entry of journal.replay()) out.push({ id: entry.id, text: dec(entry.payload) });
  return out;
}

Deno.test("appends grouped within one flush interval share a single fsync", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const journal = await openJournal({ dir, flushIntervalMs: 30 });
    const appended = Array.from({ length: 200 }, (_, i) => journal.append(enc(`entry ${i}`)));
    await Promise.all(appended.map((a) => a.durable));
    assert.ok(journal.stats().fsyncs <= 2, `expected at most 2 fsyncs, got ${journal.stats().fsyncs}`);
    assert.equal(dec(await journal.read(appended[150].id)), "entry 150");
    await journal.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("after a crash with a torn tail, replay yields every complete entry once, in order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await openJournal({ dir, flushIntervalMs: 5 });
    for (let i = 0; i < 5; i++) await first.append(enc(`record ${i}`)).durable;
    // Simulate the crash: no close(); then a half-written sixth entry at the end of the segment.
    first.abandon();
    const [segment] = await segmentFiles(dir);
    const torn = new Uint8Array(12 + 4);
    new DataView(torn.buffer).setUint32(0, 0x314a4352, true);
    new DataView(torn.buffer).setUint32(4, 1000, true);
    await Deno.writeFile(join(dir, segment), torn, { append: true });

    const second = await openJournal({ dir, flushIntervalMs: 5 });
    const replayed = await collect(second);
    assert.deepEqual(replayed.map((r) => r.text), [0, 1, 2, 3, 4].map((i) => `record ${i}`));
    for (const r of replayed) second.markApplied(r.id);
    await second.close();
    assert.deepEqual(await segmentFiles(dir), [], "replayed entries are compacted away");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a corrupt entry ends replay of its segment and entries not applied survive another restart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await openJournal({ dir, flushIntervalMs: 5 });
    await first.append(enc("good one")).durable;
    await first.append(enc("flipped!")).durable;
    await first.close();
    const [segment] = await segmentFiles(dir);
    const bytes = await Deno.readFile(join(dir, segment));
    bytes[bytes.length - 1] ^= 0xff;
    await Deno.writeFile(join(dir, segment), bytes);

    const second = await openJournal({ dir, flushIntervalMs: 5 });
    assert.deepEqual((await collect(second)).map((r) => r.text), ["good one"]);
    await second.close(); // nothing marked applied: the segment must stay

    const third = await openJournal({ dir, flushIntervalMs: 5 });
    const again = await collect(third);
    assert.deepEqual(again.map((r) => r.text), ["good one"]);
    third.markApplied(again[0].id);
    await third.close();
    assert.deepEqual(await segmentFiles(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second process cannot open a journal in use", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await openJournal({ dir, flushIntervalMs: 5 });
    await assert.rejects(() => openJournal({ dir, flushIntervalMs: 5 }), /in use by another Recondo process/);
    await first.close();
    await (await openJournal({ dir, flushIntervalMs: 5 })).close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a full segment rotates and is deleted once its entries are applied", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const journal = await openJournal({ dir, flushIntervalMs: 1, segmentBytes: 1024 });
    const ids = [];
    for (let i = 0; i < 20; i++) {
      const a = journal.append(new Uint8Array(200).fill(i));
      await a.durable;
      ids.push(a.id);
    }
    await journal.flush();
    assert.ok((await segmentFiles(dir)).length > 1, "the journal rotated");
    for (const id of ids) journal.markApplied(id);
    await new Promise((r) => setTimeout(r, 20));
    await journal.close();
    assert.deepEqual(await segmentFiles(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
