import assert from "node:assert/strict";
import { sortToolResults, turnHash } from "../storage/chain.ts";
import type { Db } from "../storage/db/db.ts";
import { testBothEngines } from "../storage/db/test_engines.ts";
import { loadBody } from "../storage/objects/content.ts";
import { withToolResultText } from "../storage/packed_text.ts";
import { getTurn } from "../storage/queries.ts";
import { openLocalObjectStore } from "../storage/objects/local.ts";
import type { ObjectStore } from "../storage/objects/store.ts";
import { persistRecord } from "./persist.ts";
import { buildRecord, type CaptureRecord } from "./record.ts";
import type { CaptureParsed } from "./sink.ts";
import { FAKE_KEY, fakeExchange, fakeParsed, messagesBody, usage } from "./test_exchange.ts";
import type { Exchange } from "../core/exchange.ts";

const HMAC = new Uint8Array(32).fill(7);
const MINUTE = 60_000;

async function withObjects(fn: (objects: ObjectStore) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(await openLocalObjectStore(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function record(ex: Exchange, parsed: CaptureParsed | null, body: Uint8Array): CaptureRecord {
  return buildRecord(ex, parsed, { request: body, response: new TextEncoder().encode("data: {}\n\n") }, HMAC);
}

const write = (db: Db, objects: ObjectStore, r: CaptureRecord) =>
  persistRecord(db, objects, r, {
    idleGapMs: 30 * MINUTE,
    price: (_p, _m, u, _at) => u.input * 0.001 + u.output * 0.002,
  });

async function recomputeChain(db: Db, sessionId: string): Promise<void> {
  const turns = await db.query("SELECT * FROM turns WHERE session_id = $1 ORDER BY seq", [sessionId]);
  let prev = "0".repeat(64);
  for (const [i, t] of turns.entries()) {
    assert.equal(Number(t.seq), i + 1);
    assert.equal(t.prev_hash, prev);
    const calls = await db.query("SELECT * FROM tool_calls WHERE turn_id = $1 ORDER BY idx", [
      t.id as string,
    ]);
    const results = withToolResultText(
      await db.query("SELECT * FROM tool_results WHERE turn_id = $1", [t.id as string]),
    );
    assert.equal(turnHash(t, calls, sortToolResults(results)), t.hash, `turn ${i + 1} hash recomputes`);
    prev = t.hash as string;
  }
}

testBothEngines(
  "turns with one client session id form one session with sequence, intent and totals",
  async ({ db }) => {
    await withObjects(async (objects) => {
      const t0 = Date.UTC(2026, 0, 1);
      const body = messagesBody("refactor the parser");
      const parsed1 = fakeParsed({
        sessionId: "cc-1",
        userText: "refactor the parser",
        usage: usage({ input: 100, output: 20, cacheRead: 5, cacheWrite5m: 3, cacheWrite1h: 2 }),
        toolCalls: [{ id: "toolu_1", name: "Bash", arguments: '{"command":"ls"}', server: false }],
      });
      const r1 = await write(db, objects, record(fakeExchange({ at: t0 }), parsed1, body));
      const parsed2 = fakeParsed({
        sessionId: "cc-1",
        userText: null,
        usage: usage({ input: 50, output: 10, reasoning: 4 }),
        toolResults: [{ callId: "toolu_1", content: "README.md", isError: false }],
      });
      // Two hours later: the client id still holds the session together.
      const r2 = await write(db, objects, record(fakeExchange({ at: t0 + 120 * MINUTE }), parsed2, body));
      assert.equal(r1.status, "written");
      assert.equal(r2.status, "written");
      if (r1.status !== "written" || r2.status !== "written") return;
      assert.equal(r1.sessionId, r2.sessionId);
      const [s] = await db.query("SELECT * FROM sessions WHERE id = $1", [r1.sessionId!]);
      assert.equal(Number(s.turn_count), 2);
      assert.equal(Number(s.input_tokens), 150);
      assert.equal(Number(s.output_tokens), 30);
      assert.equal(Number(s.cache_read_tokens), 5);
      assert.equal(Number(s.cache_write_tokens), 5);
      assert.equal(Number(s.reasoning_tokens), 4);
      assert.ok(Math.abs(Number(s.cost_usd) - (0.1 + 0.04 + 0.05 + 0.02)) < 1e-9);
      assert.equal(s.intent, "refactor the parser");
      assert.equal(s.developer, "alice");
      assert.equal(s.team, "platform");
      assert.equal(s.repo, "/home/dev/recondo");
      const [result] = await db.query("SELECT * FROM tool_results WHERE turn_id = $1", [r2.turnId!]);
      assert.equal(
        result.tool_call_id,
        `${r1.turnId}:0`,
        "the tool result links to the call of the previous turn",
      );
      const [turn2] = await db.query("SELECT * FROM turns WHERE id = $1", [r2.turnId!]);
      assert.equal(Number(turn2.ttfb_ms), 40);
      assert.equal(Number(turn2.duration_ms), 400);
      assert.equal(Number(turn2.status), 200);
      await recomputeChain(db, r1.sessionId!);
    });
  },
);

testBothEngines(
  "without a client id, an idle gap or a new conversation opening starts a new session",
  async ({ db }) => {
    await withObjects(async (objects) => {
      const t0 = Date.UTC(2026, 0, 2);
      const a = messagesBody("first task");
      const ids: (string | null)[] = [];
      for (
        const [at, body] of [[t0, a], [t0 + 10 * MINUTE, a], [t0 + 15 * MINUTE, messagesBody("other task")], [
          t0 + 70 * MINUTE,
          a,
        ]] as const
      ) {
        const r = await write(db, objects, record(fakeExchange({ at }), fakeParsed(), body));
        ids.push(r.status === "written" ? r.sessionId : null);
      }
      assert.equal(ids[0], ids[1], "same opening within the gap continues the session");
      assert.notEqual(ids[2], ids[0], "a different opening is another conversation");
      assert.notEqual(ids[3], ids[0], "after the idle gap a new session starts");
      const [{ n }] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM sessions");
      assert.equal(Number(n), 3);
    });
  },
);

testBothEngines("credentials are stored nowhere: not in rows, not in objects", async ({ db }) => {
  await withObjects(async (objects) => {
    const ex = fakeExchange({
      provider: "google",
      request: {
        method: "POST",
        path: `/v1beta/models/gemini-2.5-flash:generateContent?key=${FAKE_KEY}&alt=sse`,
        headers: { "x-goog-api-key": FAKE_KEY, "content-type": "application/json" },
      },
    });
    const r = record(ex, fakeParsed(), messagesBody("hello"));
    await write(db, objects, r);
    for (const table of ["exchanges", "turns", "sessions", "events"]) {
      const rows = await db.query(`SELECT * FROM ${table}`);
      assert.ok(!JSON.stringify(rows).includes(FAKE_KEY), `${table} holds no key`);
    }
    const [row] = await db.query("SELECT * FROM exchanges");
    assert.equal(row.path, "/v1beta/models/gemini-2.5-flash:generateContent?alt=sse");
    assert.match(String(row.api_key_hash), /^[0-9a-f]{64}$/);
    for await (const sha of objects.list()) {
      const text = new TextDecoder().decode((await loadBody(objects, sha))!);
      assert.ok(!text.includes(FAKE_KEY));
    }
  });
});

testBothEngines("writing the same record twice (a replay) changes nothing", async ({ db }) => {
  await withObjects(async (objects) => {
    const r = record(
      fakeExchange({
        decisions: [{
          policy: "spend-cap",
          hook: "request",
          kind: "allow",
          enforced: true,
          reason: "under budget",
          at: Date.now(),
        }],
      }),
      fakeParsed({ sessionId: "x" }),
      messagesBody("a"),
    );
    assert.equal((await write(db, objects, r)).status, "written");
    assert.equal((await write(db, objects, r)).status, "duplicate");
    const [s] = await db.query("SELECT turn_count FROM sessions");
    assert.equal(Number(s.turn_count), 1);
    const [{ n }] = await db.query("SELECT COUNT(*) AS n FROM events");
    assert.equal(Number(n), 1);
  });
});

testBothEngines("exchanges that are not turns are recorded without a session", async ({ db }) => {
  await withObjects(async (objects) => {
    const ex = fakeExchange({
      api: "anthropic.auxiliary",
      request: { method: "GET", path: "/api/claude_code/settings", headers: {} },
    });
    const r = await write(db, objects, record(ex, null, new Uint8Array()));
    assert.equal(r.status, "written");
    const [row] = await db.query("SELECT * FROM exchanges");
    assert.equal(row.session_id, null);
    assert.equal(row.method, "GET");
    const [{ n }] = await db.query("SELECT COUNT(*) AS n FROM turns");
    assert.equal(Number(n), 0);
  });
});

testBothEngines(
  "concurrent turns of one session from two connections keep totals, sequence and chain right",
  async ({ db, openAnother }) => {
    await withObjects(async (objects) => {
      const other = await openAnother();
      const t0 = Date.UTC(2026, 0, 3);
      const jobs = Array.from({ length: 40 }, (_, i) => {
        const r = record(
          fakeExchange({ at: t0 + i }),
          fakeParsed({ sessionId: "busy", usage: usage({ input: i + 1, output: 1 }) }),
          messagesBody("x"),
        );
        return write(i % 2 ? db : other, objects, r);
      });
      await Promise.all(jobs);
      const [s] = await db.query("SELECT * FROM sessions");
      assert.equal(Number(s.turn_count), 40);
      assert.equal(Number(s.input_tokens), (40 * 41) / 2);
      assert.equal(Number(s.output_tokens), 40);
      assert.equal(Number(s.head_seq), 40);
      await recomputeChain(db, s.id as string);
    });
  },
);

testBothEngines(
  "a turn's thinking is stored, chained, and a turn without thinking hashes as before",
  async ({ db }) => {
    await withObjects(async (objects) => {
      const thoughtful = fakeExchange();
      await write(
        db,
        objects,
        record(
          thoughtful,
          fakeParsed({ sessionId: "t-1", thinking: "Check the tests first." }),
          messagesBody("why does it fail"),
        ),
      );
      const plain = fakeExchange();
      await write(
        db,
        objects,
        record(plain, fakeParsed({ sessionId: "t-1" }), messagesBody("why does it fail", ["and now?"])),
      );
      const rows = await db.query("SELECT * FROM turns ORDER BY seq");
      assert.equal(rows[0].thinking_text, "Check the tests first.");
      assert.equal(rows[1].thinking_text, null);
      await recomputeChain(db, String(rows[0].session_id));
      // Without thinking, the hash is the v1 hash of the same row without the column.
      const { thinking_text: _none, ...withoutColumn } = rows[1];
      assert.equal(turnHash(withoutColumn, [], []), rows[1].hash);
      // With thinking, changing it changes the hash: an edited thought is a modified row to verify.
      assert.notEqual(turnHash({ ...rows[0], thinking_text: "Skip the tests." }, [], []), rows[0].hash);
    });
  },
);

testBothEngines(
  "an Azure turn keeps its deployment apart and never takes it for the model; the chain still verifies",
  async ({ db }) => {
    await withObjects(async (objects) => {
      const at = Date.UTC(2026, 0, 2);
      const azure = (path: string, responseModel: string | null) => {
        const ex = fakeExchange({
          at,
          provider: "azure",
          api: "openai.chat_completions",
          target: {
            host: "myres.openai.azure.com",
            port: 443,
            upstreamOrigin: "https://myres.openai.azure.com",
          },
          request: { method: "POST", path, headers: { "api-key": FAKE_KEY } },
        });
        ex.outcome = "complete";
        const parsed = fakeParsed({ sessionId: "az-1", model: "gpt5-prod" });
        parsed.response = responseModel === null ? null : { ...parsed.response!, model: responseModel };
        return record(ex, parsed, messagesBody("hello azure"));
      };
      const first = azure("/openai/deployments/gpt5-prod/chat/completions?api-version=2024-10-21", "gpt-5");
      const second = azure("/openai/v1/chat/completions", null);
      assert.equal(JSON.stringify(first.exchange).includes(FAKE_KEY), false, "the api-key header was kept");
      assert.match(String(first.apiKeyHash), /^[0-9a-f]{64}$/);
      await write(db, objects, first);
      await write(db, objects, second);
      const turns = await db.query(
        "SELECT session_id, model, deployment, provider_reported_cost_usd FROM turns ORDER BY seq",
      );
      assert.deepEqual(turns.map((t) => [t.model, t.deployment, t.provider_reported_cost_usd]), [
        ["gpt-5", "gpt5-prod", null],
        // No response (the upstream failed): the body's `model` is a deployment, so no model at all.
        [null, "gpt5-prod", null],
      ]);
      await recomputeChain(db, String(turns[0].session_id));
    });
  },
);

testBothEngines("an OpenRouter turn stores the cost OpenRouter reported beside ours", async ({ db }) => {
  await withObjects(async (objects) => {
    const ex = fakeExchange({ provider: "openrouter", api: "openai.chat_completions" });
    ex.outcome = "complete";
    const parsed = fakeParsed({ sessionId: "or-1", model: "anthropic/claude-sonnet-4.5" });
    parsed.response = { ...parsed.response!, providerCostUsd: 0.0123 };
    await write(db, objects, record(ex, parsed, messagesBody("hello openrouter")));
    const [turn] = await db.query("SELECT session_id, cost_usd, provider_reported_cost_usd FROM turns");
    assert.equal(Number(turn.provider_reported_cost_usd), 0.0123);
    assert.equal(Number(turn.cost_usd), 10 * 0.001 + 5 * 0.002);
    await recomputeChain(db, String(turn.session_id));
  });
});

testBothEngines(
  "a long tool result is kept deflated, read back exactly, and hashed into the chain as its text",
  async ({ db }) => {
    await withObjects(async (objects) => {
      const t0 = Date.UTC(2026, 0, 3);
      const body = messagesBody("read the file");
      const first = fakeParsed({
        sessionId: "cc-long",
        userText: "read the file",
        usage: usage({ input: 10, output: 5 }),
        toolCalls: [{ id: "toolu_r", name: "Read", arguments: '{"file_path":"a.ts"}', server: false }],
      });
      const r1 = await write(db, objects, record(fakeExchange({ at: t0 }), first, body));
      const text = Array.from({ length: 200 }, (_, i) => `export const line${i} = "value ${i} ✓";\n`).join(
        "",
      );
      const second = fakeParsed({
        sessionId: "cc-long",
        userText: null,
        usage: usage({ input: 20, output: 5 }),
        toolResults: [{ callId: "toolu_r", content: text, isError: false }],
      });
      const r2 = await write(db, objects, record(fakeExchange({ at: t0 + MINUTE }), second, body));
      assert(r1.status === "written" && r2.status === "written");
      const [raw] = await db.query("SELECT content, content_deflated FROM tool_results WHERE turn_id = $1", [
        r2.turnId!,
      ]);
      assert.equal(raw.content, "", "the plain column is empty");
      const deflated = raw.content_deflated as Uint8Array;
      assert(
        deflated instanceof Uint8Array && deflated.length * 3 < text.length,
        `${deflated?.length} bytes`,
      );
      const turn = await getTurn(db, r2.turnId!);
      assert.equal(turn?.tool_results[0].content, text, "read back byte for byte");
      await recomputeChain(db, r1.sessionId!);
    });
  },
);
