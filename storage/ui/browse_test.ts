import assert from "node:assert/strict";
import { testBothEngines } from "../db/test_engines.ts";
import { browseSessions, parseCursor } from "./browse.ts";
import { spendBy, trafficCounts } from "./overview.ts";
import { insertDecision, insertSession, insertToolCall, insertTurn } from "./test_rows.ts";

testBothEngines(
  "keyset paging visits every session once, newest first, even when times tie",
  async ({ db }) => {
    const at = 1_800_000_000_000;
    for (let i = 0; i < 25; i++) {
      await insertSession(db, { id: `s${String(i).padStart(2, "0")}`, at: at + Math.floor(i / 5) * 1000 });
    }
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await browseSessions(db, { limit: 7, after });
      seen.push(...result.rows.map((r) => r.id));
      if (!result.next) break;
      after = result.next;
    }
    assert.equal(seen.length, 25);
    assert.equal(new Set(seen).size, 25);
    assert.equal(seen[0], "s24");
    assert.equal(seen.at(-1), "s00");
    assert.throws(() => parseCursor("junk"), /Not a page cursor: "junk"/);
  },
);

testBothEngines(
  "filters and full-text search find sessions by column, prompt, response or tool arguments",
  async ({ db }) => {
    const at = 1_800_000_000_000;
    await insertSession(db, { id: "a", at, developer: "alice", team: "core", repo: "git@x:core.git" });
    await insertSession(db, { id: "b", at: at + 1, developer: "bob", team: "web" });
    await insertSession(db, { id: "c", at: at + 2, developer: "bob", team: "web" });
    await insertTurn(db, {
      id: "ta",
      sessionId: "a",
      seq: 1,
      at,
      prompt: "Fix the 100% CPU bug in load_cfg",
    });
    await insertTurn(db, {
      id: "tb",
      sessionId: "b",
      seq: 1,
      at,
      prompt: "1000 users, loadXcfg",
      response: "I rewrote the Parser",
    });
    await insertTurn(db, { id: "tc", sessionId: "c", seq: 1, at });
    await insertToolCall(db, {
      id: "k",
      turnId: "tc",
      sessionId: "c",
      name: "Bash",
      arguments: '{"command":"rm -rf build"}',
    });
    const ids = async (filter: Parameters<typeof browseSessions>[1]) =>
      (await browseSessions(db, filter)).rows.map((r) => r.id);
    assert.deepEqual(await ids({ team: "web" }), ["c", "b"]);
    assert.deepEqual(await ids({ developer: "alice", repo: "git@x:core.git" }), ["a"]);
    assert.deepEqual(await ids({ q: "100%" }), ["a"], "% is matched literally");
    assert.deepEqual(await ids({ q: "load_cfg" }), ["a"], "_ is matched literally");
    assert.deepEqual(await ids({ q: "00%" }), ["a"], "no literal run of three: still exact");
    assert.deepEqual(await ids({ q: "1000" }), ["b"]);
    assert.deepEqual(await ids({ q: "parser" }), ["b"], "search ignores case");
    assert.deepEqual(await ids({ q: "rm -rf" }), ["c"]);
    assert.deepEqual(await ids({ q: "nothing like this" }), []);
    assert.deepEqual(await ids({ q: "cp" }), ["a"], "two characters fall back to LIKE");
    assert.deepEqual(await ids({ since: at + 1, until: at + 10_000 }), ["c", "b"]);
  },
);

testBothEngines(
  "overview sums spend by team and counts only enforced blocks, redactions and throttles",
  async ({ db }) => {
    const day = 86_400_000;
    const at = Math.floor(1_800_000_000_000 / day) * day + 3_600_000;
    await insertSession(db, { id: "s", at });
    await insertTurn(db, { id: "t1", sessionId: "s", seq: 1, at, team: "core", cost: 0.5 });
    await insertTurn(db, { id: "t2", sessionId: "s", seq: 2, at: at + 1, team: "core", cost: 0.25 });
    await insertTurn(db, { id: "t3", sessionId: "s", seq: 3, at: at + 2, team: "web", cost: 2 });
    await insertTurn(db, { id: "t0", sessionId: "s", seq: 4, at: at - day, team: "web", cost: 100 });
    const spend = await spendBy(db, "team", at, at + 60_000);
    assert.deepEqual(spend.map((r) => [r.key, r.costUsd, r.turns]), [["web", 2, 1], ["core", 0.75, 2]]);
    const engine = db.engine;
    await insertDecision(db, {
      id: "e1",
      at,
      policy: "block-list",
      decision: "block",
      enforced: true,
      engine,
    });
    await insertDecision(db, {
      id: "e2",
      at,
      policy: "block-list",
      decision: "block",
      enforced: false,
      engine,
    });
    await insertDecision(db, { id: "e3", at, policy: "throttle", decision: "block", enforced: true, engine });
    await insertDecision(db, {
      id: "e4",
      at,
      policy: "redact-secrets",
      decision: "modify",
      enforced: true,
      engine,
    });
    const counts = await trafficCounts(db, at);
    assert.deepEqual(counts, { requests: 3, blocks: 1, redactions: 1, throttles: 1, errors: 0 });
    const sinceYesterday = await spendBy(db, "team", at - day, at + 60_000);
    assert.deepEqual(sinceYesterday.map((r) => [r.key, r.costUsd]), [["web", 102], ["core", 0.75]]);
    await assert.rejects(spendBy(db, "team", at - 90 * day, at), /last 62 days only/);
  },
);
