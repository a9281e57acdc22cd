import assert from "node:assert/strict";
import { createModelAliases, requestAlias, requestDeployment } from "./model_aliases.ts";

Deno.test("a configured deployment resolves from the first request, a host-specific entry before a plain one", () => {
  const models = createModelAliases(() => ({
    "prod-chat": "gpt-4o",
    "eu.openai.azure.com/prod-chat": "gpt-4.1",
  }));
  assert.equal(models.modelOf("us.openai.azure.com", "prod-chat"), "gpt-4o");
  assert.equal(models.modelOf("EU.openai.azure.com:443", "prod-chat"), "gpt-4.1");
  assert.equal(models.modelOf("us.openai.azure.com", "other"), null);
});

Deno.test("an unmapped deployment is learned per resource host from its responses, the config still winning", () => {
  let configured: Record<string, string> = {};
  const models = createModelAliases(() => configured);
  models.learn("a.openai.azure.com", "canary", "gpt-5-2025-08-07");
  assert.equal(models.modelOf("a.openai.azure.com", "canary"), "gpt-5-2025-08-07");
  assert.equal(models.modelOf("b.openai.azure.com", "canary"), null, "another resource's deployment");
  configured = { canary: "gpt-5-mini" }; // a reload maps it: the config wins over what was learned
  assert.equal(models.modelOf("a.openai.azure.com", "canary"), "gpt-5-mini");
});

Deno.test("learned deployments are bounded: the oldest is forgotten first", () => {
  const models = createModelAliases(() => ({}));
  for (let i = 0; i <= 4096; i++) models.learn("r.openai.azure.com", `d${i}`, "gpt-4o");
  assert.equal(models.modelOf("r.openai.azure.com", "d0"), null);
  assert.equal(models.modelOf("r.openai.azure.com", "d1"), "gpt-4o");
  assert.equal(models.modelOf("r.openai.azure.com", "d4096"), "gpt-4o");
});

Deno.test("the deployment comes from the path, else from the body's model on the /openai/v1 paths", () => {
  assert.equal(
    requestDeployment("/openai/deployments/prod%20chat/chat/completions?api-version=2024-10-21", {
      model: "x",
    }),
    "prod chat",
  );
  assert.equal(requestDeployment("/openai/v1/responses", { model: "canary" }), "canary");
  assert.equal(requestDeployment("/openai/v1/responses", undefined), null);
  assert.equal(requestDeployment("/openai/v1/responses", { model: 5 }), null);
});

Deno.test("a Bedrock application inference profile ARN is an alias; model ids and system profiles are not", () => {
  const app = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6";
  const path = (id: string) => `/model/${encodeURIComponent(id)}/invoke-with-response-stream`;
  assert.equal(requestAlias("bedrock", path(app), undefined), app);
  assert.equal(
    requestAlias("bedrock", path("us.anthropic.claude-sonnet-4-5-20250929-v1:0"), undefined),
    null,
  );
  const system =
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0";
  assert.equal(requestAlias("bedrock", path(system), undefined), null);
  assert.equal(requestAlias("azure", "/openai/v1/responses", { model: "prod" }), "prod");
  assert.equal(requestAlias("openai", "/v1/responses", { model: "gpt-5" }), null);
});
