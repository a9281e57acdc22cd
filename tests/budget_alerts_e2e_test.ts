/**
 * Budget alerts through real gateways: two replicas on one PostgreSQL, real traffic from the fake provider
 * crossing a team budget's 50/80/100% thresholds and a developer's throttle, and a real webhook receiver
 * on loopback checking every signature. Each alert reaches each webhook exactly once (the database decides
 * which replica raises and sends it), and a webhook that fails its first attempts gets retries.
 */
import assert from "node:assert/strict";
import { providerParsers } from "../cli/wiring.ts";
import { type AlertNotifier, startAlertNotifier } from "../alerts/mod.ts";
import { alertsSchema } from "../config/alerts.ts";
import type { Db } from "../storage/db/db.ts";
import { createPolicyServices } from "../storage/ledger/mod.ts";
import { listAlerts } from "../storage/alerts/alert_store.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { budgetsSettled, messagesStatus, replicaDatabases, sonnetCostMicros } from "./support/e2e.ts";
import { type ReceivedPost, startWebhookReceiver } from "./support/webhook_receiver.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const SECRET = "whsec-test-0123456789";
const USAGE = { input: 1000, output: 2000 };
/** What one answer costs in micro-USD, priced as the spend cap prices it. */
const COST_MICROS = sonnetCostMicros(USAGE);
/** Five answers spend the budget: the 3rd crosses 50%, the 4th 80%, the 5th 100%; a 6th is refused. */
const CAP_USD = (5 * COST_MICROS) / 1e6;
const DEVELOPERS = [
  { name: "alice", team: "alpha", token: "alice-secret-token" },
  { name: "bob", team: "beta", token: "bob-secret-token" },
];

async function replica(db: Db, upstream: string, notifier: AlertNotifier): Promise<TestGateway> {
  return await startTestGateway({
    config: {
      developers: DEVELOPERS,
      policies: [
        { use: "throttle", options: { limits: [{ scope: "developer:bob", requestsPerMinute: 2 }] } },
        { use: "spend-cap", options: { budgets: [{ scope: "team:alpha", usd: CAP_USD, period: "day" }] } },
      ],
    },
    overrides: { "api.anthropic.com": upstream },
    parsers: providerParsers,
    services: { ...createPolicyServices(db), alerts: notifier.sink },
  });
}

function clientFor(gw: TestGateway, name: string): Deno.HttpClient {
  const token = DEVELOPERS.find((d) => d.name === name)!.token;
  return Deno.createHttpClient({
    caCerts: [gw.caPem],
    proxy: { url: gw.proxyUrl, basicAuth: { username: name, password: token } },
  });
}

function send(client: Deno.HttpClient): Promise<number> {
  return messagesStatus(client, { maxTokens: 100 });
}

function summary(posts: ReceivedPost[]): string[] {
  return posts.map((p) => `${p.json.kind} ${p.json.scope} ${p.json.threshold ?? "-"}`).sort();
}

