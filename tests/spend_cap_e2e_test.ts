/**
 * `spend-cap` through real gateways: two replicas, each with its own PostgreSQL pool on one database,
 * take 100 concurrent requests against a team budget that admits 10, and the budget holds exactly; the
 * refusal reaches the client in Anthropic's error format; threshold events are raised once across both.
 */
import assert from "node:assert/strict";
import { providerParsers } from "../cli/wiring.ts";
import { estimateRequestCostCeiling } from "../providers/mod.ts";
import { migrate } from "../storage/db/migrate.ts";
import { openPostgres } from "../storage/db/postgres.ts";
import { openSqlite } from "../storage/db/sqlite.ts";
import type { Db } from "../storage/db/db.ts";
import { createPolicyServices } from "../storage/ledger/mod.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { MemorySink } from "./support/memory_sink.ts";
import { budgetsSettled, replicaDatabases, writeTempConfig } from "./support/e2e.ts";
import { sharedPostgres } from "./support/postgres.ts";
import { startReplica, writeFleetKey } from "./support/serve_replica.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const BODY = JSON.stringify({
  model: "claude-sonnet-4-5",
  max_tokens: 2000,
  stream: true,
  messages: [{ role: "user", content: "Summarise the design document in three lines." }],
});
const INPUT_TOKENS = Math.ceil(BODY.length / 4);
/** The reservation for BODY: input estimated from its size, output its max_tokens. */
const CEILING_USD = estimateRequestCostCeiling({
  provider: "anthropic",
  model: "claude-sonnet-4-5",
  requestBytes: BODY.length,
  maxOutputTokens: 2000,
  at: new Date(),
}).usd!;

function developers() {
  return [{ name: "alice", team: "alpha", token: "alice-secret-token" }];
}

async function replica(db: Db, upstream: string, usd: number, sink: MemorySink): Promise<TestGateway> {
  return await startTestGateway({
    config: {
      developers: developers(),
      policies: [{
        use: "spend-cap",
        options: { budgets: [{ scope: "team:alpha", usd, period: "day" }] },
        timeoutMs: 20_000,
      }],
    },
    overrides: { "api.anthropic.com": upstream },
    parsers: providerParsers,
    services: createPolicyServices(db),
    sink,
    proxyAuth: "alice:alice-secret-token",
  });
}

function send(client: Deno.HttpClient) {
  return fetch("https://api.anthropic.com/v1/messages", {
    method: "POST",
    client,
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: BODY,
  });
}

Deno.test({
  name:
    "two gateway replicas on one PostgreSQL let exactly 10 of 100 concurrent requests spend a budget for 10",
  ...SANITIZE,
  async fn() {
    const dbs = await replicaDatabases(4);
    // The fake charges exactly the reserved ceiling, so spent budget cannot be reused by later requests.
    const fake = await startFakeProvider({
      behavior: {
        answer: ["one ", "two ", "three"],
        eventDelayMs: 150,
        usage: { input: INPUT_TOKENS, output: 2000 },
      },
    });
    const sinks = [new MemorySink(), new MemorySink()];
    const cap = CEILING_USD * 10.5;
    const gwA = await replica(dbs.dbA, fake.url, cap, sinks[0]);
    const gwB = await replica(dbs.dbB, fake.url, cap, sinks[1]);
    try {
      const responses = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const res = await send((i % 2 ? gwA : gwB).client);
          return { status: res.status, body: await res.text() };
        }),
      );
      const passed = responses.filter((r) => r.status === 200);
      const refused = responses.filter((r) => r.status === 400);
      assert.equal(passed.length, 10);
      assert.equal(refused.length, 90);
      assert.equal(fake.requests.length, 10);
      assert.ok(passed.every((r) => r.body.includes("message_stop")));
      const error = JSON.parse(refused[0].body);
      assert.equal(error.type, "error");
      assert.equal(error.error.type, "invalid_request_error");
      assert.match(
        error.error.message,
        /Recondo spend cap: the day budget of \$\d+\.\d+ for team:alpha is used up/,
      );
      assert.match(error.error.message, /It resets at \d{4}-\d\d-\d\d 00:00 UTC\./);

      const { spent } = await budgetsSettled(dbs.dbA);
      assert.ok(spent <= cap * 1e6, `spent ${spent} micro-USD is over the cap ${cap * 1e6}`);
      assert.ok(Math.abs(spent - 10 * CEILING_USD * 1e6) <= 10, `spent ${spent}, expected 10 ceilings`);

      // The 50% and 80% thresholds were crossed once each, by whichever replica settled that request.
      await Promise.all(sinks.map((s) => s.waitFor(50, 10_000)));
      const thresholds = sinks.flatMap((s) => s.done).flatMap((c) => c.exchange.decisions)
        .filter((d) => d.detail?.event === "budget_threshold").map((d) => d.detail?.threshold);
      assert.deepEqual(thresholds.sort(), [50, 80]);
      const refusal = sinks.flatMap((s) => s.done).flatMap((c) => c.exchange.decisions)
        .find((d) => d.kind === "block");
      assert.equal(refusal?.detail?.scope, "team:alpha");
    } finally {
      await gwA.close();
      await gwB.close();
      await fake.close();
      await dbs.close();
    }
  },
});

