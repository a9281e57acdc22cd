import assert from "node:assert/strict";
import { clientExchange, clientExchangeFiles } from "./_testing.ts";
import { azureDeployment, detectApi, providerOfHost } from "./detect.ts";

function api(host: string, method: string, path: string, ws = false): string | null {
  const match = detectApi(host, method, path, ws);
  return match
    ? `${match.provider} ${match.api}${match.isModelTurn ? " turn" : ""}${
      match.pathModel ? ` ${match.pathModel}` : ""
    }`
    : null;
}

Deno.test("Anthropic: Messages with ?beta=true is a turn; count_tokens and Claude Code's side calls are not", () => {
  assert.equal(
    api("api.anthropic.com", "POST", "/v1/messages?beta=true"),
    "anthropic anthropic.messages turn",
  );
  assert.equal(api("API.Anthropic.com:443", "post", "/v1/messages/"), "anthropic anthropic.messages turn");
  assert.equal(
    api("api.anthropic.com", "POST", "/v1/messages/count_tokens?beta=true"),
    "anthropic anthropic.count_tokens",
  );
  assert.equal(api("api.anthropic.com", "GET", "/api/claude_code/settings"), "anthropic anthropic.auxiliary");
  assert.equal(api("api.anthropic.com", "GET", "/v1/messages"), "anthropic anthropic.auxiliary");
});

Deno.test("OpenAI: Responses over HTTP and WebSocket, Codex on chatgpt.com, Chat Completions", () => {
  assert.equal(api("api.openai.com", "POST", "/v1/responses"), "openai openai.responses turn");
  assert.equal(api("api.openai.com", "GET", "/v1/responses", true), "openai openai.responses_ws turn");
  assert.equal(api("chatgpt.com", "POST", "/backend-api/codex/responses"), "openai openai.responses turn");
  assert.equal(
    api("chatgpt.com", "GET", "/backend-api/codex/responses", true),
    "openai openai.responses_ws turn",
  );
  assert.equal(api("api.openai.com", "POST", "/v1/chat/completions"), "openai openai.chat_completions turn");
  assert.equal(api("api.openai.com", "GET", "/v1/models"), "openai openai.auxiliary");
  assert.equal(api("chatgpt.com", "GET", "/backend-api/codex/models"), "openai openai.auxiliary");
});

Deno.test("Gemini: the method after the colon decides, and the model comes from the path", () => {
  assert.equal(
    api(
      "generativelanguage.googleapis.com",
      "POST",
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    ),
    "google google.stream_generate turn gemini-2.5-flash",
  );
  assert.equal(
    api("generativelanguage.googleapis.com", "POST", "/v1/models/gemini-2.5-pro:generateContent"),
    "google google.generate turn gemini-2.5-pro",
  );
  assert.equal(
    api("generativelanguage.googleapis.com", "POST", "/v1beta/models/gemini-2.5-pro:countTokens"),
    "google google.auxiliary",
  );
});

Deno.test("Code Assist: /v1internal:streamGenerateContent and :generateContent are turns, the rest is not", () => {
  assert.equal(
    api("cloudcode-pa.googleapis.com", "POST", "/v1internal:streamGenerateContent?alt=sse"),
    "google google.code_assist_stream_generate turn",
  );
  assert.equal(
    api("cloudcode-pa.googleapis.com", "POST", "/v1internal:generateContent"),
    "google google.code_assist_generate turn",
  );
  assert.equal(
    api("cloudcode-pa.googleapis.com", "POST", "/v1internal:loadCodeAssist"),
    "google google.auxiliary",
  );
  assert.equal(
    api("cloudcode-pa.googleapis.com", "POST", "/v1internal:countTokens"),
    "google google.auxiliary",
  );
});

Deno.test("Vertex AI: Claude speaks Messages through rawPredict, Gemini through generateContent", () => {
  const base = "/v1/projects/p1/locations/us-east5/publishers";
  assert.equal(
    api(
      "us-east5-aiplatform.googleapis.com",
      "POST",
      `${base}/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict`,
    ),
    "anthropic anthropic.messages turn claude-sonnet-4-5@20250929",
  );
  assert.equal(
    api("us-east5-aiplatform.googleapis.com", "POST", `${base}/anthropic/models/count-tokens:rawPredict`),
    "anthropic anthropic.count_tokens",
  );
  assert.equal(
    api(
      "aiplatform.googleapis.com",
      "POST",
      `${base}/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse`,
    ),
    "google google.stream_generate turn gemini-2.5-pro",
  );
  assert.equal(
    api(
      "aiplatform.googleapis.com",
      "POST",
      "/v1/projects/p1/locations/global/publishers/anthropic/models/claude-opus-4-5@20251101:rawPredict",
    ),
    "anthropic anthropic.messages turn claude-opus-4-5@20251101",
  );
});