Deno.test({
  name:
    "two replicas on PostgreSQL post each threshold and throttle alert once per webhook, signed, with retries",
  ...SANITIZE,
  async fn() {
    const dbs = await replicaDatabases(4);
    const { dbA, dbB } = dbs;
    const receiver = startWebhookReceiver({ secret: SECRET, failFirst: { "/flaky": 2 } });
    const secretFile = await Deno.makeTempFile();
    await Deno.writeTextFile(secretFile, `${SECRET}\n`);
    const alerts = alertsSchema.parse({
      webhooks: [
        { url: `${receiver.origin}/ok`, secretFile },
        { url: `${receiver.origin}/flaky`, secretFile },
      ],
      thresholds: [50, 80, 100],
      retryBaseMs: 200,
      pollSeconds: 1,
    });
    const notA = await startAlertNotifier(dbA, alerts, { gatewayId: "gw-a" });
    const notB = await startAlertNotifier(dbB, alerts, { gatewayId: "gw-b" });
    const fake = await startFakeProvider({ behavior: { usage: USAGE } });
    const gwA = await replica(dbA, fake.url, notA);
    const gwB = await replica(dbB, fake.url, notB);
    const clients = [gwA, gwB].map((gw) => ({ alice: clientFor(gw, "alice"), bob: clientFor(gw, "bob") }));
    try {
      const alice: number[] = [];
      for (let i = 0; i < 6; i++) {
        alice.push(await send(clients[i % 2].alice));
        await budgetsSettled(dbA);
      }
      assert.deepEqual(alice, [200, 200, 200, 200, 200, 400]);
      const bob = await Promise.all([0, 1, 2, 3].map((i) => send(clients[i % 2].bob)));
      assert.equal(bob.filter((s) => s === 200).length, 2);
      assert.equal(bob.filter((s) => s === 429).length, 2);

      const expected = [
        "budget.threshold team:alpha 100",
        "budget.threshold team:alpha 50",
        "budget.threshold team:alpha 80",
        "throttle.refusing developer:bob -",
      ];
      await receiver.waitFor(() =>
        receiver.accepted("/ok").length >= 4 && receiver.accepted("/flaky").length >= 4
      );
      await notA.idle();
      await notB.idle();
      // Nothing is pending any more, so no replica can send again: these counts are final.
      const rows = await listAlerts(dbA);
      assert.equal(rows.length, 4);
      for (const row of rows) {
        assert.deepEqual(row.deliveries.map((d) => d.status), ["delivered", "delivered"], row.message);
      }
      const ok = receiver.posts.filter((p) => p.path === "/ok");
      assert.deepEqual(summary(ok), expected, "exactly one POST per alert to a healthy webhook");
      assert.equal(new Set(ok.map((p) => p.alertId)).size, 4);
      assert.ok(receiver.posts.every((p) => p.signatureValid), "every body's signature verifies");

      const flaky = receiver.posts.filter((p) => p.path === "/flaky");
      assert.equal(flaky.length, 6, "two failed attempts, then one delivery per alert");
      assert.deepEqual(summary(receiver.accepted("/flaky")), expected);
      // Whichever alerts met the two failures were retried until delivered, posting the same body each time.
      const failed = new Set(flaky.filter((p) => p.status === 500).map((p) => p.alertId));
      assert.ok(failed.size >= 1);
      for (const id of failed) {
        const attempts = flaky.filter((p) => p.alertId === id);
        const last = attempts[attempts.length - 1];
        assert.deepEqual(attempts.map((p) => p.attempt), attempts.map((_, i) => i + 1));
        assert.ok(attempts.slice(0, -1).every((p) => p.status === 500) && last.status === 200);
        assert.equal(new Set(attempts.map((p) => p.body)).size, 1, "every attempt posts the same body");
        const row = rows.find((r) => r.id === id)!;
        assert.ok(row.deliveries.some((d) => d.attempts === attempts.length && d.status === "delivered"));
      }

      const eighty = ok.find((p) => p.json.threshold === 80)!.json;
      assert.equal(eighty.kind, "budget.threshold");
      assert.equal(eighty.cap, `team:alpha|day|${new Date().toISOString().slice(0, 10)}`);
      assert.equal(eighty.scopeKind, "team");
      assert.equal(eighty.period, "day");
      assert.equal(eighty.spentUsd, (4 * COST_MICROS) / 1e6);
      assert.equal(eighty.limitUsd, CAP_USD);
      assert.equal(eighty.percent, 80);
      assert.ok(["gw-a", "gw-b"].includes(String(eighty.gatewayId)));
      assert.equal(
        eighty.periodEnd,
        new Date(Date.parse(String(eighty.periodStart)) + 86_400_000).toISOString(),
      );
      assert.match(String(eighty.text), /team:alpha reached 80% of its day budget/);
      const throttle = ok.find((p) => p.json.kind === "throttle.refusing")!.json;
      assert.equal(throttle.cap, "developer:bob|rpm:2");
      assert.match(String(throttle.text), /developer:bob is being refused at 2 requests per minute/);
    } finally {
      for (const c of clients) Object.values(c).forEach((client) => client.close());
      await gwA.close();
      await gwB.close();
      await notA.close();
      await notB.close();
      await fake.close();
      await receiver.close();
      await dbs.close();
      await Deno.remove(secretFile);
    }
  },
});

Deno.test({
  name: "when both replicas see the same crossing, the database lets one raise it and one POST goes out",
  ...SANITIZE,
  async fn() {
    const dbs = await replicaDatabases(2);
    const { dbA, dbB } = dbs;
    const receiver = startWebhookReceiver({ secret: SECRET });
    const alerts = alertsSchema.parse({ webhooks: [{ url: `${receiver.origin}/ok` }], pollSeconds: 1 });
    const notA = await startAlertNotifier(dbA, alerts, { gatewayId: "gw-a" });
    const notB = await startAlertNotifier(dbB, alerts, { gatewayId: "gw-b" });
    try {
      const start = Date.UTC(2026, 10, 1);
      const window = {
        key: "global|month|2026-11-01",
        scope: "global",
        period: "month" as const,
        start,
        end: Date.UTC(2026, 11, 1),
        capMicros: 100_000_000,
      };
      const spent = { beforeMicros: 40_000_000, afterMicros: 55_000_000 };
      notA.sink.budgetSettled(window, spent, start + 1000);
      notB.sink.budgetSettled(window, spent, start + 1000);
      await receiver.waitFor((posts) => posts.length >= 1);
      await notA.idle();
      await notB.idle();
      const rows = await listAlerts(dbB);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].deliveries[0].status, "delivered");
      assert.equal(receiver.posts.length, 1);
      assert.equal(receiver.posts[0].json.threshold, 50);
      assert.equal(receiver.posts[0].signatureValid, false, "no secretFile: the post is unsigned");
    } finally {
      await notA.close();
      await notB.close();
      await receiver.close();
      await dbs.close();
    }
  },
});
