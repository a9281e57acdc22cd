/**
 * `throttle` through real gateways: two replicas sharing one PostgreSQL share one bucket, and refusals
 * are 429 with `retry-after` in each provider's rate-limit error format.
 */
import assert from "node:assert/strict";
import { providerParsers } from "../cli/wiring.ts";
import type { Db } from "../storage/db/db.ts";
import { createPolicyServices } from "../storage/ledger/mod.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";
import { replicaDatabases } from "./support/e2e.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const HOSTS = ["api.anthropic.com", "api.openai.com", "generativelanguage.googleapis.com"];

async function replica(db: Db, upstream: string): Promise<TestGateway> {
  return await startTestGateway({
    config: {
      developers: [{ name: "alice", team: "alpha", token: "alice-secret-token" }],
      policies: [{
        use: "throttle",
        options: { limits: [{ scope: "developer:alice", requestsPerMinute: 6, tokensPerMinute: 200000 }] },
      }],
    },
    overrides: Object.fromEntries(HOSTS.map((h) => [h, upstream])),
    parsers: providerParsers,
    services: createPolicyServices(db),
    proxyAuth: "alice:alice-secret-token",
  });
}

const REQUESTS: [string, string][] = [
  [
    "https://api.anthropic.com/v1/messages",
    JSON.stringify({
      model: "claude-sonnet-4-5",
      max_tokens: 50,
      messages: [{ role: "user", content: "hi" }],
    }),
  ],
  ["https://api.openai.com/v1/responses", JSON.stringify({ model: "gpt-5", input: "hi" })],
  [
    "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent",
    JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
  ],
];

Deno.test({
  name: "two replicas share one request bucket and answer 429 with retry-after in each provider's format",
  ...SANITIZE,
  async fn() {
    const dbs = await replicaDatabases(2);
    const fake = await startFakeProvider();
    const gwA = await replica(dbs.dbA, fake.url);
    const gwB = await replica(dbs.dbB, fake.url);
    try {
      const statuses = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
        const [target, body] = REQUESTS[0];
        const res = await fetch(target, {
          method: "POST",
          client: (i % 2 ? gwA : gwB).client,
          headers: { "content-type": "application/json" },
          body,
        });
        await res.body?.cancel();
        return res.status;
      }));
      assert.equal(statuses.filter((s) => s === 200).length, 6);
      assert.equal(statuses.filter((s) => s === 429).length, 14);

      const [anthropic, openai, google] = await Promise.all(REQUESTS.map(async ([target, body]) => {
        const res = await fetch(target, {
          method: "POST",
          client: gwA.client,
          headers: { "content-type": "application/json" },
          body,
        });
        return {
          status: res.status,
          retryAfter: Number(res.headers.get("retry-after")),
          json: await res.json(),
        };
      }));
      for (const r of [anthropic, openai, google]) {
        assert.equal(r.status, 429);
        assert.ok(r.retryAfter >= 1 && r.retryAfter <= 10, `retry-after ${r.retryAfter}`);
      }
      assert.equal(anthropic.json.error.type, "rate_limit_error");
      assert.match(anthropic.json.error.message, /developer:alice is limited to 6 requests per minute/);
      assert.equal(openai.json.error.type, "rate_limit_exceeded");
      assert.equal(google.json.error.status, "RESOURCE_EXHAUSTED");
      assert.equal(fake.requests.length, 6);
    } finally {
      await gwA.close();
      await gwB.close();
      await fake.close();
      await dbs.close();
    }
  },
});