Deno.test("Vertex AI: Gemini CLI's project paths and express mode (API key, no project) are both turns", () => {
  assert.equal(
    api(
      "us-east5-aiplatform.googleapis.com",
      "POST",
      "/v1beta1/projects/p1/locations/us-east5/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    ),
    "google google.stream_generate turn gemini-2.5-flash",
  );
  assert.equal(
    api(
      "aiplatform.googleapis.com",
      "POST",
      "/v1beta1/publishers/google/models/gemini-2.5-flash:generateContent",
    ),
    "google google.generate turn gemini-2.5-flash",
  );
  assert.equal(
    api(
      "us-east5-aiplatform.googleapis.com",
      "POST",
      "/v1/projects/p1/locations/us-east5/publishers/google/models/gemini-2.5-flash:countTokens",
    ),
    "google google.auxiliary",
  );
});

Deno.test("Vertex AI hosts are the global one and the regional ones, no other name ending alike", () => {
  assert.equal(providerOfHost("aiplatform.googleapis.com"), "google");
  assert.equal(providerOfHost("europe-west1-aiplatform.googleapis.com:443"), "google");
  assert.equal(providerOfHost("notaiplatform.googleapis.com"), "unknown");
});

Deno.test("Azure OpenAI: deployment, v1 and preview paths on both Azure hosts; the deployment is no model", () => {
  for (const host of ["acme.openai.azure.com", "acme-foundry.cognitiveservices.azure.com:443"]) {
    assert.equal(
      api(host, "POST", "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21"),
      "azure openai.chat_completions turn",
    );
    assert.equal(
      api(host, "POST", "/openai/deployments/gpt-5-prod/responses?api-version=2025-04-01-preview"),
      "azure openai.responses turn",
    );
    assert.equal(
      api(host, "POST", "/openai/v1/responses?api-version=preview"),
      "azure openai.responses turn",
    );
    assert.equal(
      api(host, "POST", "/openai/responses?api-version=2025-04-01-preview"),
      "azure openai.responses turn",
    );
    assert.equal(api(host, "GET", "/openai/v1/responses", true), "azure openai.responses_ws turn");
    assert.equal(api(host, "POST", "/openai/v1/chat/completions"), "azure openai.chat_completions turn");
    assert.equal(api(host, "GET", "/openai/v1/models"), "azure openai.auxiliary");
  }
  assert.equal(
    azureDeployment("/openai/deployments/gpt%2D4o%20prod/chat/completions?api-version=2024-10-21"),
    "gpt-4o prod",
  );
  assert.equal(azureDeployment("/openai/v1/responses"), null);
});

Deno.test("OpenRouter: Chat Completions and Responses under /api/v1 are turns, the rest auxiliary", () => {
  assert.equal(
    api("openrouter.ai", "POST", "/api/v1/chat/completions"),
    "openrouter openai.chat_completions turn",
  );
  assert.equal(api("OpenRouter.ai:443", "POST", "/api/v1/responses/"), "openrouter openai.responses turn");
  assert.equal(api("openrouter.ai", "GET", "/api/v1/models"), "openrouter openai.auxiliary");
  assert.equal(api("openrouter.ai", "GET", "/api/v1/generation?id=gen-1"), "openrouter openai.auxiliary");
  assert.equal(providerOfHost("openrouter.ai.evil.test"), "unknown");
  assert.equal(providerOfHost("eu.openrouter.ai"), "unknown");
});

Deno.test("hosts of no known provider are not detected", () => {
  assert.equal(detectApi("play.googleapis.com", "POST", "/log"), null);
  assert.equal(detectApi("api.anthropic.com.evil.test", "POST", "/v1/messages"), null);
  assert.equal(providerOfHost("openai.azure.com.example"), "unknown");
  assert.equal(providerOfHost("generativelanguage.googleapis.com."), "google");
});

Deno.test("every request the real clients sent is detected as the API it is", () => {
  const expected: [RegExp, string | null][] = [
    [/^POST \/v1\/messages/, "anthropic.messages"],
    [/\/publishers\/anthropic\/models\/[^/]+:(?:rawPredict|streamRawPredict)$/, "anthropic.messages"],
    [/^POST \/openai\/(?:v1\/|deployments\/[^/]+\/)?responses/, "openai.responses"],
    [/^POST \/api\/v1\/chat\/completions/, "openai.chat_completions"],
    [/^POST \/api\/v1\/responses/, "openai.responses"],
    [/^POST \/model\/[^/]+\/invoke-with-response-stream$/, "bedrock.invoke_stream"],
    [/^GET https?:|^GET \/api\/|^POST \/api\//, "anthropic.auxiliary"],
    [/^GET \/v1\/responses/, "openai.responses_ws"],
    [/^POST \/v1\/responses/, "openai.responses"],
    [/^POST \/v1\/chat\/completions/, "openai.chat_completions"],
    [/:streamGenerateContent/, "google.stream_generate"],
    [/:generateContent/, "google.generate"],
    [/^POST \/log/, null],
  ];
  let checked = 0;
  for (const file of clientExchangeFiles()) {
    const exchange = clientExchange(file) as unknown as {
      host: string;
      method: string;
      path: string;
      via: string;
    };
    const line = `${exchange.method} ${exchange.path}`;
    const want = expected.find(([pattern]) => pattern.test(line))?.[1];
    assert.notEqual(want, undefined, `no expectation for ${line}`);
    const match = detectApi(exchange.host, exchange.method, exchange.path, exchange.via === "mitm-upgrade");
    assert.equal(match?.api ?? null, want, `${exchange.host} ${line} (${file})`);
    checked++;
  }
  assert.ok(checked >= 30, `checked ${checked} recorded requests`);
});
