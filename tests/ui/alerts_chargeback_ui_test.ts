/**
 * Alerts and chargeback in the UI, on SQLite, with the gateway wired as `recondo serve` wires it (the
 * `alerts` block of the config file starts the notifier): real traffic crosses a team budget's thresholds
 * and a throttle, a real webhook receiver gets each alert once, signed, and the Events page lists them
 * with their delivery status; the Budgets page links the chargeback CSV, served behind the login.
 */
import assert from "node:assert/strict";
import { ADMIN, startUiStack } from "./stack.ts";
import { loginOverHttp } from "./http_session.ts";
import { startWebhookReceiver } from "../support/webhook_receiver.ts";
import { budgetsSettled, messagesStatus, sonnetCostMicros } from "../support/e2e.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const SECRET = "ui-webhook-secret-42";
const DEVELOPERS = [
  { name: "alice", team: "alpha", token: "alice-secret-token" },
  { name: "bob", team: "beta", token: "bob-secret-token" },
];
/** The stack's fake answers every request with 1200 input and 80 output tokens. */
const COST_MICROS = sonnetCostMicros({ input: 1200, output: 80 });

function send(client: Deno.HttpClient): Promise<number> {
  return messagesStatus(client, { maxTokens: 50 });
}

Deno.test({
  name: "the Events page lists each alert with its delivery, and the Budgets page serves the chargeback CSV",
  ...SANITIZE,
  async fn() {
    const receiver = startWebhookReceiver({ secret: SECRET });
    const secretFile = await Deno.makeTempFile();
    await Deno.writeTextFile(secretFile, SECRET);
    const stack = await startUiStack({
      developers: DEVELOPERS,
      policies: [
        { use: "throttle", options: { limits: [{ scope: "developer:bob", requestsPerMinute: 1 }] } },
        // Two answers spend it: the first crosses 50%, the second 80% and 100%.
        {
          use: "spend-cap",
          options: { budgets: [{ scope: "team:alpha", usd: (2 * COST_MICROS) / 1e6, period: "month" }] },
        },
      ],
      alerts: { webhooks: [{ url: `${receiver.origin}/hook`, secretFile }], pollSeconds: 1 },
    });
    const alice = stack.proxyClient("alice", "alice-secret-token");
    const bob = stack.proxyClient("bob", "bob-secret-token");
    try {
      const aliceStatuses = [];
      for (let i = 0; i < 3; i++) {
        aliceStatuses.push(await send(alice));
        await budgetsSettled(stack.db);
      }
      assert.deepEqual(aliceStatuses, [200, 200, 400]);
      assert.deepEqual([await send(bob), await send(bob)], [200, 429]);
      await receiver.waitFor((posts) => posts.length >= 4);
      const kinds = receiver.posts.map((p) => `${p.json.kind} ${p.json.scope} ${p.json.threshold ?? "-"}`)
        .sort();
      assert.deepEqual(kinds, [
        "budget.threshold team:alpha 100",
        "budget.threshold team:alpha 50",
        "budget.threshold team:alpha 80",
        "throttle.refusing developer:bob -",
      ]);
      assert.ok(receiver.posts.every((p) => p.signatureValid));

      const session = await loginOverHttp(stack.url, ADMIN.name, ADMIN.password);
      let html = "";
      for (let i = 0; i < 100; i++) {
        html = await (await session.get("/events")).text();
        if ((html.match(/: delivered/g) ?? []).length === 4) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(html, /<caption>Alerts<\/caption>/);
      assert.match(html, /budget\.threshold/);
      assert.match(html, /team:alpha reached 80% of its month budget/);
      assert.match(html, /throttle\.refusing/);
      assert.match(html, /developer:bob is being refused at 1 requests per minute/);
      assert.equal((html.match(/127\.0\.0\.1:\d+: delivered/g) ?? []).length, 4);

      const month = new Date().toISOString().slice(0, 7);
      const budgets = await (await session.get("/budgets")).text();
      const link = `/budgets/report.csv?by=team&amp;period=${month}`;
      assert.ok(budgets.includes(`href="${link}"`), "the Budgets page links the team CSV");
      const csv = await session.get(link.replace("&amp;", "&"));
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get("content-type")!, /^text\/csv/);
      assert.match(
        csv.headers.get("content-disposition")!,
        new RegExp(`recondo-chargeback-team-${month}\\.csv`),
      );
      const lines = (await csv.text()).split("\r\n");
      assert.equal(lines[0].split(",")[0], "team");
      const alpha = lines.find((l) => l.startsWith("alpha,priced,"))!.split(",");
      assert.equal(alpha[2], "2", "two answered turns for team alpha");
      assert.equal(Number(alpha[8]).toFixed(6), ((2 * COST_MICROS) / 1e6).toFixed(6));

      const anonymous = await fetch(`${stack.url}${link.replace("&amp;", "&")}`, { redirect: "manual" });
      await anonymous.body?.cancel();
      assert.equal(anonymous.status, 303, "the download is behind the login");
      const bad = await session.get("/budgets/report.csv?by=project");
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /by must be one of team, developer, repo, model/);
    } finally {
      alice.close();
      bob.close();
      await stack.close();
      await receiver.close();
      await Deno.remove(secretFile);
    }
  },
});
