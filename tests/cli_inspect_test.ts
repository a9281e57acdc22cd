/**
 * The CLI inspector end to end: exchanges go through the real capture pipeline into SQLite or a throwaway
 * PostgreSQL, then `recondo sessions|session|turn|search|stats` run as subprocesses against the data dir
 * and their `--json` output is compared field by field with what was fed.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import {
  runJson,
  runRecondo,
  seedCapture,
  seedPrice,
  type SeedTurn,
  usage,
} from "../cli/inspect/test_seed.ts";

const T0 = Date.UTC(2026, 4, 1, 9);
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const alice = {
  developer: "alice",
  team: "platform",
  address: "127.0.0.1:50000",
  via: "proxy-auth" as const,
};
const bob = { developer: "bob", team: "web", address: "10.0.0.2:4000", via: "api-key" as const };

const TURNS: SeedTurn[] = [
  {
    at: T0,
    clientSession: "cli-a",
    prompt: "Find the flaky test",
    usage: usage({ input: 1200, output: 300, cacheRead: 50, cacheWrite5m: 7, cacheWrite1h: 3 }),
    text: "Looking for it.",
    toolCalls: [{ id: "toolu_1", name: "Grep", arguments: '{"pattern":"flaky_widget"}', server: false }],
    client: alice,
    decisions: [{
      policy: "redact",
      hook: "request",
      kind: "modify",
      enforced: true,
      reason: "1 secret",
      at: T0,
    }],
  },
  {
    at: T0 + 60_000,
    clientSession: "cli-a",
    prompt: "Find the flaky test",
    userText: null,
    usage: usage({ input: 1500, output: 80, reasoning: 20 }),
    text: "The widget test sleeps for a second.",
    toolResults: [{ callId: "toolu_1", content: "tests/widget_test.ts:12", isError: false }],
    client: alice,
  },
  {
    at: T0 + 86_400_000,
    clientSession: "cli-b",
    prompt: "Rename the config loader",
    model: "claude-haiku-4-5",
    usage: usage({ input: 400, output: 40 }),
    text: "Renamed.",
    client: bob,
  },
];

const SESSION_FIELDS = [
  "id",
  "provider",
  "model",
  "developer",
  "team",
  "repo",
  "started_at",
  "last_activity_at",
  "turn_count",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_write_tokens",
  "cost_usd",
];
const TURN_FIELDS = [
  "id",
  "seq",
  "provider",
  "api",
  "model",
  "status",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_write_tokens",
  "reasoning_tokens",
  "cost_usd",
  "ttfb_ms",
  "duration_ms",
  "tool_calls",
  "request_sha256",
  "response_sha256",
  "decisions",
];

type Json = Record<string, unknown>;

function pick(o: Json, fields: string[]): Json {
  for (const f of fields) assert.ok(f in o, `field ${f} is present`);
  return Object.fromEntries(fields.map((f) => [f, o[f]]));
}

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

for (const engine of ["sqlite", "postgres"] as const) {
  Deno.test({
    name: `the inspector's --json output carries exactly the captured sessions, turns and totals [${engine}]`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      await using seeded = await seedCapture(engine, TURNS);
      const [a1, a2, b1] = seeded.turnIds;
      const env = seeded.env;

      const sessions = await runJson<Json[]>(["sessions"], env);
      assert.equal(sessions.code, 0);
      assert.equal(sessions.json.length, 2);
      const [sb, sa] = sessions.json; // most recently active first
      const costA = seedPrice(TURNS[0].usage) + seedPrice(TURNS[1].usage);
      assert.ok(close(Number(sa.cost_usd), costA), `session cost ${sa.cost_usd} is ${costA}`);
      assert.deepEqual(pick(sa, SESSION_FIELDS), {
        id: sa.id,
        provider: "anthropic",
        model: "claude-sonnet-4-5",
        developer: "alice",
        team: "platform",
        repo: "/home/dev/recondo",
        started_at: new Date(T0).toISOString(),
        last_activity_at: new Date(T0 + 60_000 + 400).toISOString(),
        turn_count: 2,
        input_tokens: 2700,
        output_tokens: 380,
        cache_read_tokens: 50,
        cache_write_tokens: 10,
        cost_usd: sa.cost_usd,
      });
      assert.equal(sb.developer, "bob");
      assert.equal(sb.model, "claude-haiku-4-5");
      assert.equal(sb.turn_count, 1);

      const filtered = await runJson<Json[]>(["sessions", "--developer", "bob"], env);
      assert.deepEqual(filtered.json.map((s) => s.id), [sb.id]);

      const detail = await runJson<Json & { turns: Json[] }>(["session", String(sa.id)], env);
      assert.equal(detail.code, 0);
      assert.deepEqual(pick(detail.json, SESSION_FIELDS), pick(sa, SESSION_FIELDS));
      assert.equal(detail.json.turns.length, 2);
      const [t1, t2] = detail.json.turns;
      assert.deepEqual(pick(t1, TURN_FIELDS), {
        id: a1,
        seq: 1,
        provider: "anthropic",
        api: "anthropic.messages",
        model: "claude-sonnet-4-5",
        status: 200,
        input_tokens: 1200,
        output_tokens: 300,
        cache_read_tokens: 50,
        cache_write_tokens: 10,
        reasoning_tokens: 0,
        cost_usd: t1.cost_usd,
        ttfb_ms: 40,
        duration_ms: 400,
        tool_calls: [{ id: "toolu_1", name: "Grep", arguments: '{"pattern":"flaky_widget"}' }],
        request_sha256: sha(seeded.requests[0]),
        response_sha256: sha(seeded.responses[0]),
        decisions: [{ policy: "redact", hook: "request", kind: "modify", reason: "1 secret" }],
      });
      assert.ok(close(Number(t1.cost_usd), seedPrice(TURNS[0].usage)));
      assert.equal(t2.id, a2);
      assert.equal(t2.seq, 2);
      assert.equal(t2.reasoning_tokens, 20);
      assert.deepEqual(t2.tool_calls, []);
      assert.deepEqual(t2.decisions, []);
      assert.equal(t2.request_sha256, sha(seeded.requests[1]));

      const turn = await runJson<Json>(["turn", a2], env);
      assert.equal(turn.code, 0);
      assert.equal(turn.json.response_text, "The widget test sleeps for a second.");
      assert.deepEqual(turn.json.tool_results, [{
        call_id: "toolu_1",
        tool_call_id: `${a1}:0`,
        content: "tests/widget_test.ts:12",
        is_error: false,
      }]);
      const body = await runRecondo(["turn", b1, "--request"], env);
      assert.equal(body.code, 0, body.stderr);
      assert.deepEqual(
        body.stdoutBytes,
        seeded.requests[2],
        "--request prints the stored body byte for byte",
      );

      const search = await runJson<Json[]>(["search", "FLAKY_widget"], env);
      assert.deepEqual(search.json.map((h) => [h.turn_id, h.matched_in]), [[a1, "tool_call"]]);
      const inResponse = await runJson<Json[]>(["search", "sleeps for"], env);
      assert.deepEqual(inResponse.json.map((h) => [h.turn_id, h.matched_in]), [[a2, "response"]]);

      const byDeveloper = await runJson<Json[]>(["stats", "--by", "developer"], env);
      assert.deepEqual(
        byDeveloper.json.map((r) => [r.developer, r.sessions, r.turns, r.input_tokens, r.output_tokens]),
        [["alice", 1, 2, 2700, 380], ["bob", 1, 1, 400, 40]],
      );
      const byDay = await runJson<Json[]>(["stats", "--by", "day,model"], env);
      assert.deepEqual(byDay.json.map((r) => [r.day, r.model, r.turns]), [
        ["2026-05-01", "claude-sonnet-4-5", 2],
        ["2026-05-02", "claude-haiku-4-5", 1],
      ]);
    },
  });
}

Deno.test({
  name:
    "human output is an aligned table without colour under NO_COLOR, and bad input gets one line and a failure",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using seeded = await seedCapture("sqlite", TURNS);
    const env = seeded.env;
    const table = await runRecondo(["sessions"], env);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^SESSION\s+PROVIDER\s+MODEL\s+DEVELOPER/);
    assert.equal(lines[1].indexOf("anthropic"), lines[0].indexOf("PROVIDER"), "columns line up");
    assert.equal(lines[2].indexOf("anthropic"), lines[0].indexOf("PROVIDER"));
    assert.ok(!table.stdout.includes("\x1b["), "no escape codes under NO_COLOR");

    const turns = await runRecondo([
      "session",
      (await runJson<Json[]>(["sessions"], env)).json[1].id as string,
      "--turns",
    ], env);
    assert.match(turns.stdout, /SEQ\s+TURN\s+MODEL/);
    assert.match(turns.stdout, /Grep/);

    for (
      const [args, message] of [
        [["session", "no-such-session"], /^recondo: No session "no-such-session"$/],
        [["turn", "no-such-turn", "--json"], /^recondo: No turn "no-such-turn"$/],
        [
          ["stats", "--by", "colour"],
          /^recondo: --by must be one of provider, model, developer, team, day; got "colour"$/,
        ],
        [["sessions", "--since", "last week"], /^recondo: --since must be an ISO date .* got "last week"$/],
        [["verify", "no-such-session"], /^recondo: No session "no-such-session"$/],
      ] as const
    ) {
      const run = await runRecondo([...args], env);
      assert.notEqual(run.code, 0, `${args.join(" ")} fails`);
      assert.equal(run.stdout, "");
      const errorLines = run.stderr.trim().split("\n");
      assert.equal(errorLines.length, 1, `one line for ${args.join(" ")}: ${run.stderr}`);
      assert.match(errorLines[0], message);
    }
    const progress = await runRecondo(["verify", "--all", "--progress"], env);
    assert.equal(progress.code, 0, progress.stderr);
    assert.match(progress.stderr, /\rchains\s+\[#{30}\] 2\/2 100%/, "a progress bar on stderr");
    assert.match(progress.stderr, /\robjects\s+\[#{30}\] 5\/5 100%/);
    // 5 distinct bodies, each written into its write batch's pack, and the packs (one per batch, so as many
    // as the worker's batching made), which `--all` finds by listing the store and re-hashes as objects.
    const db = new DatabaseSync(seeded.database, { readOnly: true });
    const [{ packs }] = db.prepare(
      "SELECT COUNT(DISTINCT pack_sha256) AS packs FROM stored_objects WHERE pack_sha256 IS NOT NULL",
    ).all() as { packs: number }[];
    db.close();
    assert.ok(packs >= 1 && packs <= 3, `${packs} packs`);
    assert.match(progress.stdout, new RegExp(`^Checked 2 sessions, 3 turns, ${5 + packs} objects`));
    const quiet = await runRecondo(["verify", "--all"], env);
    assert.equal(quiet.stderr, "", "no progress bar when stderr is not a terminal");

    const missing = await runRecondo(["sessions"], { ...env, RECONDO_DATA_DIR: `${seeded.dir}/nowhere` });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^recondo: No capture database at .*nowhere\/recondo.db/);
  },
});
