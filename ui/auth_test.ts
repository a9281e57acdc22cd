import assert from "node:assert/strict";
import { refreshLogLevel } from "../core/log.ts";
import { openSqlite } from "../storage/db/sqlite.ts";
import { migrate } from "../storage/db/migrate.ts";
import { upsertUser } from "../storage/ui/users.ts";
import { createAuth } from "./auth.ts";
import { hashPassword } from "./password.ts";

async function setup() {
  const dir = await Deno.makeTempDir();
  const db = openSqlite(`${dir}/recondo.db`);
  await migrate(db);
  let now = 1_000_000;
  const auth = await createAuth({
    db,
    dataDir: dir,
    now: () => now,
    idleMs: 60 * 60_000,
    absoluteMs: 3 * 60 * 60_000,
  });
  const requestWith = (cookie: string) =>
    new Request("http://ui/", { headers: { cookie: cookie.split(";")[0] } });
  return {
    db,
    auth,
    requestWith,
    advance: (ms: number) => now += ms,
    async close() {
      await db.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("a session ends after an idle hour, and at the latest three hours after login", async () => {
  const t = await setup();
  try {
    await upsertUser(t.db, { name: "ana", role: "admin", passwordHash: await hashPassword("password-123") });
    assert.equal(await t.auth.login("ana", "wrong-password"), null);
    const first = await t.auth.login("ana", "password-123");
    assert.match(first!.cookie, /^recondo_ui=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=10800$/);
    t.advance(59 * 60_000);
    assert.equal((await t.auth.currentUser(t.requestWith(first!.cookie)))?.name, "ana");
    t.advance(61 * 60_000);
    assert.equal(await t.auth.currentUser(t.requestWith(first!.cookie)), null, "idle for 61 minutes");

    const busy = await t.auth.login("ana", "password-123");
    for (let i = 0; i < 5; i++) {
      t.advance(50 * 60_000);
      const user = await t.auth.currentUser(t.requestWith(busy!.cookie));
      assert.equal(user?.name ?? null, i < 3 ? "ana" : null, `after ${(i + 1) * 50} minutes`);
    }
  } finally {
    await t.close();
  }
});

Deno.test("a demoted account loses its admin role on its next request, and logout ends the session", async () => {
  const t = await setup();
  try {
    await upsertUser(t.db, { name: "ana", role: "admin", passwordHash: await hashPassword("password-123") });
    const { cookie } = (await t.auth.login("ana", "password-123"))!;
    assert.equal((await t.auth.currentUser(t.requestWith(cookie)))?.role, "admin");
    await upsertUser(t.db, { name: "ana", role: "viewer", passwordHash: await hashPassword("password-123") });
    assert.equal((await t.auth.currentUser(t.requestWith(cookie)))?.role, "viewer");
    assert.match(await t.auth.logout(t.requestWith(cookie)), /Max-Age=0/);
    assert.equal(await t.auth.currentUser(t.requestWith(cookie)), null);
    const stored = await t.db.query("SELECT id_hash FROM ui_sessions");
    assert.ok(
      stored.every((r) => !cookie.includes(String(r.id_hash))),
      "only a hash of the cookie is stored",
    );
  } finally {
    await t.close();
  }
});

Deno.test("five wrong passwords lock the name for fifteen minutes, even against the right password", async () => {
  const t = await setup();
  try {
    await upsertUser(t.db, { name: "ana", role: "admin", passwordHash: await hashPassword("password-123") });
    for (let i = 0; i < 5; i++) assert.equal(await t.auth.login("ana", `guess-${i}-xx`), null);
    assert.equal(await t.auth.login("ana", "password-123"), null, "locked");
    t.advance(15 * 60_000 + 1);
    assert.ok(await t.auth.login("ana", "password-123"), "unlocked after the window");
  } finally {
    await t.close();
  }
});

Deno.test("the bootstrap token is written to a private file and its path logged, never the token", async () => {
  const lines: string[] = [];
  const original = { error: console.error, level: Deno.env.get("RECONDO_LOG") };
  console.error = (line: unknown) => lines.push(String(line));
  Deno.env.set("RECONDO_LOG", "info"); // the suite runs at warn; this line is info
  refreshLogLevel();
  let t;
  try {
    t = await setup();
  } finally {
    console.error = original.error;
    if (original.level === undefined) Deno.env.delete("RECONDO_LOG");
    else Deno.env.set("RECONDO_LOG", original.level);
    refreshLogLevel();
  }
  try {
    const token = await t.auth.bootstrapToken();
    assert.ok(token && token.length >= 24);
    const logged = lines.find((line) => line.includes('"ui.bootstrap_token"'));
    assert.ok(logged, lines.join("\n"));
    assert.match(logged, /ui-bootstrap-token/);
    assert.ok(!lines.some((line) => line.includes(token)), "the token was logged");
  } finally {
    await t.close();
  }
});
