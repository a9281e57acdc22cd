/**
 * Benchmark (not a test): can the Live view keep up with 200 exchanges/s? Inserts exchanges at a fixed rate
 * for 5 s while an SSE client reads `/live/stream`, then reports how many arrived and how late.
 *   deno run -A --unstable-no-legacy-abort tests/ui/live_bench.ts [rate]
 * @module
 */
import { join } from "node:path";
import { configSchema } from "../../config/schema.ts";
import { migrate } from "../../storage/db/migrate.ts";
import { openSqlite } from "../../storage/db/sqlite.ts";
import { insertSession, insertTurn } from "../../storage/ui/test_rows.ts";
import { createUi } from "../../ui/app.ts";
import { startUiListener } from "../../ui/listen.ts";
import { loginOverHttp } from "./http_session.ts";
import { upsertUser } from "../../storage/ui/users.ts";
import { hashPassword } from "../../ui/password.ts";

const RATE = Number(Deno.args[0] ?? 200);
const SECONDS = 5;
const dir = await Deno.makeTempDir({ prefix: "recondo-live-bench-" });
const db = openSqlite(join(dir, "recondo.db"));
await migrate(db);
const config = configSchema.parse({});
const ui = await createUi({
  dataDir: dir,
  db,
  objects: null,
  configPath: join(dir, "recondo.json"),
  gateway: () => ({
    config: () => config,
    reload: () => Promise.resolve({ ok: true as const }),
    proxyUrl: "",
  }),
});
const listener = startUiListener(ui, "127.0.0.1:0");
const base = `http://127.0.0.1:${listener.port}`;
await upsertUser(db, { name: "bench", role: "viewer", passwordHash: await hashPassword("bench-password") });
const session = await loginOverHttp(base, "bench", "bench-password");
await insertSession(db, { id: "s", at: Date.now() });

const res = await fetch(`${base}/live/stream`, { headers: { cookie: session.cookie } });
const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
const sentAt = new Map<string, number>();
const delays: number[] = [];
let buffer = "";
const reading = (async () => {
  while (true) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split("\n").find((l) => l.startsWith("data: "));
      if (!data) continue;
      const ex = JSON.parse(data.slice(6));
      const t = sentAt.get(ex.id);
      if (t !== undefined) delays.push(performance.now() - t);
    }
  }
})();
await new Promise((r) => setTimeout(r, 200));
const total = RATE * SECONDS;
const start = performance.now();
for (let i = 0; i < total; i++) {
  const due = start + (i * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  sentAt.set(`ex-t${i}`, performance.now());
  await insertTurn(db, { id: `t${i}`, sessionId: "s", seq: i + 1, at: Date.now() - 100 });
}
const deadline = performance.now() + 3_000;
while (delays.length < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
delays.sort((a, b) => a - b);
console.log(
  `rate ${RATE}/s for ${SECONDS}s: delivered ${delays.length}/${total}, delay p50 ${
    delays[delays.length >> 1]?.toFixed(0)
  } ms, ` +
    `p99 ${delays[Math.floor(delays.length * 0.99)]?.toFixed(0)} ms, max ${delays.at(-1)?.toFixed(0)} ms`,
);
await reader.cancel();
await reading.catch(() => {});
await listener.close();
await ui.close();
await db.close();
await Deno.remove(dir, { recursive: true });
