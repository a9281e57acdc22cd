/**
 * The capture pipeline end to end on real stores: strict vs batched durability, bounded memory with a
 * stalled database (spill to the journal), and `createCapture` on both database engines.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { dataPaths } from "../config/paths.ts";
import { createCapture } from "../capture/mod.ts";
import { openJournal } from "../capture/journal.ts";
import { persistRecord } from "../capture/persist.ts";
import { createPipeline } from "../capture/pipeline.ts";
import { buildRecord, encodeRecord } from "../capture/record.ts";
import { FAKE_KEY, fakeExchange, fakeParsed, messagesBody } from "../capture/test_exchange.ts";
import type { Db } from "../storage/db/db.ts";
import { migrate } from "../storage/db/migrate.ts";
import { openSqlite } from "../storage/db/sqlite.ts";
import { readBody } from "../storage/bodies/read.ts";
import { openLocalObjectStore } from "../storage/objects/local.ts";
import { sharedPostgres } from "./support/postgres.ts";
import { verifyChainHead } from "../storage/signing.ts";

async function tempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A database whose transactions wait until `release()`: a store that fell behind. */
function gatedDb(real: Db): { db: Db; release(): void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => open = r);
  return {
    db: {
      ...real,
      engine: real.engine,
      transaction: async (fn) => {
        await gate;
        return real.transaction(fn);
      },
      query: (s, p) => real.query(s, p),
      run: (s, p) => real.run(s, p),
      exec: (s) => real.exec(s),
      close: () => real.close(),
    },
    release: () => open(),
  };
}

async function pipelineIn(
  dir: string,
  durability: "strict" | "batched",
  db: Db,
  extra: { maxQueuedBytes?: number; maxBatch?: number } = {},
) {
  const journal = await openJournal({ dir: join(dir, "journal"), flushIntervalMs: 150 });
  const pipeline = createPipeline({
    journal,
    db,
    objects: await openLocalObjectStore(join(dir, "objects")),
    hmacKey: new Uint8Array(32),
    durability,
    idleGapMs: 1_800_000,
    ...extra,
  });
  return { journal, pipeline };
}

function feed(
  pipeline: ReturnType<typeof createPipeline>,
  i: number,
  bodyBytes = 1000,
  order: string[] = [],
): Promise<void> {
  const ex = fakeExchange();
  order.push(ex.id);
  const tap = pipeline.sink.begin(ex);
  tap.requestChunk(messagesBody(`prompt ${i} ${"x".repeat(bodyBytes)}`));
  tap.responseChunk(new TextEncoder().encode("data: done\n\n"));
  return tap.end(ex, fakeParsed({ sessionId: "p" }));
}

Deno.test("strict end() resolves only once the record is fsync'd; batched end() does not wait", async () => {
  await tempDir(async (dir) => {
    const db = openSqlite(":memory:");
    await migrate(db);
    for (const durability of ["strict", "batched"] as const) {
      const { journal, pipeline } = await pipelineIn(join(dir, durability), durability, db);
      await feed(pipeline, 0); // the first flush happens at once; the next waits for the interval
      await journal.flush();
      const before = journal.stats().fsyncs;
      const started = performance.now();
      await feed(pipeline, 1);
      const waited = performance.now() - started;
      if (durability === "strict") {
        assert.equal(
          journal.stats().fsyncs,
          before + 1,
          "strict: the record's fsync happened before end() resolved",
        );
        assert.ok(waited >= 100, `strict waited ${waited} ms for the group commit`);
      } else {
        assert.equal(journal.stats().fsyncs, before, "batched: end() resolved before the fsync");
        assert.ok(waited < 50, `batched returned in ${waited} ms`);
      }
      await pipeline.close();
      await journal.close();
    }
    await db.close();
  });
});

