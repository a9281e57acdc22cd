/**
 * `recondo serve` as a user runs it, with the real wiring: provider parsers and capture on SQLite and a
 * local object folder. An exchange through it ends up persisted and counted on /metrics.
 */
import assert from "node:assert/strict";
import { startGatewayProcess } from "./agents/gateway_process.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { postMessages, processClient, storedRows, writeTempConfig } from "./support/e2e.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "serve captures an exchange into SQLite and the object folder, with tokens and cost",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider({ behavior: { usage: { input: 1000, output: 50 } } });
    const gateway = await startGatewayProcess({ overrides: { "api.anthropic.com": fake.url } });
    try {
      const client = await processClient(gateway);
      const res = await postMessages(client, {
        maxTokens: 64,
        stream: true,
        content: "hello there",
        headers: { "x-api-key": "sk-ant-api03-never-stored" },
      });
      assert.match(await res.text(), /RECONDO-FAKE-OK/);
      client.close();
      const metricsUrl = `http://127.0.0.1:${gateway.port}/metrics`;
      const deadline = Date.now() + 10_000;
      let metrics = "";
      while (Date.now() < deadline) {
        metrics = await (await fetch(metricsUrl)).text();
        if (/recondo_capture_written [1-9]/.test(metrics)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(metrics, /recondo_capture_written [1-9]/);
      const { turns, exchanges } = storedRows(gateway.dataDir, ["turns", "exchanges"]);
      assert.equal(turns.length, 1);
      const turn = turns[0];
      assert.equal(turn.model, "claude-sonnet-4-5");
      assert.equal(turn.input_tokens, 1000);
      assert.equal(turn.output_tokens, 50);
      assert.ok(typeof turn.cost_usd === "number" && turn.cost_usd > 0, `cost_usd ${turn.cost_usd}`);
      const everything = JSON.stringify(exchanges);
      assert.ok(!everything.includes("never-stored"), "an API key was stored in clear");
    } finally {
      await gateway.stop().catch(() => {});
      await fake.close();
    }
  },
});

Deno.test({
  name: "serve wires the spend ledger: a global cap smaller than one request blocks it with the budget named",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider();
    await using config = await writeTempConfig({
      policies: [{
        use: "spend-cap",
        options: { budgets: [{ scope: "global", usd: 0.000001, period: "day" }] },
      }],
    });
    const gateway = await startGatewayProcess({
      overrides: { "api.anthropic.com": fake.url },
      configFile: config.path,
    });
    try {
      const client = await processClient(gateway);
      const res = await postMessages(client, { maxTokens: 1000, headers: {} });
      const body = await res.json();
      client.close();
      assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
      assert.equal(body.type, "error");
      assert.match(body.error.message, /global/);
      assert.equal(fake.requests.filter((r) => r.path.startsWith("/v1/messages")).length, 0);
    } finally {
      await gateway.stop();
      await fake.close();
    }
  },
});
