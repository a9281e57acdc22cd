import assert from "node:assert/strict";
import { makeExchange } from "../policies/testing.ts";
import { createModelAliases } from "../providers/model_aliases.ts";
import { learnAliasModel, modelAliasResolver, type ProviderAliases } from "./model_alias_view.ts";

const HOST = "myres.openai.azure.com";

function aliasesWith(azure: Record<string, string>, bedrock: Record<string, string> = {}): ProviderAliases {
  return { azure: createModelAliases(() => azure), bedrock: createModelAliases(() => bedrock) };
}

function azure(path: string, json?: unknown) {
  const made = makeExchange({ host: HOST, path, json });
  made.exchange.provider = "azure";
  return made;
}

Deno.test("an Azure view gets the deployment's model; a changed body model is resolved again", () => {
  const aliases = aliasesWith({ prod: "gpt-5", mini: "gpt-5-mini" });
  const { exchange, request } = azure("/openai/v1/responses", { model: "prod" });
  const resolve = modelAliasResolver(exchange, aliases);
  const first = resolve(request);
  assert.equal(first.model, "gpt-5");
  // A route patch spreads the resolved view: its stale model must not survive the new body.
  assert.equal(resolve({ ...first, json: { model: "mini" } }).model, "gpt-5-mini");
  assert.equal(resolve({ ...first, json: { model: "unknown" } }).model, null);
});

Deno.test("other providers' views pass unchanged, and only Azure answers are learned", () => {
  const aliases = aliasesWith({ prod: "gpt-5" });
  const { exchange, request } = makeExchange({ json: { model: "unlisted" } });
  assert.equal(modelAliasResolver(exchange, aliases)(request), request);
  // An Anthropic answer teaches no alias, under either provider's aliases.
  learnAliasModel(exchange, { aliases, requestJson: request.json, model: "claude-sonnet-4-5" });
  assert.equal(aliases.azure.modelOf("api.anthropic.com", "unlisted"), null);
  assert.equal(aliases.bedrock.modelOf("api.anthropic.com", "unlisted"), null);

  const path = "/openai/deployments/canary/chat/completions?api-version=2024-10-21";
  const turn = azure(path);
  learnAliasModel(turn.exchange, { aliases, requestJson: undefined, model: "gpt-5-2025-08-07" });
  assert.equal(modelAliasResolver(turn.exchange, aliases)(turn.request).model, "gpt-5-2025-08-07");
});

Deno.test("a Bedrock application profile resolves from the config, else from what its answer reported", () => {
  const mapped = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/mapped";
  const other = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/other";
  const aliases = aliasesWith({}, { [mapped]: "us.anthropic.claude-opus-4-1-20250805-v1:0" });
  const bedrock = (arn: string) => {
    const made = makeExchange({
      host: "bedrock-runtime.us-east-1.amazonaws.com",
      path: `/model/${encodeURIComponent(arn)}/invoke`,
    });
    made.exchange.provider = "bedrock";
    return made;
  };
  const first = bedrock(mapped);
  assert.equal(
    modelAliasResolver(first.exchange, aliases)(first.request).model,
    "us.anthropic.claude-opus-4-1-20250805-v1:0",
  );
  const unknown = bedrock(other);
  assert.equal(modelAliasResolver(unknown.exchange, aliases)(unknown.request).model ?? null, null);
  learnAliasModel(unknown.exchange, { aliases, requestJson: undefined, model: "claude-sonnet-4-5-20250929" });
  assert.equal(
    modelAliasResolver(unknown.exchange, aliases)(unknown.request).model,
    "claude-sonnet-4-5-20250929",
  );
});
