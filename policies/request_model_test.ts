import assert from "node:assert/strict";
import { pathModel, requestModel } from "./request_model.ts";

Deno.test("the request's model: the gateway's resolution first, then the body, then the path", () => {
  const path = "/v1beta/models/gemini-2.5-pro:streamGenerateContent";
  assert.equal(requestModel({ path, json: undefined }), "gemini-2.5-pro");
  assert.equal(requestModel({ path: "/openai/v1/responses", json: { model: "canary" } }), "canary");
  assert.equal(
    requestModel({ path: "/openai/v1/responses", json: { model: "canary" }, model: "gpt-5" }),
    "gpt-5",
  );
  assert.equal(
    requestModel({ path: "/openai/v1/responses", json: { model: "canary" }, model: null }),
    "canary",
  );
});

Deno.test("a Bedrock path names its model id or profile, never an application inference profile's opaque id", () => {
  const encoded = (id: string) => `/model/${encodeURIComponent(id)}/invoke-with-response-stream`;
  assert.equal(
    pathModel(encoded("us.anthropic.claude-sonnet-4-5-20250929-v1:0")),
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
  );
  assert.equal(
    pathModel(
      encoded(
        "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-haiku-4-5-20251001-v1:0",
      ),
    ),
    "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
  );
  assert.equal(
    pathModel(encoded("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3")),
    null,
  );
});
