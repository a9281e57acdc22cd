/**
 * Child process for the crash test (tests/capture_crash_test.ts): captures COUNT exchanges as 20
 * concurrent streams through the real pipeline and journal, with a database that commits the first
 * WRITTEN records and then stalls (as a database that fell behind), prints the acknowledged exchange ids
 * and waits to be killed with SIGKILL.
 * Usage: deno run -A crash_child.ts DATA_DIR strict|batched COUNT WRITTEN
 */
import { join } from "node:path";
import { openJournal } from "../journal.ts";
import { createPipeline } from "../pipeline.ts";
import { fakeExchange, fakeParsed, messagesBody } from "../test_exchange.ts";
import { migrate } from "../../storage/db/migrate.ts";
import { openSqlite } from "../../storage/db/sqlite.ts";
import type { Db } from "../../storage/db/db.ts";
import { openLocalObjectStore } from "../../storage/objects/local.ts";
import { loadOrCreateHmacKey } from "../credentials.ts";

const [dir, mode, countText, writtenText] = Deno.args;
const count = Number(countText);
const written = Number(writtenText);
let allowed = written;
let committed = 0;
const real = openSqlite(join(dir, "recondo.db"));
await migrate(real);
const stalling: Db = {
  engine: real.engine,
  query: (sql, params) => real.query(sql, params),
  run: (sql, params) => real.run(sql, params),
  exec: (sql) => real.exec(sql),
  transaction: (fn) =>
    allowed-- > 0
      ? real.transaction(fn).then((value) => {
        committed++;
        return value;
      })
      : new Promise(() => {}),
  close: () => real.close(),
};
const journal = await openJournal({ dir: join(dir, "journal"), flushIntervalMs: 20 });
const pipeline = createPipeline({
  journal,
  db: stalling,
  objects: await openLocalObjectStore(join(dir, "objects")),
  hmacKey: await loadOrCreateHmacKey(join(dir, "keys", "hmac.key")),
  durability: mode === "strict" ? "strict" : "batched",
  idleGapMs: 30 * 60_000,
  maxBatch: 1, // one record per transaction, so exactly WRITTEN records commit before the stall
});

const acked: string[] = [];
async function stream(i: number): Promise<void> {
  const ex = fakeExchange({ connectionId: `conn-${i % 20}` });
  const tap = pipeline.sink.begin(ex);
  tap.requestChunk(messagesBody(`task ${i}`));
  for (let c = 0; c < 5; c++) {
    tap.responseChunk(new TextEncoder().encode(`data: {"i":${i},"c":${c}}\n\n`));
    await new Promise((r) => setTimeout(r, 1));
  }
  await tap.end(ex, fakeParsed({ sessionId: `crash-${i % 20}`, userText: `task ${i}` }));
  acked.push(ex.id);
}
const lanes = Array.from({ length: 20 }, async (_, lane) => {
  for (let i = lane; i < count; i += 20) await stream(i);
});
await Promise.all(lanes);
if (mode !== "strict") await new Promise((r) => setTimeout(r, 100)); // let the last flush interval pass
while (committed < written) await new Promise((r) => setTimeout(r, 5)); // the database's share is in
await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(acked) + "\n"));
await new Promise(() => {}); // wait for SIGKILL
