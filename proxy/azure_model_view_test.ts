import assert from "node:assert/strict";
import { makeExchange } from "../policies/testing.ts";
import { createAzureDeploymentModels } from "../providers/azure_deployments.ts";
import { azureModelResolver, learnAzureModel } from "./azure_model_view.ts";

const HOST = "myres.openai.azure.com";

function azure(path: string, json?: unknown) {
  const made = makeExchange({ host: HOST, path, json });
  made.exchange.provider = "azure";
  return made;
}

Deno.test("an Azure view gets the deployment's model; a changed body model is resolved again", () => {
  const models = createAzureDeploymentModels(() => ({ prod: "gpt-5", mini: "gpt-5-mini" }));
  const { exchange, request } = azure("/openai/v1/responses", { model: "prod" });
  const resolve = azureModelResolver(exchange, models);
  const first = resolve(request);
  assert.equal(first.model, "gpt-5");
  // A route patch spreads the resolved view: its stale model must not survive the new body.
  assert.equal(resolve({ ...first, json: { model: "mini" } }).model, "gpt-5-mini");
  assert.equal(resolve({ ...first, json: { model: "unknown" } }).model, null);
});

Deno.test("other providers' views pass unchanged, and only Azure answers are learned", () => {
  const models = createAzureDeploymentModels(() => ({ prod: "gpt-5" }));
  const { exchange, request } = makeExchange({ json: { model: "prod" } });
  assert.equal(azureModelResolver(exchange, models)(request), request);
  learnAzureModel(exchange, { models, requestJson: request.json, model: "claude-sonnet-4-5" });
  assert.equal(models.modelOf("api.anthropic.com", "prod"), "gpt-5");

  const path = "/openai/deployments/canary/chat/completions?api-version=2024-10-21";
  const turn = azure(path);
  learnAzureModel(turn.exchange, { models, requestJson: undefined, model: "gpt-5-2025-08-07" });
  assert.equal(azureModelResolver(turn.exchange, models)(turn.request).model, "gpt-5-2025-08-07");
});
