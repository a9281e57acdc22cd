import assert from "node:assert/strict";
import { testBothEngines } from "../db/test_engines.ts";
import { appendAudit, listAudit } from "./audit.ts";
import { deleteExpiredLoginSessions, findLoginSession, insertLoginSession } from "./login_sessions.ts";
import { countUsers, findUser, upsertUser } from "./users.ts";

testBothEngines(
  "an account is created, then reset by a second add, and its role is kept as given",
  async ({ db }) => {
    assert.equal(await countUsers(db), 0);
    assert.equal(await upsertUser(db, { name: "ana", role: "viewer", passwordHash: "h1" }, 1), "created");
    assert.equal(await upsertUser(db, { name: "ana", role: "admin", passwordHash: "h2" }, 2), "updated");
    assert.deepEqual(await findUser(db, "ana"), {
      name: "ana",
      role: "admin",
      passwordHash: "h2",
      createdAt: 1,
    });
    assert.equal(await findUser(db, "nobody"), null);
    await assert.rejects(db.run("INSERT INTO ui_users VALUES ('x', 'root', 'h', 1, 1)"));
  },
);

testBothEngines("a login session is found until it expires, then cleaned up", async ({ db }) => {
  await insertLoginSession(db, {
    idHash: "abc",
    userName: "ana",
    role: "admin",
    csrfToken: "t",
    createdAt: 1000,
    lastSeenAt: 1000,
    expiresAt: 5000,
  });
  assert.equal((await findLoginSession(db, "abc", 4999))?.userName, "ana");
  assert.equal(await findLoginSession(db, "abc", 5000), null);
  assert.equal(await deleteExpiredLoginSessions(db, 6000), 1);
});

testBothEngines(
  "the audit log keeps who changed what with before and after, and refuses edits",
  async ({ db }) => {
    await appendAudit(db, {
      actor: "ana",
      action: "disable block-list",
      target: "policies",
      before: [1],
      after: [],
    }, 10);
    const [entry] = await listAudit(db);
    assert.equal(entry.actor, "ana");
    assert.deepEqual([entry.before, entry.after, entry.at], [[1], [], 10]);
    await assert.rejects(db.run("UPDATE ui_audit SET actor = 'mallory'"), /append-only/);
    await assert.rejects(db.run("DELETE FROM ui_audit"), /append-only/);
  },
);
