/**
 * Kill -9 during concurrent streams: every exchange the client saw complete is there after a restart,
 * exactly once — in strict mode because `end()` waited for the journal fsync, in batched mode because
 * the last flush interval had passed. The child's database stalls after a few commits (so most records
 * exist only in the journal) and a torn half-entry is appended to the journal before the restart.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dataPaths } from "../config/paths.ts";
import { createCapture } from "../capture/mod.ts";
import { firstLineThenKill } from "../capture/testdata/first_line_then_kill.ts";

const CHILD = fileURLToPath(new URL("../capture/testdata/crash_child.ts", import.meta.url));

async function crashAndRecover(mode: "strict" | "batched"): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const text = await firstLineThenKill(CHILD, [dir, mode, "60", "7"]);
    const acked = JSON.parse(text) as string[];
    assert.equal(acked.length, 60);

    const journalDir = join(dir, "journal");
    const segments = [];
    for await (const e of Deno.readDir(journalDir)) if (e.name.endsWith(".log")) segments.push(e.name);
    segments.sort();
    const torn = new Uint8Array([0x52, 0x43, 0x4a, 0x31, 0xff, 0x00, 0x00, 0x00, 1, 2]);
    await Deno.writeFile(join(journalDir, segments.at(-1)!), torn, { append: true });

    const capture = await createCapture({
      paths: dataPaths(dir),
      config: { capture: { durability: mode, flushIntervalMs: 20 } },
      env: new Map([["RECONDO_STORE", "sqlite"], ["RECONDO_OBJECTS", "local"]]),
      signIntervalMs: 3_600_000,
    });
    try {
      const stats = capture.stats();
      assert.equal(stats.written + stats.duplicates, 60, `replay saw every record: ${JSON.stringify(stats)}`);
      assert.equal(
        stats.duplicates,
        7,
        "the records committed before the crash were recognised, not re-added",
      );
      const rows = await capture.db.query<{ id: string }>("SELECT id FROM exchanges");
      assert.deepEqual(
        rows.map((r) => r.id).sort(),
        [...acked].sort(),
        "every acknowledged exchange, exactly once",
      );
      const [{ n }] = await capture.db.query<{ n: number }>("SELECT COUNT(*) AS n FROM turns");
      assert.equal(Number(n), 60);
      const [{ t }] = await capture.db.query<{ t: number }>("SELECT SUM(turn_count) AS t FROM sessions");
      assert.equal(Number(t), 60, "session totals count each turn once");
    } finally {
      await capture.close();
    }
    const left = [];
    for await (const e of Deno.readDir(journalDir)) if (e.name.endsWith(".log")) left.push(e.name);
    assert.deepEqual(left, [], "replayed entries are compacted away");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("strict: after kill -9 during 20 concurrent streams every acknowledged exchange is there once", () =>
  crashAndRecover("strict"));

Deno.test("batched: after kill -9, every exchange older than one flush interval is there once", () =>
  crashAndRecover("batched"));
