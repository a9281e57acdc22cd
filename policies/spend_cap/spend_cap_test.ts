import assert from "node:assert/strict";
import { openSqlite } from "../../storage/db/sqlite.ts";
import { migrate } from "../../storage/db/migrate.ts";
import { createSqlSpendLedger } from "../../storage/ledger/sql_spend_ledger.ts";
import { estimateRequestCostCeiling, type ParsedResponse } from "../../providers/mod.ts";
import { buildChain } from "../build_chain.ts";
import { makeExchange, makeHookContext } from "../testing.ts";
import type { Policy } from "../types.ts";
import type { SpendLedger } from "./ledger.ts";
import { spendCap } from "./spend_cap.ts";
import type { SpendCapOptions } from "./options.ts";

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const BODY = { model: "claude-sonnet-4-5", max_tokens: 1000, messages: [{ role: "user", content: "hi" }] };
const CEILING = estimateRequestCostCeiling({
  provider: "anthropic",
  model: BODY.model,
  requestBytes: JSON.stringify(BODY).length,
  maxOutputTokens: 1000,
  at: new Date(NOW),
}).usd!;

async function withLedger(fn: (ledger: SpendLedger) => Promise<void>) {
  const db = openSqlite(":memory:");
  await migrate(db);
  try {
    await fn(createSqlSpendLedger(db));
  } finally {
    await db.close();
  }
}

function policyWith(
  ledger: SpendLedger,
  options: Partial<SpendCapOptions> & Pick<SpendCapOptions, "budgets">,
) {
  return spendCap.create(spendCap.options.parse(options), { spendLedger: ledger });
}

function turn(team = "alpha") {
  return makeExchange({ api: "anthropic.messages", json: BODY, team, developer: "alice", now: NOW });
}

function answered(usage: { input: number; output: number }): ParsedResponse {
  return {
    id: "msg_1",
    model: BODY.model,
    text: "ok",
    thinking: "",
    toolCalls: [],
    stopReason: "end_turn",
    usage: { cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0, reasoning: 0, estimated: false, ...usage },
    errors: [],
    partial: false,
  };
}

async function request(policy: Policy, exchange = turn()) {
  const verdict = await policy.onRequest!(exchange.exchange, exchange.request, makeHookContext(() => NOW));
  return { ...exchange, verdict };
}

Deno.test("spend cap admits requests while their ceilings fit and then blocks naming budget, spend and reset", () =>
  withLedger(async (ledger) => {
    const policy = policyWith(ledger, {
      budgets: [{ scope: "team:alpha", usd: CEILING * 3.5, period: "day" }],
      timeZone: "Europe/Paris",
    });
    for (let i = 0; i < 3; i++) assert.equal((await request(policy)).verdict.kind, "allow");
    const { verdict } = await request(policy);
    assert.equal(verdict.kind, "block");
    if (verdict.kind !== "block") return;
    assert.equal(verdict.status, 400);
    assert.match(verdict.reason, /the day budget of \$0\.\d+ for team:alpha is used up/);
    assert.match(verdict.reason, /\$0\.00 spent, \$0\.\d+ held by requests in flight/);
    assert.match(verdict.reason, /resets at 2026-11-29 00:00 Europe\/Paris/);
    assert.equal(verdict.detail?.resetsAt, "2026-11-28T23:00:00.000Z");
    // Another team has no budget here and is not affected.
    assert.equal((await request(policy, turn("beta"))).verdict.kind, "allow");
  }));

Deno.test("spend cap settles to the priced usage and records 50/80/100% thresholds once each", () =>
  withLedger(async (ledger) => {
    // Sonnet 4.5: $3/M input, $15/M output; 10,000 output tokens cost $0.15 of a $0.30 budget.
    const policy = policyWith(ledger, { budgets: [{ scope: "global", usd: 0.3, period: "month" }] });
    const first = await request(policy);
    await policy.onEnd!(first.exchange, answered({ input: 0, output: 10_000 }), makeHookContext(() => NOW));
    const events = (ex: typeof first.exchange) => ex.decisions.map((d) => d.detail?.threshold);
    assert.deepEqual(events(first.exchange), [50]);
    assert.match(
      first.exchange.decisions[0].reason,
      /Budget global \(month\) reached 50%: \$0\.15 of \$0\.30/,
    );
    const second = await request(policy);
    await policy.onEnd!(second.exchange, answered({ input: 0, output: 10_000 }), makeHookContext(() => NOW));
    assert.deepEqual(events(second.exchange), [80, 100]);
    const [state] = await ledger.read(["global|month|2026-11-01"]);
    assert.deepEqual(state, { key: "global|month|2026-11-01", spentMicros: 300_000, reservedMicros: 0 });
  }));

Deno.test("spend cap releases the reservation when the exchange was blocked later or failed", () =>
  withLedger(async (ledger) => {
    const policy = policyWith(ledger, { budgets: [{ scope: "developer:*", usd: 10, period: "week" }] });
    const blocked = await request(policy);
    blocked.exchange.outcome = "blocked";
    const failed = await request(policy);
    failed.exchange.outcome = "upstream-error";
    failed.exchange.response = { status: 529, headers: {} };
    for (const ex of [blocked, failed]) await policy.onEnd!(ex.exchange, null, makeHookContext(() => NOW));
    const [state] = await ledger.read(["developer:alice|week|2026-11-23"]);
    assert.deepEqual(state, { key: "developer:alice|week|2026-11-23", spentMicros: 0, reservedMicros: 0 });
  }));

