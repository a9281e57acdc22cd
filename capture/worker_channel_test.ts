import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dataPaths } from "../config/paths.ts";
import type { Exchange } from "../core/exchange.ts";
import type { Capture } from "./capture.ts";
import { fakeExchange, fakeParsed, messagesBody } from "./test_exchange.ts";
import { startWorkerCapture } from "./worker_capture.ts";
import { firstLineThenKill } from "./testdata/first_line_then_kill.ts";

const STALLING_WORKER = new URL("./testdata/stalling_worker.ts", import.meta.url);
const CHILD = fileURLToPath(new URL("./testdata/transit_child.ts", import.meta.url));
const ENV = new Map([["RECONDO_STORE", "sqlite"], ["RECONDO_OBJECTS", "local"]]);

function exchangeOf(developer: string): Exchange {
  return fakeExchange({ client: { developer, team: "t", address: "127.0.0.1:1", via: "proxy-auth" } });
}

async function end(capture: Capture, ex: Exchange, prompt: string, bodyBytes = 0): Promise<void> {
  const tap = capture.sink.begin(ex);
  tap.requestChunk(messagesBody(prompt));
  tap.responseChunk(new Uint8Array(bodyBytes).fill(7));
  await tap.end(ex, fakeParsed({ userText: prompt, sessionId: `s-${prompt}` }));
}

async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every exchange id once, and as many turns: nothing lost, nothing doubled. */
async function assertExactlyOnce(capture: Capture, ids: string[]): Promise<void> {
  const rows = await waitFor(
    `${ids.length} exchanges`,
    () => capture.db.query<{ id: string }>("SELECT id FROM exchanges"),
    (r) => r.length >= ids.length,
  );
  assert.deepEqual(rows.map((r) => r.id).sort(), [...ids].sort(), "every exchange, exactly once");
  const [{ n }] = await capture.db.query<{ n: number }>("SELECT COUNT(*) AS n FROM turns");
  assert.equal(Number(n), ids.length);
}

async function spillSegments(dir: string): Promise<string[]> {
  const names = [];
  for await (const e of Deno.readDir(join(dir, "journal", "spill"))) {
    if (e.name.endsWith(".log")) names.push(e.name);
  }
  return names;
}

Deno.test({
  name: "a lagging capture worker never has more than the bound in transit; the rest spills and lands once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const bound = 1024 * 1024;
    const capture = await startWorkerCapture({
      paths: dataPaths(dir),
      config: { capture: { durability: "batched", flushIntervalMs: 10, maxInTransitBytes: bound } },
      env: ENV,
      signIntervalMs: 3_600_000,
      workerUrl: STALLING_WORKER,
    });
    try {
      const ids: string[] = [];
      let most = 0;
      // 100 KB answers are handed over once their body files are closed, after `end` returns: sample
      // what is in transit on a timer rather than after each `end`.
      const sampler = setInterval(() => most = Math.max(most, capture.stats().inTransitBytes!), 2);
      for (let i = 0; i < 60; i++) {
        const ex = exchangeOf("slow-30");
        ids.push(ex.id);
        await end(capture, ex, `turn ${i}`, 100 * 1024);
      }
      const stats = await waitFor(
        "the rest to spill",
        () => Promise.resolve(capture.stats()),
        (s) => s.spilledTotal >= 45,
      ).finally(() => clearInterval(sampler));
      assert.ok(most <= bound, `at most ${bound} bytes in transit, saw ${most}`);
      assert.ok(most > bound / 2, `the bound was used, saw ${most}`);
      assert.ok(stats.spilledTotal >= 45, `the rest spilled: ${stats.spilledTotal}`);
      await assertExactlyOnce(capture, ids);
      await waitFor(
        "the spill backlog to drain",
        () => Promise.resolve(capture.stats()),
        (s) => s.spilled === 0,
      );
    } finally {
      await capture.close();
    }
    assert.deepEqual(await spillSegments(dir), [], "everything spilled left the spill journal");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "strict: every end() that resolved, posted or spilled, is there once after kill -9 and a restart",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const text = await firstLineThenKill(CHILD, [dir, "30"]);
    const { acked, spilled } = JSON.parse(text) as { acked: string[]; spilled: number };
    assert.equal(acked.length, 30);
    assert.ok(spilled >= 20, `most were spilled before the kill: ${spilled}`);

    const capture = await startWorkerCapture({
      paths: dataPaths(dir),
      config: { capture: { durability: "strict", flushIntervalMs: 10 } },
      env: ENV,
      signIntervalMs: 3_600_000,
    });
    try {
      await assertExactlyOnce(capture, acked);
    } finally {
      await capture.close();
    }
    await Deno.remove(dir, { recursive: true });
  },
});

/** Ends exchanges around one that wedges the worker; returns how long replacing it took. */
async function wedgeAndRecover(trigger: string, stallMs: number): Promise<number> {
  const dir = await Deno.makeTempDir();
  const capture = await startWorkerCapture({
    paths: dataPaths(dir),
    config: { capture: { durability: "strict", flushIntervalMs: 10, workerStallMs: stallMs } },
    env: ENV,
    signIntervalMs: 3_600_000,
    workerUrl: STALLING_WORKER,
  });
  try {
    const ids: string[] = [];
    const send = (developer: string, prompt: string) => {
      const ex = exchangeOf(developer);
      ids.push(ex.id);
      return end(capture, ex, prompt, 2048);
    };
    await send("alice", "before");
    const wedgedAt = Date.now();
    await send(trigger, "the wedge");
    // Strict ends while the worker is wedged: each waits until it is durable, whichever journal holds it.
    await Promise.all([0, 1, 2, 3, 4].map((i) => send("alice", `during ${i}`)));
    const stats = await waitFor(
      "the wedged worker's replacement",
      () => Promise.resolve(capture.stats()),
      (s) => s.workerRestarts === 1,
    );
    const took = Date.now() - wedgedAt;
    assert.equal(stats.workerWedged, 1);
    await Promise.all([0, 1].map((i) => send("alice", `after ${i}`)));
    await assertExactlyOnce(capture, ids);
    return took;
  } finally {
    await capture.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "a worker hung in a storage call is replaced after the stall time, and nothing is lost or doubled",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const took = await wedgeAndRecover("hang-store", 500);
    assert.ok(took < 2_500, `replaced within the stall time plus a restart: ${took} ms`);
  },
});

Deno.test({
  name:
    "a worker spinning in a synchronous loop is replaced once its thread lets go; nothing lost or doubled",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // Deno 2.9 cannot stop a spinning worker (denoland/deno#35657): it holds the journal's lock until its
    // loop returns, so the replacement starts then; the exchanges meanwhile wait in the spill journal.
    const took = await wedgeAndRecover("spin-2000", 500);
    assert.ok(took < 5_000, `replaced once the loop ended: ${took} ms`);
  },
});
