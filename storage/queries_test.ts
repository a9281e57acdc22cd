import assert from "node:assert/strict";
import { persistRecord } from "../capture/persist.ts";
import { buildRecord } from "../capture/record.ts";
import { fakeExchange, fakeParsed, messagesBody, usage } from "../capture/test_exchange.ts";
import { sortToolResults, turnHash } from "./chain.ts";
import type { Db } from "./db/db.ts";
import { testBothEngines } from "./db/test_engines.ts";
import { openLocalObjectStore } from "./objects/local.ts";
import { chainRows, getSession, getTurn, listSessions, searchTurns } from "./queries.ts";

async function seed(db: Db): Promise<{ first: string; second: string }> {
  const dir = await Deno.makeTempDir();
  try {
    const objects = await openLocalObjectStore(dir);
    const t0 = Date.UTC(2026, 4, 1, 9);
    const write = (
      ex: ReturnType<typeof fakeExchange>,
      parsed: ReturnType<typeof fakeParsed>,
      prompt: string,
    ) =>
      persistRecord(
        db,
        objects,
        buildRecord(ex, parsed, {
          request: messagesBody(prompt),
          response: new TextEncoder().encode("ok"),
        }, new Uint8Array(32)),
        { idleGapMs: 1_800_000, price: (_p, _m, u) => u.output / 1000 },
      );
    const first = fakeExchange({
      at: t0,
      decisions: [{
        policy: "redact",
        hook: "request",
        kind: "modify",
        enforced: true,
        reason: "1 secret",
        at: t0,
      }],
    });
    await write(
      first,
      fakeParsed({
        sessionId: "q1",
        userText: "Find the flaky test",
        usage: usage({ input: 10, output: 100, cacheWrite5m: 2, cacheWrite1h: 1 }),
        toolCalls: [{ id: "call_a", name: "Grep", arguments: '{"pattern":"flaky_widget"}', server: false }],
        text: "Looking for it.",
      }),
      "Find the flaky test",
    );
    const second = fakeExchange({ at: t0 + 60_000 });
    await write(
      second,
      fakeParsed({
        sessionId: "q1",
        userText: null,
        toolResults: [{ callId: "call_a", content: "tests/widget_test.ts:12", isError: false }],
        text: "The widget test sleeps.",
      }),
      "Find the flaky test",
    );
    await write(
      fakeExchange({
        at: t0 + 120_000,
        client: { developer: "bob", team: "web", address: "10.0.0.2:1", via: "api-key" },
      }),
      fakeParsed({ sessionId: "q2", userText: "other work" }),
      "other work",
    );
    return { first: first.id, second: second.id };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

testBothEngines("sessions list newest first with totals and filter by developer", async ({ db }) => {
  await seed(db);
  const all = await listSessions(db);
  assert.equal(all.length, 2);
  assert.equal(all[0].developer, "bob", "most recently active first");
  const alice = await listSessions(db, { developer: "alice" });
  assert.equal(alice.length, 1);
  assert.equal(alice[0].turn_count, 2);
  assert.equal(alice[0].output_tokens, 105);
  assert.equal(alice[0].cache_write_tokens, 3);
  assert.equal(alice[0].intent, "Find the flaky test");
  assert.equal(alice[0].started_at, "2026-05-01T09:00:00.000Z");
  assert.ok(Math.abs(alice[0].cost_usd - 0.105) < 1e-9);
  assert.deepEqual(await listSessions(db, { developer: "nobody" }), []);
});

testBothEngines(
  "a session shows its turns with tool calls and decisions; a turn shows its results",
  async ({ db }) => {
    const { first, second } = await seed(db);
    const [alice] = await listSessions(db, { developer: "alice" });
    const detail = await getSession(db, alice.id);
    assert.ok(detail);
    assert.deepEqual(detail.turns.map((t) => t.seq), [1, 2]);
    assert.equal(detail.turns[0].id, first);
    assert.deepEqual(detail.turns[0].tool_calls, [{
      id: "call_a",
      name: "Grep",
      arguments: '{"pattern":"flaky_widget"}',
    }]);
    assert.deepEqual(detail.turns[0].decisions, [{
      policy: "redact",
      hook: "request",
      kind: "modify",
      reason: "1 secret",
    }]);
    assert.equal(detail.turns[0].cache_write_tokens, 3);
    assert.match(detail.turns[0].request_sha256, /^[0-9a-f]{64}$/);
    const turn = await getTurn(db, second);
    assert.ok(turn);
    assert.deepEqual(turn.tool_results, [{
      call_id: "call_a",
      tool_call_id: `${first}:0`,
      content: "tests/widget_test.ts:12",
      is_error: false,
    }]);
    assert.equal(turn.prev_hash, (await getTurn(db, first))!.hash, "the second turn links to the first");
    assert.equal(turn.exchange?.request_headers["x-api-key"], undefined);
    assert.equal(await getSession(db, "no-such-session"), null);
    assert.equal(await getTurn(db, "no-such-turn"), null);
  },
);

testBothEngines(
  "search finds prompts, responses and tool-call arguments, with % taken literally",
  async ({ db }) => {
    await seed(db);
    assert.deepEqual((await searchTurns(db, "FLAKY TEST")).map((h) => h.matched_in), ["prompt"]);
    assert.deepEqual((await searchTurns(db, "widget test sleeps")).map((h) => h.matched_in), ["response"]);
    assert.deepEqual((await searchTurns(db, "flaky_widget")).map((h) => h.matched_in), ["tool_call"]);
    assert.deepEqual(await searchTurns(db, "%"), []);
  },
);

testBothEngines("chain rows recompute every turn hash", async ({ db }) => {
  await seed(db);
  const [alice] = await listSessions(db, { developer: "alice" });
  const rows = await chainRows(db, alice.id);
  assert.equal(rows.turns.length, 2);
  for (const t of rows.turns) {
    const id = String(t.id);
    const hash = turnHash(t, rows.toolCalls.get(id) ?? [], sortToolResults(rows.toolResults.get(id) ?? []));
    assert.equal(hash, t.hash);
  }
});