Deno.test("100 concurrent requests through a chain against a cap that admits 10 let exactly 10 through", () =>
  withLedger(async (ledger) => {
    const chain = await buildChain([{
      use: "spend-cap",
      options: { budgets: [{ scope: "team:alpha", usd: CEILING * 10.5, period: "day" }] },
      mode: "enforce",
      failMode: "closed",
      enabled: true,
      timeoutMs: 5000,
    }], { baseDir: ".", services: { spendLedger: ledger }, now: () => NOW });
    const outcomes = await Promise.all(Array.from({ length: 100 }, () => {
      const { exchange, request } = turn();
      return chain.runRequest(exchange, request, () => request);
    }));
    assert.equal(outcomes.filter((o) => o.kind === "forward").length, 10);
  }));

Deno.test("spend cap refuses to load without a ledger and rejects a budget with a bad scope or period", async () => {
  assert.throws(
    () =>
      spendCap.create(spendCap.options.parse({ budgets: [{ scope: "global", usd: 1, period: "day" }] }), {}),
    /Cannot load policy "spend-cap": no spend ledger/,
  );
  const entry = (options: unknown) => ({
    use: "spend-cap",
    options,
    mode: "enforce" as const,
    failMode: "closed" as const,
    enabled: true,
    timeoutMs: 1000,
  });
  await assert.rejects(
    buildChain([entry({ budgets: [{ scope: "squad:x", usd: 1, period: "day" }] })], { baseDir: "." }),
    /options\.budgets\.0\.scope must be "global", "developer:<name>"/,
  );
  await assert.rejects(
    buildChain([entry({ budgets: [{ scope: "global", usd: 1, period: "year" }] })], { baseDir: "." }),
    /options\.budgets\.0\.period/,
  );
  await assert.rejects(
    buildChain([entry({ budgets: [{ scope: "global", usd: 1, period: "day" }], timeZone: "Mars/Olympus" })], {
      baseDir: ".",
    }),
    /options\.timeZone is not a time zone/,
  );
});

Deno.test("spend cap reserves each WebSocket turn, settles it when the turn ends and releases leftovers at close", () =>
  withLedger(async (ledger) => {
    const policy = policyWith(ledger, { budgets: [{ scope: "global", usd: 1, period: "day" }] });
    const ctx = makeHookContext(() => NOW);
    const { exchange: connection } = makeExchange({
      host: "api.openai.com",
      path: "/v1/responses",
      now: NOW,
    });
    connection.kind = "websocket";
    connection.api = "openai.responses_ws";
    const create = (n: number) => {
      const json = { type: "response.create", model: "gpt-5", input: `turn ${n}`, max_output_tokens: 1000 };
      const body = new TextEncoder().encode(JSON.stringify(json));
      return { method: "WS", path: "/v1/responses", headers: {}, body, json };
    };
    assert.equal((await policy.onClientMessage!(connection, create(1), ctx)).kind, "allow");
    assert.equal((await policy.onClientMessage!(connection, create(2), ctx)).kind, "allow");
    const key = "global|day|2026-11-28";
    const held = (await ledger.read([key]))[0].reservedMicros;
    assert.ok(held > 0);
    // The first turn ends: its own per-turn exchange, same connection.
    const turn = { ...connection, id: "turn-1", decisions: [] };
    await policy.onEnd!(turn, { ...answered({ input: 1000, output: 100 }), model: "gpt-5" }, ctx);
    const [afterTurn] = await ledger.read([key]);
    assert.equal(afterTurn.reservedMicros, held / 2);
    assert.ok(afterTurn.spentMicros > 0);
    // The socket closes with the second turn unfinished: its reservation is released, not charged.
    await policy.onEnd!(connection, null, ctx);
    const [closed] = await ledger.read([key]);
    assert.deepEqual([closed.reservedMicros, closed.spentMicros], [0, afterTurn.spentMicros]);
  }));

Deno.test("spend cap charges Gemini streaming turns and not token counts", () =>
  withLedger(async (ledger) => {
    const policy = policyWith(ledger, { budgets: [{ scope: "global", usd: 0.001, period: "day" }] });
    const ctx = makeHookContext(() => NOW);
    const gemini = makeExchange({
      host: "generativelanguage.googleapis.com",
      path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
      api: "google.stream_generate",
      json: { contents: [{ role: "user", parts: [{ text: "hi" }] }] },
    });
    const verdict = await policy.onRequest!(gemini.exchange, gemini.request, ctx);
    assert.equal(verdict.kind, "block");
    const count = makeExchange({
      api: "anthropic.count_tokens",
      path: "/v1/messages/count_tokens",
      json: BODY,
    });
    assert.equal((await policy.onRequest!(count.exchange, count.request, ctx)).kind, "allow");
  }));