Deno.test("when the database stalls, memory stays bounded and the backlog spills to the journal", async () => {
  await tempDir(async (dir) => {
    const real = openSqlite(":memory:");
    await migrate(real);
    const gated = gatedDb(real);
    const { journal, pipeline } = await pipelineIn(dir, "batched", gated.db, {
      maxQueuedBytes: 50_000,
    });
    const order: string[] = [];
    await Promise.all(Array.from({ length: 100 }, (_, i) => feed(pipeline, i, 5_000, order)));
    await journal.flush();
    const stalled = pipeline.stats();
    assert.ok(stalled.queuedBytes <= 50_000 + 6_000, `in memory: ${stalled.queuedBytes} bytes`);
    assert.ok(stalled.spilled > 80, `spilled: ${stalled.spilled}`);
    assert.equal(
      stalled.queued,
      100,
      "the first record's batch (with the stalled writer) counts as backlog too",
    );
    assert.ok(stalled.journal.bytes > 500_000, "the journal holds the backlog");
    gated.release();
    await pipeline.drain();
    const done = pipeline.stats();
    assert.equal(done.written, 100);
    assert.equal(done.queued + done.spilled + done.failed, 0);
    const turns = await real.query<{ id: string }>("SELECT id FROM turns ORDER BY seq");
    assert.deepEqual(
      turns.map((t) => t.id),
      order,
      "batched commits, yet sequence numbers follow arrival order",
    );
    await pipeline.close();
    await journal.close();
    await real.close();
  });
});

for (const engine of ["sqlite", "postgres"] as const) {
  Deno.test(`createCapture persists a turn with its bodies and signs its chain head [${engine}]`, async () => {
    await tempDir(async (dir) => {
      const env = new Map([["RECONDO_STORE", engine], ["RECONDO_OBJECTS", "local"]]);
      if (engine === "postgres") env.set("RECONDO_DB_URL", await (await sharedPostgres()).createDatabase());
      const paths = dataPaths(dir);
      const capture = await createCapture({
        paths,
        config: { capture: { durability: "strict", flushIntervalMs: 10 } },
        env,
        signIntervalMs: 3_600_000,
      });
      const ex = fakeExchange();
      const tap = capture.sink.begin(ex);
      const body = messagesBody("write the docs");
      tap.requestChunk(body.subarray(0, 10));
      tap.requestChunk(body.subarray(10));
      tap.responseChunk(new TextEncoder().encode("event: message_stop\n\n"));
      await tap.end(ex, fakeParsed({ sessionId: "doc-session", userText: "write the docs" }));
      await capture.close();

      const again = await createCapture({
        paths,
        config: { capture: { durability: "batched", flushIntervalMs: 10 } },
        env,
      });
      try {
        const [turn] = await again.db.query("SELECT * FROM turns");
        assert.equal(turn.id, ex.id);
        assert.deepEqual(await readBody(again.db, again.objects, String(turn.request_sha256)), body);
        assert.ok(Number(turn.cost_usd) > 0, "the turn is priced with the providers' price data");
        const [head] = await again.db.query("SELECT * FROM chain_heads");
        assert.equal(head.hash, turn.hash, "close() signed the head");
        const [key] = await again.db.query("SELECT * FROM signing_keys");
        const ok = await verifyChainHead(JSON.parse(String(key.public_jwk)), {
          session_id: String(head.session_id),
          seq: Number(head.seq),
          turn_id: String(head.turn_id),
          hash: String(head.hash),
          signed_at: Number(head.signed_at),
          signature: String(head.signature),
        });
        assert.ok(ok, "the signature verifies");
        assert.equal((await Deno.stat(paths.signingKey)).mode! & 0o777, 0o600);
        assert.ok(!(await Deno.readTextFile(paths.signingKey)).includes(FAKE_KEY));
      } finally {
        await again.close();
      }
    });
  });
}

