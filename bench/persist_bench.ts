/**
 * Capture's writer alone, side by side in one run: records persisted one transaction each (`maxBatch: 1`)
 * against shared transactions (`maxBatch: 64`, the default), on SQLite and local objects, rounds alternating.
 * It feeds the real pipeline (journal, hashing, gzip, object files, SQL) as fast as it takes records and
 * reports records/s and CPU per record (this process, all threads).
 *   deno run -A --unstable-no-legacy-abort bench/persist_bench.ts [records]
 * @module
 */
import process from "node:process";
import { join } from "node:path";
import { loadOrCreateHmacKey } from "../capture/credentials.ts";
import { openJournal } from "../capture/journal.ts";
import { createPipeline } from "../capture/pipeline.ts";
import { fakeExchange, fakeParsed, messagesBody } from "../capture/test_exchange.ts";
import { priceUsage } from "../providers/mod.ts";
import { migrate } from "../storage/db/migrate.ts";
import { openSqlite } from "../storage/db/sqlite.ts";
import { openLocalObjectStore } from "../storage/objects/local.ts";
import { fixed, thousands } from "./stats.ts";

const RECORDS = Number(Deno.args[0] ?? 2000);
const ROUNDS = 2;
const RESPONSE = new TextEncoder().encode(
  JSON.stringify({ content: [{ type: "text", text: "x".repeat(2000) }] }),
);

async function round(maxBatch: number): Promise<{ perSecond: number; cpuMs: number }> {
  const dir = await Deno.makeTempDir({ prefix: "recondo-persist-bench-" });
  try {
    const db = openSqlite(join(dir, "recondo.db"));
    await migrate(db);
    const journal = await openJournal({ dir: join(dir, "journal"), flushIntervalMs: 50 });
    const pipeline = createPipeline({
      journal,
      db,
      objects: await openLocalObjectStore(join(dir, "objects")),
      hmacKey: await loadOrCreateHmacKey(join(dir, "hmac.key")),
      durability: "batched",
      idleGapMs: 30 * 60_000,
      price: (provider, model, usage, at) => priceUsage(provider, model, usage, new Date(at)).usd,
      maxBatch,
    });
    const started = performance.now();
    const cpu = process.cpuUsage();
    for (let i = 0; i < RECORDS; i++) {
      const ex = fakeExchange({ connectionId: `c${i % 32}` });
      const tap = pipeline.sink.begin(ex);
      tap.requestChunk(messagesBody(`prompt ${i}`));
      tap.responseChunk(RESPONSE.slice());
      void tap.end(ex, fakeParsed({ sessionId: `s${i % 50}`, userText: `prompt ${i}` }));
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 0));
    }
    await pipeline.drain();
    const used = process.cpuUsage(cpu);
    const seconds = (performance.now() - started) / 1000;
    if (pipeline.stats().written !== RECORDS) {
      throw new Error(`wrote ${pipeline.stats().written} of ${RECORDS}`);
    }
    await pipeline.close();
    await journal.close();
    await db.close();
    return { perSecond: RECORDS / seconds, cpuMs: (used.user + used.system) / 1000 / RECORDS };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const results = new Map<number, { perSecond: number[]; cpuMs: number[] }>([
  [1, { perSecond: [], cpuMs: [] }],
  [
    64,
    { perSecond: [], cpuMs: [] },
  ],
]);
await round(64); // warm-up: module loading, JIT
for (let r = 0; r < ROUNDS; r++) {
  for (const maxBatch of r % 2 ? [64, 1] : [1, 64]) {
    const result = await round(maxBatch);
    results.get(maxBatch)!.perSecond.push(result.perSecond);
    results.get(maxBatch)!.cpuMs.push(result.cpuMs);
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const one = results.get(1)!;
const shared = results.get(64)!;
console.log(`| writer | records/s (rounds) | CPU ms/record | ratio |`);
console.log(`|---|---:|---:|---:|`);
console.log(
  `| one transaction per record | ${thousands(mean(one.perSecond))} (${
    one.perSecond.map(thousands).join(", ")
  }) | ${fixed(mean(one.cpuMs), 3)} | 1× |`,
);
console.log(
  `| shared transactions (maxBatch 64) | ${thousands(mean(shared.perSecond))} (${
    shared.perSecond.map(thousands).join(", ")
  }) | ${fixed(mean(shared.cpuMs), 3)} | ${
    fixed(mean(shared.perSecond) / mean(one.perSecond), 2)
  }× records/s, ${fixed(mean(shared.cpuMs) / mean(one.cpuMs), 2)}× CPU |`,
);
