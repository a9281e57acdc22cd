/**
 * Azure OpenAI requests name a deployment, not a model. Through the real gateway over TLS, with the fake
 * provider answering as the model behind every deployment: a block-list entry and a spend cap on that model
 * apply to a deployment the config maps from its first request, and to an unmapped one from the request
 * after its first answer named the model (`providers/model_aliases.ts`), on both Azure path styles.
 */
import assert from "node:assert/strict";
import { providerParsers } from "../cli/wiring.ts";
import { migrate } from "../storage/db/migrate.ts";
import { openSqlite } from "../storage/db/sqlite.ts";
import { createPolicyServices } from "../storage/ledger/mod.ts";
import { AZURE_MODEL } from "./fake_provider/compat_routes.ts";
import { startFakeProvider } from "./fake_provider/mod.ts";
import { startTestGateway, type TestGateway } from "./support/gateway.ts";

const SANITIZE = { sanitizeResources: false, sanitizeOps: false };
const AZURE = "myres.openai.azure.com";

/** One Azure request through the gateway: its status and its parsed body (the error, when refused). */
async function send(
  gw: TestGateway,
  path: string,
  body: Record<string, unknown>,
): Promise<{ status: number; body: { error?: { message: string; code: string } } }> {
  const res = await fetch(`https://${AZURE}${path}`, {
    method: "POST",
    client: gw.client,
    headers: { "content-type": "application/json", "api-key": "azure-key" },
    body: JSON.stringify({ max_tokens: 200, ...body }),
  });
  return { status: res.status, body: await res.json() };
}

const chat = (deployment: string) =>
  `/openai/deployments/${deployment}/chat/completions?api-version=2024-10-21`;
const MESSAGES = { messages: [{ role: "user", content: "hi" }] };

Deno.test({
  name: "a block-list entry on a model refuses the Azure deployments serving it, mapped or learned",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider();
    await using gw = await startTestGateway({
      config: {
        intercept: [AZURE],
        azure: { deployments: { "mapped-chat": AZURE_MODEL } },
        policies: [{ use: "block-list", options: { models: ["gpt-5*"] } }],
      },
      overrides: { [AZURE]: fake.url },
      parsers: providerParsers,
    });
    try {
      const mapped = await send(gw, chat("mapped-chat"), MESSAGES);
      assert.equal(mapped.status, 400, JSON.stringify(mapped.body));
      assert.equal(mapped.body.error?.code, "blocked");
      assert.match(mapped.body.error!.message, new RegExp(`model ${AZURE_MODEL}`));

      // Unmapped: the first answer names the model; from then on the deployment is that model.
      assert.equal((await send(gw, chat("learned-chat"), MESSAGES)).status, 200);
      const learned = await send(gw, chat("learned-chat"), MESSAGES);
      assert.equal(learned.status, 400, JSON.stringify(learned.body));
      assert.match(learned.body.error!.message, new RegExp(`model ${AZURE_MODEL}`));

      // The /openai/v1 paths name the deployment in the body's `model`.
      const v1 = "/openai/v1/responses?api-version=preview";
      assert.equal((await send(gw, v1, { model: "learned-v1", input: "hi" })).status, 200);
      assert.equal((await send(gw, v1, { model: "learned-v1", input: "hi" })).status, 400);
      assert.equal(
        (await send(gw, chat("other-chat"), MESSAGES)).status,
        200,
        "a deployment never seen stays allowed until its answer names the model",
      );
    } finally {
      await fake.close();
    }
  },
});

Deno.test({
  name: "spend-cap prices a mapped Azure deployment at its model and refuses what the budget cannot hold",
  ...SANITIZE,
  async fn() {
    const fake = await startFakeProvider();
    const db = openSqlite(":memory:");
    await migrate(db);
    // A hundredth of a cent: less than any gpt-5 request's ceiling, so a priced request must be refused.
    const budgets = [{ scope: "provider:azure", usd: 0.0001, period: "day" }];
    await using gw = await startTestGateway({
      config: {
        intercept: [AZURE],
        azure: { deployments: { "mapped-chat": AZURE_MODEL } },
        policies: [{ use: "spend-cap", options: { budgets } }],
      },
      overrides: { [AZURE]: fake.url },
      parsers: providerParsers,
      services: createPolicyServices(db),
    });
    try {
      const mapped = await send(gw, chat("mapped-chat"), MESSAGES);
      assert.equal(mapped.status, 400, JSON.stringify(mapped.body));
      assert.match(
        mapped.body.error!.message,
        /budget of \$0\.0001 for provider:azure .* could cost up to \$0\.0\d+/,
      );
      // Unpriced (the deployment name is no model) is let through unreserved, as the default says.
      assert.equal((await send(gw, chat("unmapped-chat"), MESSAGES)).status, 200);
    } finally {
      await fake.close();
      await db.close();
    }
  },
});