Deno.test({
  name: "on SQLite a spent budget is released when the upstream fails and charged when it answers",
  ...SANITIZE,
  async fn() {
    const dir = await Deno.makeTempDir();
    const db = openSqlite(`${dir}/recondo.db`);
    await migrate(db);
    const fake = await startFakeProvider({ behavior: { failStatus: 529 } });
    const gw = await replica(db, fake.url, 100, new MemorySink());
    try {
      const failed = await send(gw.client);
      assert.equal(failed.status, 529);
      await failed.body?.cancel();
      assert.deepEqual(await budgetsSettled(db), { spent: 0, reserved: 0 });
      fake.setBehavior({ usage: { input: 1000, output: 1000 } });
      const ok = await send(gw.client);
      assert.equal(ok.status, 200);
      await ok.text();
      // Sonnet 4.5: 1000 × $3/M + 1000 × $15/M = $0.018.
      assert.deepEqual(await budgetsSettled(db), { spent: 18_000, reserved: 0 });
    } finally {
      await gw.close();
      await fake.close();
      await db.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "two `recondo serve` processes on one PostgreSQL never let a budget overshoot",
  ...SANITIZE,
  async fn() {
    const pg = await sharedPostgres();
    const url = await pg.createDatabase();
    const db = openPostgres(url, { max: 2 });
    await migrate(db);
    const fake = await startFakeProvider({
      behavior: { answer: ["a", "b"], eventDelayMs: 100, usage: { input: INPUT_TOKENS, output: 2000 } },
    });
    await using config = await writeTempConfig({
      developers: developers(),
      policies: [{
        use: "spend-cap",
        options: { budgets: [{ scope: "team:alpha", usd: CEILING_USD * 6.5, period: "day" }] },
        timeoutMs: 20_000,
      }],
    });
    // Replicas share the fleet's HMAC key (proxy tokens are stored as keyed hashes in the database).
    const common = {
      configFile: config.path,
      dbUrl: url,
      hmacKeyFile: await writeFleetKey(`${config.dir}/hmac.key`),
      overrides: { "api.anthropic.com": fake.url },
      env: { RECONDO_LOG: "error" },
    };
    const replicas = await Promise.all([startReplica(common), startReplica(common)]);
    const clients = replicas.map((r) => r.client("alice:alice-secret-token"));
    try {
      const statuses = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
        const res = await send(clients[i % 2]);
        await res.text();
        return res.status;
      }));
      assert.equal(statuses.filter((s) => s === 200).length, 6);
      assert.equal(statuses.filter((s) => s === 400).length, 34);
      assert.equal(fake.requests.length, 6);
      const { spent } = await budgetsSettled(db);
      assert.ok(spent <= CEILING_USD * 6.5 * 1e6, `spent ${spent} micro-USD is over the cap`);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
      await fake.close();
      await db.close();
    }
  },
});
