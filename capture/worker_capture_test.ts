import assert from "node:assert/strict";
import { join } from "node:path";
import { dataPaths } from "../config/paths.ts";
import type { Exchange } from "../core/exchange.ts";
import type { ExchangeTap } from "./sink.ts";
import { fakeExchange, fakeParsed, messagesBody } from "./test_exchange.ts";
import { startWorkerCapture } from "./worker_capture.ts";

const FAILING_WORKER = new URL("./testdata/failing_worker.ts", import.meta.url);

/** A worker capture on SQLite and local objects in `dir`, with `capture` settings on top of strict defaults. */
function startTestCapture(dir: string, capture: Record<string, unknown> = {}, workerUrl?: URL) {
  return startWorkerCapture({
    paths: dataPaths(dir),
    config: { capture: { durability: "strict", flushIntervalMs: 10, ...capture } },
    env: new Map([["RECONDO_STORE", "sqlite"], ["RECONDO_OBJECTS", "local"]]),
    signIntervalMs: 3_600_000,
    ...(workerUrl ? { workerUrl } : {}),
  });
}

async function capture(tap: ExchangeTap, prompt: string, ex: Exchange): Promise<void> {
  tap.requestChunk(messagesBody(prompt));
  tap.responseChunk(new TextEncoder().encode("event: message_stop\n\n"));
  await tap.end(ex, fakeParsed({ userText: prompt, sessionId: `s-${prompt}` }));
}

Deno.test({
  name: "a capture worker that dies is replaced: its journaled exchange is replayed, later ones are kept",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const running = await startTestCapture(dir, {}, FAILING_WORKER);
    try {
      const doomed = fakeExchange({
        client: { developer: "crash-the-worker", team: "t", address: "127.0.0.1:1", via: "proxy-auth" },
      });
      await capture(running.sink.begin(doomed), "before the failure", doomed);
      // The worker dies 300 ms after taking that exchange; these end while it is down or being replaced.
      await new Promise((r) => setTimeout(r, 350));
      const later = [fakeExchange(), fakeExchange()];
      // Strict: each resolves once durable, in the spill journal while no worker is there to take it.
      await Promise.all(later.map((ex, i) => capture(running.sink.begin(ex), `after ${i}`, ex)));

      const deadline = Date.now() + 10_000;
      let prompts: string[] = [];
      while (Date.now() < deadline) {
        const rows = await running.db.query<{ prompt: string }>("SELECT prompt FROM turns ORDER BY prompt");
        prompts = rows.map((r) => r.prompt);
        if (prompts.length >= 3) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(prompts, ["after 0", "after 1", "before the failure"]);
      assert.equal(running.stats().workerRestarts, 1);
    } finally {
      await running.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** The nice value of one thread of this process, or `null` when it has exited meanwhile. */
function threadNice(task: string): number | null {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${Deno.pid}/task/${task}/stat`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null; // the thread ended between listing and reading
    throw error;
  }
  // Fields after the parenthesised thread name: state is field 3, nice is field 19.
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

function threadsWithNice(nice: number): number {
  let count = 0;
  for (const task of Deno.readDirSync(`/proc/${Deno.pid}/task`)) if (threadNice(task.name) === nice) count++;
  return count;
}

Deno.test({
  name: "the capture worker's thread runs at the configured nice value, the proxy's thread does not",
  ignore: Deno.build.os !== "linux",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    // Relative to the test runner's own nice value (it may itself run under `nice`).
    const base = threadNice(String(Deno.pid))!;
    const workerNice = Math.min(19, base + 7);
    assert.notEqual(workerNice, base, "the runner is not already at the lowest priority");
    assert.equal(threadsWithNice(workerNice), 0);
    const running = await startTestCapture(dir, { durability: "batched", workerNice });
    try {
      assert.equal(threadsWithNice(workerNice), 1, "exactly one thread, the worker's, was lowered");
      assert.equal(threadNice(String(Deno.pid)), base, "the main thread keeps its nice value");
    } finally {
      await running.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "strict: a long streamed answer goes through its body file, is recorded byte for byte, and the file goes",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const running = await startTestCapture(dir);
    try {
      const ex = fakeExchange();
      const tap = running.sink.begin(ex);
      tap.requestChunk(messagesBody("a long answer"));
      const events: Uint8Array[] = [];
      // ~120 KB in SSE-sized chunks: well past what stays in memory.
      for (let i = 0; i < 400; i++) {
        events.push(
          new TextEncoder().encode(
            `event: content_block_delta\ndata: {"i":${i},"pad":"${"x".repeat(250)}"}\n\n`,
          ),
        );
      }
      for (const e of events) tap.responseChunk(e);
      const bodyDir = join(dir, "journal", "bodies");
      // The file is written behind the stream: wait for it to appear.
      let files: Deno.DirEntry[] = [];
      for (const deadline = Date.now() + 5_000; Date.now() < deadline && files.length === 0;) {
        await new Promise((r) => setTimeout(r, 20));
        files = await Array.fromAsync(Deno.readDir(bodyDir)).catch(() => []);
      }
      assert.deepEqual(files.map((f) => f.name), [`${ex.id}.body`], "the body went to a file");
      await tap.end(ex, fakeParsed({ userText: "a long answer", sessionId: "s-long" }));

      const whole = new Uint8Array(events.reduce((n, e) => n + e.length, 0));
      events.reduce((at, e) => (whole.set(e, at), at + e.length), 0);
      const sha = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", whole)))
        .map((b) => b.toString(16).padStart(2, "0")).join("");
      let rows: { response_sha256: string; response_bytes: number }[] = [];
      for (const deadline = Date.now() + 10_000; Date.now() < deadline && rows.length === 0;) {
        rows = await running.db.query("SELECT response_sha256, response_bytes FROM exchanges WHERE id = ?", [
          ex.id,
        ]);
        if (rows.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(rows.length, 1);
      assert.equal(Number(rows[0].response_bytes), whole.length);
      assert.equal(rows[0].response_sha256, sha);
      for (const deadline = Date.now() + 5_000; Date.now() < deadline;) {
        if ((await Array.fromAsync(Deno.readDir(bodyDir))).length === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(await Array.fromAsync(Deno.readDir(bodyDir)), [], "the file is removed once durable");
    } finally {
      await running.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
