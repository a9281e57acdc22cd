/**
 * Benchmark (not a test): server time of every UI page with 10k sessions and 100k turns in SQLite,
 * requests answered in memory by the UI's handler (no network). Run:
 *   deno run -A --unstable-no-legacy-abort tests/ui/pages_bench.ts
 * Prints the median and worst of 7 runs per page after one warm-up.
 * @module
 */
import { join } from "node:path";
import { configSchema } from "../../config/schema.ts";
import { openSqlite } from "../../storage/db/sqlite.ts";
import { migrate } from "../../storage/db/migrate.ts";
import { insertDecision, insertSession, insertToolCall, insertTurn } from "../../storage/ui/test_rows.ts";
import { upsertUser } from "../../storage/ui/users.ts";
import { createUi } from "../../ui/app.ts";
import { hashPassword } from "../../ui/password.ts";

const SESSIONS = 10_000;
const TURNS_PER_SESSION = 10;
const dir = await Deno.makeTempDir({ prefix: "recondo-ui-bench-" });
const db = openSqlite(join(dir, "recondo.db"));
await migrate(db);
const now = Date.now();
const seedStart = performance.now();
await db.transaction(async (tx) => {
  for (let s = 0; s < SESSIONS; s++) {
    const at = now - (SESSIONS - s) * 60_000;
    const id = `s${s}`;
    const team = `team${s % 20}`;
    const developer = `dev${s % 300}`;
    await insertSession(tx, {
      id,
      at,
      developer,
      team,
      repo: `repo${s % 50}`,
      cost: 0.1 * TURNS_PER_SESSION,
      turns: TURNS_PER_SESSION,
    });
    for (let t = 0; t < TURNS_PER_SESSION; t++) {
      const turnId = `${id}-t${t}`;
      await insertTurn(tx, {
        id: turnId,
        sessionId: id,
        seq: t + 1,
        at: at - (TURNS_PER_SESSION - t) * 1000,
        prompt: t === 0
          ? `Session ${s}: please refactor module ${s % 997} and fix the flaky test`
          : null as unknown as string,
        response: `Done with step ${t} of session ${s}. The change touches ${s % 13} files.`,
        team,
        developer,
        cost: 0.1,
      });
      if (t % 3 === 0) {
        await insertToolCall(tx, {
          id: `${turnId}-c`,
          turnId,
          sessionId: id,
          name: "Bash",
          arguments: `{"command":"deno test ${s}"}`,
        });
      }
    }
    if (s % 10 === 0) {
      await insertDecision(tx, {
        id: `e${s}`,
        at,
        policy: "block-list",
        decision: "block",
        enforced: true,
        engine: "sqlite",
      });
    }
  }
});
console.log(
  `seeded ${SESSIONS} sessions, ${SESSIONS * TURNS_PER_SESSION} turns in ${
    Math.round(performance.now() - seedStart)
  } ms`,
);

const config = configSchema.parse({
  policies: [{ use: "spend-cap", options: { budgets: [{ scope: "team:*", usd: 100, period: "day" }] } }],
});
const ui = await createUi({
  dataDir: dir,
  db,
  objects: null,
  configPath: join(dir, "recondo.json"),
  gateway: () => ({
    config: () => config,
    reload: () => Promise.resolve({ ok: true as const }),
    proxyUrl: "http://127.0.0.1:8443",
  }),
});
await upsertUser(db, { name: "bench", role: "admin", passwordHash: await hashPassword("bench-password") });
// Log in through the service the login page uses, to get a session cookie.
const loginPage = await ui.handle(new Request("http://ui/login"));
const pre = loginPage!.headers.get("set-cookie")!.split(";")[0];
const csrf = (await loginPage!.text()).match(/name="_csrf" value="([^"]+)"/)![1];
const login = await ui.handle(
  new Request("http://ui/login", {
    method: "POST",
    headers: { cookie: pre, "content-type": "application/x-www-form-urlencoded", origin: "http://ui" },
    body: new URLSearchParams({ _csrf: csrf, name: "bench", password: "bench-password", next: "/" }),
  }),
);
const session = login!.headers.getSetCookie().find((c) => c.startsWith("recondo_ui="))!.split(";")[0];

const pages = [
  "/",
  "/live",
  "/sessions",
  "/sessions?team=team7",
  `/sessions?after=${now - 5_000 * 60_000}:s5000`,
  "/sessions?q=module%20996",
  "/sessions/s9999",
  "/turns/s9999-t3",
  "/policies",
  "/budgets",
  "/teams",
  "/events",
  "/integrity",
  "/audit",
];
console.log("| page | first ms | median ms | worst ms | bytes |");
console.log("|---|---|---|---|---|");
for (const path of pages) {
  const times: number[] = [];
  let first = 0;
  let bytes = 0;
  for (let i = 0; i < 8; i++) {
    const t0 = performance.now();
    const res = await ui.handle(new Request(`http://ui${path}`, { headers: { cookie: session } }));
    const body = await res!.text();
    if (res!.status !== 200) throw new Error(`${path} answered ${res!.status}: ${body.slice(0, 200)}`);
    if (i > 0) times.push(performance.now() - t0);
    else first = performance.now() - t0;
    bytes = body.length;
  }
  times.sort((a, b) => a - b);
  console.log(
    `| ${path} | ${first.toFixed(1)} | ${times[3].toFixed(1)} | ${times.at(-1)!.toFixed(1)} | ${bytes} |`,
  );
}
console.log(`islands bundle: ${(await ui.bundle()).bytes} bytes`);
await ui.close();
await db.close();
await Deno.remove(dir, { recursive: true });