for (const engine of ["sqlite", "postgres"] as const) {
  Deno.test(`a backlog commits in shared transactions; a failing record rolls its batch back and each record is retried alone [${engine}]`, async () => {
    await tempDir(async (dir) => {
      const real = engine === "sqlite"
        ? openSqlite(":memory:")
        : (await import("../storage/db/postgres.ts")).openPostgres(
          await (await sharedPostgres()).createDatabase(),
        );
      await migrate(real);
      const gated = gatedDb(real);
      let transactions = 0;
      let failOnce: string | null = null;
      const db: Db = {
        ...gated.db,
        engine: real.engine,
        transaction: (fn) => {
          transactions++;
          return gated.db.transaction((tx) =>
            fn({
              ...tx,
              query: (sql, params) => tx.query(sql, params),
              exec: (sql) => tx.exec(sql),
              run: (sql, params) => {
                if (failOnce && sql.startsWith("INSERT INTO exchanges") && params?.[0] === failOnce) {
                  failOnce = null;
                  return Promise.reject(new Error("injected failure of one record"));
                }
                return tx.run(sql, params);
              },
            })
          );
        },
      };
      const { journal, pipeline } = await pipelineIn(dir, "batched", db);
      const order: string[] = [];
      const ends = Array.from({ length: 30 }, (_, i) => feed(pipeline, i, 100, order));
      failOnce = order[17];
      await Promise.all(ends);
      gated.release();
      await pipeline.drain();
      const stats = pipeline.stats();
      assert.equal(stats.written, 30);
      assert.equal(stats.failed, 0);
      const turns = await real.query<{ id: string }>("SELECT id FROM turns ORDER BY seq");
      // No savepoints: the batch of 29 rolls back and each record is retried alone, in arrival order.
      assert.equal(transactions, 1 + 1 + 29, `transactions: ${transactions}`);
      assert.deepEqual(turns.map((t) => t.id), order, "retried one by one, in arrival order");
      await pipeline.close();
      await journal.close();
      await real.close();
    });
  });
}

Deno.test("a write batch holding a record already stored and a second copy of another writes each exchange once", async () => {
  await tempDir(async (dir) => {
    const real = openSqlite(":memory:");
    await migrate(real);
    const objects = await openLocalObjectStore(join(dir, "objects"));
    const recordOf = (prompt: string) =>
      buildRecord(fakeExchange(), fakeParsed({ sessionId: "dups" }), {
        request: messagesBody(prompt),
        response: new TextEncoder().encode("data: done\n\n"),
      }, new Uint8Array(32));
    const [first, stored, twice, other] = ["first", "stored", "twice", "other"].map(recordOf);
    assert.equal((await persistRecord(real, objects, stored, { idleGapMs: 1_800_000 })).status, "written");
    const gated = gatedDb(real);
    let transactions = 0;
    const counted: Db = { ...gated.db, transaction: (fn) => (transactions++, gated.db.transaction(fn)) };
    const { journal, pipeline } = await pipelineIn(dir, "batched", counted);
    // The first record's batch waits at the gate; the four after it queue up into the next batch.
    const accepted = [first, stored, twice, twice, other].map((r) => pipeline.acceptRecord(encodeRecord(r)));
    await Promise.all(accepted);
    gated.release();
    await pipeline.drain();
    const stats = pipeline.stats();
    assert.equal(transactions, 2, "both batches committed whole: no record was retried on its own");
    assert.deepEqual({ written: stats.written, duplicates: stats.duplicates, failed: stats.failed }, {
      written: 3,
      duplicates: 2,
      failed: 0,
    });
    const ids = (await real.query("SELECT id FROM exchanges ORDER BY id")).map((r) => String(r.id));
    assert.deepEqual(ids, [first, stored, twice, other].map((r) => r.exchange.id).sort());
    const [{ n, turns }] = await real.query(
      "SELECT COUNT(*) AS n, MAX(turn_count) AS turns FROM turns JOIN sessions ON sessions.id = turns.session_id",
    );
    assert.deepEqual(
      [Number(n), Number(turns)],
      [4, 4],
      "one turn per exchange, counted once in its session",
    );
    await pipeline.close();
    await journal.close();
    await objects.close();
    await real.close();
  });
});
